import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultFleet } from '../src/main/core/metrics/simulator/fleet-sim';
import { CLI, startServe } from './harness';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('the serve command', () => {
  it('answers /health with JSON, refuses a foreign Host, and stops cleanly on SIGTERM', async () => {
    const serve = await startServe();
    try {
      const health = await get(`${serve.url}/health`);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', runtime: 'daemon' });
      expect((await get(`${serve.url}/health`, { host: 'evil.example' })).status).toBe(403);
      const page = await get(`${serve.url}/`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<div id="root">');
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('predicts with the bundled model when the --model folder is refused, and /health says why', async () => {
    const serve = await startServe(['--model', '/nonexistent-tft-model', '--provider', 'cpu']);
    try {
      type Health = { status: string; model: { source: string; fallbackReason: string; executionProvider: string } | null };
      const health = async (): Promise<Health> => JSON.parse((await get(`${serve.url}/health`)).body) as Health;
      await expect.poll(async () => (await health()).model?.source, { timeout: 30_000 }).toBe('bundled');
      const h = await health();
      expect(h.status).toBe('degraded');
      expect(h.model?.executionProvider).toBe('cpu');
      expect(h.model?.fallbackReason).toMatch(/preferred model was refused.*\/nonexistent-tft-model.*does not exist/);
      await expect
        .poll(async () => (JSON.parse((await get(`${serve.url}/predictions/current`)).body) as { servers: unknown[] }).servers.length, {
          timeout: 30_000,
        })
        .toBe(20);
    } finally {
      await serve.stop();
    }
  });

  it('--shard K/N: two daemons split a fleet exactly, each predicting and exporting only its own servers', async () => {
    const shards = await Promise.all(
      ['1/2', '2/2'].map((shard) => startServe(['--servers', '12', '--shard', shard, '--provider', 'cpu'])),
    );
    try {
      type Servers = { servers: { name: string }[] };
      const names: string[][] = [];
      for (const serve of shards) {
        const servers = JSON.parse((await get(`${serve.url}/servers`)).body) as Servers;
        names.push(servers.servers.map((s) => s.name).sort());
        // /metrics exports the risk of this shard's servers only, once the first cycle has run.
        let metrics = '';
        for (let i = 0; i < 100 && !metrics.includes('tftmp_incident_risk{'); i++) {
          await new Promise((r) => setTimeout(r, 200));
          metrics = (await get(`${serve.url}/metrics`)).body;
        }
        const exported = [...metrics.matchAll(/^tftmp_incident_risk\{server="([^"]+)"/gm)].map((m) => m[1]!).sort();
        expect(exported).toEqual(names.at(-1));
      }
      const [a, b] = names as [string[], string[]];
      expect(a.length).toBeGreaterThan(0);
      expect(b.length).toBeGreaterThan(0);
      expect(a.filter((n) => b.includes(n))).toEqual([]);
      // Together: the 12 servers the unsharded daemon simulates.
      expect([...a, ...b].sort()).toEqual(defaultFleet(12).map((s) => s.name).sort());
    } finally {
      for (const serve of shards) expect(await serve.stop()).toBe(0);
    }
  });

  it('refuses a malformed --shard, naming what it expects', () => {
    const result = spawnSync(process.execPath, [CLI, 'serve', '--shard', '3/2'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/K must be from 1 to N \(2\), got 3/);
  });

  it('beyond loopback, generates a 0600 token and requires it', async () => {
    const serve = await startServe(['--host', '0.0.0.0']);
    try {
      const url = serve.url.replace('0.0.0.0', '127.0.0.1');
      expect(statSync(join(serve.dataDir, 'daemon-token')).mode & 0o777).toBe(0o600);
      expect((await get(`${url}/health`)).status).toBe(401);
      expect(serve.output()).toContain('/login?token=<token>');
      // The token itself is never printed.
      const token = readFileSync(join(serve.dataDir, 'daemon-token'), 'utf8').trim();
      expect(serve.output()).not.toContain(token);
      expect((await get(`${url}/health`, { authorization: `Bearer ${token}` })).status).toBe(200);
    } finally {
      await serve.stop();
    }
  });

  it.each([
    [['serve', '--port', 'abc'], /--port must be an integer/],
    [['serve', '--bogus'], /Unknown option '--bogus'/],
    [['serve', '--speed', '0'], /--speed must be a number from 1 to 3600/],
    [['serve', '--servers', '0'], /--servers must be an integer from 1 to 100000/],
    [['serve', '--provider', 'tpu'], /--provider must be one of auto, cpu, webgpu, cuda, got "tpu"/],
    [['serve', '--retrain-every', '0.5'], /--retrain-every must be a number of hours from 1 to 720, got "0.5"/],
    [['generate', '--hours', 'soon'], /--hours must be a positive number/],
    [['generate', '--format', 'xlsx'], /--format must be parquet, arrow or csv/],
    [['generate', '--add-server', 'x1:nosuch'], /unknown profile "nosuch"/],
    [['import', '--metric', 'cpu_percent', 'a.csv'], /--server and --metric go together/],
    [['frobnicate'], /Unknown command "frobnicate"/],
    [['train', '--epochs', '0'], /--epochs must be a whole number >= 1, got "0"/],
    [['train', '--resume', 'x', '--seed', '1'], /--resume continues a run with the settings it started with: --seed cannot be given with it/],
    [['train', '--dataset', '/nonexistent-tft-dataset'], /dataset folder \/nonexistent-tft-dataset does not exist/],
    [['train', '--resume', '/nonexistent-tft-run'], /\/nonexistent-tft-run: does not exist/],
  ])('rejects %j with a usage error and exit code 2', (args, message) => {
    const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('prints help', () => {
    const result = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--host');
  });
});

describe('the generate and import commands', () => {
  const tmp = (): string => mkdtempSync(join(tmpdir(), 'tftmp-cli-'));
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

  it('generates a dataset, imports it, and a second import is all duplicates', () => {
    const out = tmp();
    const data = tmp();
    try {
      const gen = cli('generate', '--servers', '7', '--hours', '24', '--output', out, '--seed', '9', '--start', '2026-01-05', '--unseen', '2');
      expect(gen.status, gen.stderr).toBe(0);
      expect(gen.stderr).toMatch(/100%/); // the progress bar, on stderr
      const meta = JSON.parse(readFileSync(join(out, 'metrics_metadata.json'), 'utf8'));
      expect(meta).toMatchObject({ contractVersion: '1.0.0', rows: 9 * 24 * 12, start: '2026-01-05T00:00:00.000Z' });
      const mapping = JSON.parse(readFileSync(join(out, 'server_mapping.json'), 'utf8')) as { servers: { name: string }[] };
      expect(mapping.servers.map((s) => s.name)).toContain('ppml9001');

      const first = cli('import', join(out, 'server_metrics.parquet'), '--data-dir', data);
      expect(first.status, first.stderr).toBe(0);
      expect(first.stderr).toContain(`${(9 * 24 * 12).toLocaleString('en-US')} rows stored`);
      const again = cli('import', join(out, 'server_metrics.parquet'), '--data-dir', data);
      expect(again.stderr).toContain(`0 rows stored, ${9 * 24 * 12} duplicates skipped`);
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('refuses a bad file naming its line and field, and writes nothing', () => {
    const dir = tmp();
    try {
      const good = join(dir, 'good.csv');
      const bad = join(dir, 'bad.csv');
      writeFileSync(good, 'timestamp,server,cpu_percent\n2026-01-05T00:00:00Z,web01,10\n');
      writeFileSync(bad, 'timestamp,server,cpu_percent\n2026-01-05T00:00:00Z,web01,10\n2026-01-05T00:05:00Z,web01,abc\n');
      const result = cli('import', good, bad, '--data-dir', join(dir, 'data'));
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('bad.csv line 3, field cpu_percent: "abc" is not a number');
      expect(result.stderr).toContain('Nothing imported');
      expect(existsSync(join(dir, 'data', 'metrics.sqlite'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the train command', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  const onnxSha = (output: string): string => {
    const [model] = readdirSync(output).filter((n) => n.startsWith('tft_model_'));
    return (JSON.parse(readFileSync(join(output, model!, 'model.json'), 'utf8')) as { onnx: { sha256: string } }).onnx.sha256;
  };

  it('Ctrl-C writes no model and keeps the checkpoint; --resume ends with the model of an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tftmp-cli-train-'));
    try {
      const gen = cli('generate', '--servers', '3', '--hours', '60', '--output', join(dir, 'ds'), '--seed', '7', '--start', '2026-01-05');
      expect(gen.status, gen.stderr).toBe(0);
      const args = ['train', '--dataset', join(dir, 'ds'), '--epochs', '4', '--batch-size', '16', '--max-windows-per-epoch', '32'];
      const full = cli(...args, '--output', join(dir, 'full'));
      expect(full.status, full.stderr).toBe(0);
      expect(full.stdout).toContain('Wrote');
      // No --seed: the default ensemble, one member per default seed.
      expect(full.stdout).toContain('ensemble of 3 (seeds 42, 7, 2024)');

      // The same run, interrupted once its first checkpoint is on disk.
      const cut = join(dir, 'cut');
      const child = spawn(process.execPath, [CLI, ...args, '--output', cut], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const deadline = Date.now() + 60_000;
      for (;;) {
        const runDir = /checkpoints in (\S+)/.exec(stderr)?.[1];
        if (runDir !== undefined && existsSync(join(runDir, 'checkpoint.bin'))) break;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no checkpoint appeared:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
      const match = /nothing written but the checkpoint of member 1's epoch \d, to continue: npm run train -- --resume (\S+)/.exec(stderr);
      expect(match, stderr).not.toBeNull();
      expect(readdirSync(cut)).toEqual(['.checkpoints']);

      const resumed = cli('train', '--resume', match![1]!);
      expect(resumed.status, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(/resuming member 1\/3 after epoch \d of 4/);
      // The checkpoints are spent once the model is written; the model is the uninterrupted run's.
      expect(readdirSync(cut).filter((n) => !n.startsWith('tft_model_'))).toEqual([]);
      expect(onnxSha(cut)).toBe(onnxSha(join(dir, 'full')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
