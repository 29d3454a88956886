/**
 * The API under load: `npm run serve` with a 1,000-server simulated fleet, then autocannon
 * (50 connections, 20 s each by default) on GET /predictions/current, plain and with
 * `accept-encoding: gzip`, with GET /health (a small answer) measured the same way in the same
 * run as the baseline. Twice: with the fleet at 1x
 * (no prediction cycle during the run) and at 60x (a fleet step, and so a cycle, every 5 s: the
 * API answers while cycles run).
 *
 *   npm run bench:api
 *   API_BENCH_SECONDS=5 npm run bench:api
 *
 * Prints one JSON line starting with {"bench":"api-load". API_BENCH_OUT=file also writes it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import autocannon from 'autocannon';
import { expect, test } from 'vitest';
import { startServe } from '../e2e/harness';
import { round } from '../src/main/core/util/stats';

const SECONDS = Number(process.env.API_BENCH_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.API_BENCH_CONNECTIONS ?? 50);
const SERVERS = 1_000;

/** CPU time (ms) the daemon process has used, from /proc (Linux); null elsewhere. */
function cpuMsOf(pid: number | undefined): number | null {
  const file = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(file)) return null;
  const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime (fields 14 and 15 of stat; 12 and 13 after the name), in clock ticks (100 Hz on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function load(url: string, pid: number | undefined, headers: Record<string, string> = {}) {
  const cpuBefore = cpuMsOf(pid);
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers });
  const cpuAfter = cpuMsOf(pid);
  return {
    // The daemon's own cost: with gzip, autocannon (the client) is the bottleneck, not the daemon.
    daemonCpuMsPerRequest:
      cpuBefore === null || cpuAfter === null || result.requests.total === 0
        ? null
        : round((cpuAfter - cpuBefore) / result.requests.total, 2),
    requests: result.requests.total,
    requestsPerSecond: round(result.requests.average, 1),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    throughputMBps: round(result.throughput.average / 2 ** 20, 1),
  };
}

/** Waits for a cycle that predicted (nearly) the whole fleet: the first may run while the backfill is still landing. */
async function waitForPredictions(url: string): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const current = (await (await fetch(`${url}/predictions/current`)).json()) as { servers: unknown[] };
    if (current.servers.length > 900) {
      const health = (await (await fetch(`${url}/health`)).json()) as { predictor: { lastCycleMs: number | null } };
      return health.predictor.lastCycleMs ?? 0;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('no prediction cycle over the fleet within 5 minutes');
}

test('API under load', async () => {
  const result: Record<string, unknown> = {
    bench: 'api-load',
    cpus: cpus().length,
    loadAtStart: round(loadavg()[0]!, 2),
    servers: SERVERS,
    connections: CONNECTIONS,
    seconds: SECONDS,
  };
  for (const speed of [1, 60]) {
    const serve = await startServe(['--servers', String(SERVERS), '--speed', String(speed), '--provider', 'cpu'], 120_000);
    try {
      const fullCycleMs = await waitForPredictions(serve.url);
      const body = await (await fetch(`${serve.url}/predictions/current`)).text();
      const servers = (JSON.parse(body) as { servers: unknown[] }).servers.length;
      expect(servers).toBeGreaterThan(900);
      const pid = serve.child.pid;
      const health = await load(`${serve.url}/health`, pid);
      const predictions = await load(`${serve.url}/predictions/current`, pid);
      // What browsers (and most HTTP clients) ask for: the cycle's answer gzipped once, ~4x smaller.
      const gzipped = await load(`${serve.url}/predictions/current`, pid, { 'accept-encoding': 'gzip' });
      for (const run of [predictions, gzipped]) {
        expect(run.non2xx).toBe(0);
        expect(run.errors).toBe(0);
      }
      const after = (await (await fetch(`${serve.url}/health`)).json()) as { predictor: { cycles: number } };
      result[`speed${speed}`] = {
        fullCycleMs,
        predictedServers: servers,
        responseKB: round(Buffer.byteLength(body) / 1024, 0),
        cyclesDuringRun: after.predictor.cycles,
        health,
        predictionsCurrent: predictions,
        predictionsCurrentGzip: gzipped,
      };
    } finally {
      await serve.stop();
    }
  }
  result['loadAtEnd'] = round(loadavg()[0]!, 2);
  const line = JSON.stringify(result);
  console.log(line);
  if (process.env.API_BENCH_OUT) writeFileSync(process.env.API_BENCH_OUT, `${line}\n`);
});
