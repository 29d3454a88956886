import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/*
 * The GPU check must run on the lender with nothing but Node and onnxruntime-node: build the
 * bundle as the lead will, check what it requires, and run it with a NODE_PATH that holds only
 * onnxruntime-node (as .gpu/run-on-device.sh provides). No GPU here: webgpu must fail cleanly.
 */
const root = resolve(__dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'tftmp-gpu-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface GpuCheckOutput {
  check: string;
  problems: string[];
  providersAvailable: { name: string; bundled: boolean }[];
  summary: {
    lstm: string;
    requested: string;
    ran: string | null;
    ok: boolean;
    error?: string;
    reason?: string;
    medianMs: Record<string, number | null>;
    maxAbsDiffVsCpu: Record<string, number> | null;
  }[];
}

describe('scripts/gpu-check', () => {
  it('bundles to one CommonJS file that runs with only onnxruntime-node and prints one JSON object', { timeout: 120_000 }, async () => {
    const { build } = await import('vite');
    const outDir = join(tmp, 'out');
    await build({ configFile: join(root, 'scripts/gpu-check.vite.config.ts'), logLevel: 'silent', build: { outDir } });
    const bundle = join(outDir, 'gpu-check.cjs');

    // Code lines only: protobufjs's doc comments mention require("./compiled.js").
    const code = readFileSync(bundle, 'utf8')
      .split('\n')
      .filter((line) => !/^\s*(\*|\/\/)/.test(line))
      .join('\n');
    const required = new Set([...code.matchAll(/\brequire\((["'])([^"']+)\1\)/g)].map((m) => m[2]!));
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    expect([...required].filter((m) => !builtins.has(m))).toEqual(['onnxruntime-node']);

    const nodePath = join(tmp, 'nm');
    mkdirSync(nodePath);
    for (const pkg of ['onnxruntime-node', 'onnxruntime-common']) symlinkSync(join(root, 'node_modules', pkg), join(nodePath, pkg));
    const run = spawnSync(process.execPath, [bundle], {
      cwd: tmp,
      encoding: 'utf8',
      timeout: 100_000,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: nodePath,
        GPU_CHECK_BATCHES: '2,5',
        GPU_CHECK_CONTEXT: '6',
        GPU_CHECK_HORIZON: '2',
        GPU_CHECK_PROVIDERS: 'cpu,webgpu,auto',
      },
    });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as GpuCheckOutput;
    expect(result.check).toBe('gpu');
    expect(result.problems).toEqual([]);
    expect(result.providersAvailable).toContainEqual({ name: 'webgpu', bundled: true });
    for (const lstm of ['unrolled', 'fused']) {
      const rows = result.summary.filter((r) => r.lstm === lstm);
      const cpu = rows.find((r) => r.requested === 'cpu')!;
      expect(cpu).toMatchObject({ ok: true, ran: 'cpu' });
      expect(cpu.medianMs['2']).toBeGreaterThan(0);
      expect(cpu.medianMs['5']).toBeGreaterThan(0);
      const webgpu = rows.find((r) => r.requested === 'webgpu')!;
      if (webgpu.ok) expect(webgpu.maxAbsDiffVsCpu?.['5']).toBeLessThanOrEqual(1e-4);
      else expect(webgpu).toMatchObject({ ran: 'cpu', error: expect.stringMatching(/^webgpu session could not be created: /) });
      expect(rows.find((r) => r.requested === 'auto')!.reason).toMatch(/^auto: /);
    }
  });
});
