import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Test harness: the real Prometheus, node_exporter and Alertmanager (Debian packages
 * `prometheus`, `prometheus-node-exporter`, `prometheus-alertmanager`; .ci/run installs them),
 * each on a free loopback port with a temp config and temp storage. `stop()` kills what it
 * started and removes the temp folder; call it in afterAll.
 */

export const BINARIES = {
  prometheus: '/usr/bin/prometheus',
  nodeExporter: '/usr/bin/prometheus-node-exporter',
  alertmanager: '/usr/bin/prometheus-alertmanager',
} as const;

/** Why the real-Prometheus tests cannot run here, or null when they can. */
export function missingBinaries(which: readonly (keyof typeof BINARIES)[]): string | null {
  const missing = which.filter((k) => !existsSync(BINARIES[k])).map((k) => BINARIES[k]);
  if (missing.length === 0) return null;
  return `skipped: ${missing.join(', ')} not installed (apt-get install -y prometheus prometheus-node-exporter prometheus-alertmanager)`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface Proc {
  name: string;
  child: ChildProcess;
  output: string[];
}

export interface StackOptions {
  nodeExporter?: boolean;
  prometheus?: boolean;
  alertmanager?: boolean;
  /** Prometheus scrape interval (default 1s, so a few seconds give rate() enough samples). */
  scrapeInterval?: string;
}

export interface RealStack {
  dir: string;
  nodeExporterUrl: string | null;
  /** host:port of node_exporter: its `instance` label in Prometheus. */
  nodeExporterInstance: string | null;
  prometheusUrl: string | null;
  alertmanagerUrl: string | null;
  /** Stops Prometheus only (storage kept), to test an outage; `startPrometheus` brings it back on the same port. */
  stopPrometheus(): Promise<void>;
  startPrometheus(): Promise<void>;
  /** Resolves once Prometheus has `samples` scrapes of node_exporter. */
  waitForScrapes(samples: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  /** The processes' output, for a failing test's message. */
  logs(): string;
}

export async function startRealStack(options: StackOptions = {}): Promise<RealStack> {
  const dir = mkdtempSync(join(tmpdir(), 'tftmp-real-prom-'));
  const procs: Proc[] = [];
  const spawnProc = (name: string, bin: string, args: string[]): Proc => {
    const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    const keep = (chunk: Buffer): void => {
      output.push(chunk.toString('utf8'));
      if (output.length > 200) output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const proc = { name, child, output };
    procs.push(proc);
    return proc;
  };
  const kill = async (proc: Proc): Promise<void> => {
    const i = procs.indexOf(proc);
    if (i >= 0) procs.splice(i, 1);
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const logs = (): string => procs.map((p) => `--- ${p.name}\n${p.output.join('').slice(-3000)}`).join('\n');

  let nodeExporterInstance: string | null = null;
  let prometheusPort: number | null = null;
  let prometheus: Proc | null = null;
  let alertmanagerUrl: string | null = null;

  const startPrometheus = async (): Promise<void> => {
    prometheus = spawnProc('prometheus', BINARIES.prometheus, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--log.level=warn',
    ]);
    await waitReady(`http://127.0.0.1:${prometheusPort}/-/ready`, prometheus, 30_000, logs);
  };

  try {
    if (options.nodeExporter !== false) {
      const port = await freePort();
      nodeExporterInstance = `127.0.0.1:${port}`;
      const proc = spawnProc('node_exporter', BINARIES.nodeExporter, [
        `--web.listen-address=${nodeExporterInstance}`,
        '--no-collector.systemd',
        '--log.level=warn',
      ]);
      await waitReady(`http://${nodeExporterInstance}/metrics`, proc, 15_000, logs);
    }
    if (options.prometheus !== false) {
      prometheusPort = await freePort();
      const targets = nodeExporterInstance ? `['${nodeExporterInstance}']` : '[]';
      writeFileSync(
        join(dir, 'prometheus.yml'),
        `global:\n  scrape_interval: ${options.scrapeInterval ?? '1s'}\n  evaluation_interval: 15s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ${targets}\n        labels:\n          tftmp_profile: database\n`,
      );
      await startPrometheus();
    }
    if (options.alertmanager) {
      const port = await freePort();
      writeFileSync(
        join(dir, 'alertmanager.yml'),
        'route:\n  receiver: blackhole\n  group_wait: 1s\n  group_interval: 1s\nreceivers:\n  - name: blackhole\n',
      );
      const proc = spawnProc('alertmanager', BINARIES.alertmanager, [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'alertmanager-data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ]);
      alertmanagerUrl = `http://127.0.0.1:${port}`;
      await waitReady(`${alertmanagerUrl}/-/ready`, proc, 30_000, logs);
    }
  } catch (error) {
    for (const p of [...procs]) await kill(p);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const prometheusUrl = prometheusPort === null ? null : `http://127.0.0.1:${prometheusPort}`;
  return {
    dir,
    nodeExporterUrl: nodeExporterInstance ? `http://${nodeExporterInstance}` : null,
    nodeExporterInstance,
    prometheusUrl,
    alertmanagerUrl,
    stopPrometheus: async () => {
      if (prometheus) await kill(prometheus);
      prometheus = null;
    },
    startPrometheus,
    waitForScrapes: async (samples, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      const query = `count_over_time(up{instance="${nodeExporterInstance}"}[5m])`;
      for (;;) {
        try {
          const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
          const body = (await response.json()) as { data?: { result?: { value: [number, string] }[] } };
          const n = Number(body.data?.result?.[0]?.value[1] ?? 0);
          if (n >= samples) return;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) throw new Error(`Prometheus did not scrape node_exporter ${samples} times in ${timeoutMs} ms\n${logs()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    stop: async () => {
      for (const p of [...procs].reverse()) await kill(p);
      rmSync(dir, { recursive: true, force: true });
    },
    logs,
  };
}

async function waitReady(url: string, proc: Proc, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with code ${proc.child.exitCode}\n${logs()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${proc.name} not ready at ${url} within ${timeoutMs} ms\n${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
