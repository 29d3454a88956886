import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch, METRIC_BY_NAME, METRIC_NAMES, STEP_MS } from '@shared/contract';
import { PrometheusSourceInputSchema, type FleetServers, type FleetStatus, type SourceInfo, type SourceTestResult } from '@shared/domain';
import { prometheusFromFlags as prometheusSource } from './cli-flags';
import { createCore, type Core } from '../../app';
import { openStore } from '../../store';
import { createMemoryLogger } from '../../util/logger';
import { PrometheusSource } from './prometheus-source';
import { missingBinaries, startRealStack, type RealStack } from './testing/real-prometheus';

/**
 * Against a real Prometheus scraping a real node_exporter (every second). A fresh Prometheus has
 * about a minute of history, and the store keeps the 5-minute grid: the source's clock is set to
 * the next grid mark, a moment ahead of the wall clock, so that mark's evaluation (rate over the
 * 5 minutes before it, the latest sample within Prometheus's 5-minute lookback) sees the scrapes
 * that exist. Everything else is real: PromQL, HTTP, parsing, mapping, the SQLite store.
 */
const skip = missingBinaries(['prometheus', 'nodeExporter']);
if (skip) console.warn(`prometheus-source.real.test: ${skip}`);

let stack: RealStack;
let dir: string;
const TOKEN = 'sekret-bearer-token-123';
const nextMark = (): number => Math.ceil((Date.now() + 1) / STEP_MS) * STEP_MS;

/**
 * The next grid mark, once the 5 minutes before it hold a few scrapes (one a second). Just after
 * a mark the next one is 5 minutes ahead, and a rate over the window ending there would have at
 * most one sample yet: the rate-based metrics (CPU, iowait, network) would be missing.
 */
async function markWithScrapes(): Promise<number> {
  const mark = nextMark();
  const wait = mark - STEP_MS + 5_000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  return mark;
}

describe.skipIf(skip !== null)('Prometheus source against a real Prometheus and node_exporter', () => {
  let promStart = 0;
  beforeAll(async () => {
    promStart = Date.now();
    stack = await startRealStack();
    await stack.waitForScrapes(5);
    dir = mkdtempSync(join(tmpdir(), 'tftmp-prom-src-'));
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const config = (over: Record<string, unknown> = {}) =>
    PrometheusSourceInputSchema.parse({ url: stack.prometheusUrl, backfillHours: 1, profileLabel: 'tftmp_profile', ...over });

  /** What node_exporter itself says, for comparison. */
  async function exporterValue(name: string): Promise<number> {
    const text = await (await fetch(`${stack.nodeExporterUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    if (!line) throw new Error(`${name} not exported`);
    return Number(line.split(' ')[1]);
  }

  it('backfills with query_range: real series -> server "127.0.0.1" -> rows in a real store within the contract ranges', async () => {
    const store = openStore(join(dir, 'backfill.sqlite'));
    try {
      const mark = await markWithScrapes();
      const logger = createMemoryLogger();
      const source = new PrometheusSource({ config: config(), token: TOKEN, store, logger, now: () => mark });
      const result = await source.sync();
      expect(result.mode).toBe('range');
      expect(result.problems).toEqual([]);
      const servers = store.listServers();
      expect(servers.map((s) => [s.name, s.profile])).toEqual([['127.0.0.1', 'database']]);
      const rows = store.querySamples('127.0.0.1', mark - 3_600_000, mark + 1);
      // Steps before Prometheus had data are missing (no rows), not zeros.
      for (let i = 0; i < rows.length; i++) expect(rows.timestamp[i]!).toBeGreaterThan(promStart - STEP_MS);
      const last = rows.length - 1;
      expect(rows.timestamp[last]).toBe(mark);
      for (const name of METRIC_NAMES) {
        const column = rows.metrics[name];
        if (name === 'latency_ms' || name === 'error_rate') {
          expect(column.present[last], name).toBe(0);
          continue;
        }
        expect(column.present[last], `${name} present`).toBe(1);
        const value = column.values[last]!;
        expect(value, name).toBeGreaterThanOrEqual(METRIC_BY_NAME[name].min);
        expect(value, name).toBeLessThanOrEqual(METRIC_BY_NAME[name].max);
      }
      // The values are node_exporter's, in contract units.
      const memory = 100 * (1 - (await exporterValue('node_memory_MemAvailable_bytes')) / (await exporterValue('node_memory_MemTotal_bytes')));
      expect(rows.metrics.memory_percent.values[last]).toBeCloseTo(memory, 0);
      expect(Math.abs(rows.metrics.load_average.values[last]! - (await exporterValue('node_load1')))).toBeLessThan(1);
      expect(rows.metrics.cpu_percent.values[last]).toBeGreaterThan(0);
      expect(source.health().backfill).toMatchObject({ rows: rows.length });
      console.info(`backfill (1 h, 8 queries, ${rows.length} rows): ${result.ms.toFixed(1)} ms`);
      // The token is never logged.
      expect(JSON.stringify(logger.records)).not.toContain(TOKEN);
    } finally {
      store.close();
    }
  });

  it('polls the next step with an instant query and resumes where it stopped without rewriting', async () => {
    const store = openStore(join(dir, 'poll.sqlite'));
    try {
      const mark = await markWithScrapes();
      let clock = mark - STEP_MS;
      const source = new PrometheusSource({ config: config({ profileLabel: null }), token: null, store, logger: createMemoryLogger(), now: () => clock });
      const first = await source.sync();
      expect(first.mode).toBe('range');
      clock = mark;
      const poll = await source.sync();
      expect(poll.mode).toBe('instant');
      expect(poll.rows).toBe(1);
      expect(poll.accepted).toBe(1);
      expect(store.listServers().map((s) => [s.name, s.profile])).toEqual([['127.0.0.1', 'generic']]);
      console.info(`live poll (8 instant queries, 1 server): ${poll.ms.toFixed(1)} ms`);
      // Nothing new until the next grid step, also for a new source object on the same store (a restart).
      expect((await source.sync()).mode).toBe('none');
      const restarted = new PrometheusSource({ config: config({ profileLabel: null }), token: null, store, logger: createMemoryLogger(), now: () => clock });
      expect((await restarted.sync()).mode).toBe('none');
      expect(store.rejectionCounters()).toEqual({ conflict: 0, out_of_order: 0, future: 0, invalid: 0 });
    } finally {
      store.close();
    }
  });

  it('names the metric and Prometheus\'s own error for a bad query, and a dry test reports it without writing', async () => {
    const store = openStore(join(dir, 'bad.sqlite'));
    try {
      const source = new PrometheusSource({
        config: config({ queries: { latency_ms: 'sum(rate(http_requests_total[5m]) by (' } }),
        token: null,
        store,
        logger: createMemoryLogger(),
        now: nextMark,
      });
      await expect(source.sync()).rejects.toThrow(/^latency_ms: \/api\/v1\/query_range: HTTP 400: Prometheus answered bad_data: .*parse error/);
      const test = await source.test();
      expect(test.ok).toBe(false);
      expect(test.problems[0]!.reason).toMatch(/latency_ms: .*bad_data/);
      expect(store.listServers()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('says why when Prometheus does not answer in time', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer(() => undefined);
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const store = openStore(join(dir, 'slow.sqlite'));
    try {
      const source = new PrometheusSource({
        config: config({ url: `http://127.0.0.1:${port}`, timeoutMs: 300 }),
        token: null,
        store,
        logger: createMemoryLogger(),
      });
      await expect(source.sync()).rejects.toThrow('cpu_percent: /api/v1/query_range: no answer within 300 ms');
    } finally {
      store.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('through the core: configure, test, health in fleet.status, servers go stale while Prometheus is down, retries with backoff, recovers', async () => {
    let clock = await markWithScrapes();
    const logger = createMemoryLogger();
    const dataDir = join(dir, 'core');
    const core: Core = createCore({
      dataDir,
      runtime: 'daemon',
      logger,
      heartbeatMs: 0,
      simulator: null,
      model: null,
      now: () => new Date(clock),
      sourceBackoffMs: 200,
    });
    const call = <T,>(method: string, input: unknown): Promise<T> =>
      dispatch(core, method, input, { transport: 'in-process' }, { validateOutput: true }) as Promise<T>;
    try {
      const input = { url: stack.prometheusUrl, token: TOKEN, backfillHours: 1, pollSeconds: 1 };
      const tested = await call<SourceTestResult>('sources.test', input);
      expect(tested.ok).toBe(true);
      expect(tested.servers).toEqual([expect.objectContaining({ server: '127.0.0.1', instance: stack.nodeExporterInstance, profile: 'generic' })]);
      expect(Object.keys(tested.servers[0]!.metrics).sort()).toEqual(METRIC_NAMES.filter((m) => m !== 'latency_ms' && m !== 'error_rate').sort());
      expect((await call<FleetServers>('fleet.servers', {})).servers).toEqual([]);

      const info = await call<SourceInfo>('sources.configure', input);
      expect(info).toMatchObject({ id: 'prometheus', tokenSet: true, url: stack.prometheusUrl });
      expect(JSON.stringify(info)).not.toContain(TOKEN);
      expect(statSync(join(dataDir, 'sources.json')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dataDir, 'sources.json'), 'utf8')).toContain(TOKEN);

      await waitFor(async () => (await call<FleetServers>('fleet.servers', {})).servers.length === 1, 15_000);
      const server = (await call<FleetServers>('fleet.servers', {})).servers[0]!;
      expect(server).toMatchObject({ name: '127.0.0.1', reporting: true });
      expect(server.health).not.toBe('stale');
      const status = await call<FleetStatus>('fleet.status', {});
      expect(status.sources).toEqual([expect.objectContaining({ id: 'prometheus', kind: 'prometheus', state: 'running', speed: null })]);
      expect(status.sources[0]!.detail).toMatch(/1 servers, \d+ series/);

      // Prometheus goes down: the source fails, backs off, and its server goes stale.
      await stack.stopPrometheus();
      clock += 4 * STEP_MS;
      await waitFor(async () => {
        const list = await call<{ sources: SourceInfo[] }>('sources.list', {});
        return list.sources[0]!.health.consecutiveFailures >= 3;
      }, 20_000);
      const failing = (await call<{ sources: SourceInfo[] }>('sources.list', {})).sources[0]!.health;
      expect(failing.state).toBe('failing');
      expect(failing.lastError).toMatch(/connection failed \(ECONNREFUSED\)/);
      expect(Date.parse(failing.nextRetryAt!) - clock).toBe(Math.min(1000, 200 * 2 ** (failing.consecutiveFailures - 1)));
      expect((await call<FleetStatus>('fleet.status', {})).sources[0]!.state).toBe('failing');
      const stale = (await call<FleetServers>('fleet.servers', {})).servers[0]!;
      expect(stale).toMatchObject({ reporting: false, health: 'stale' });

      // Back up: the next retry succeeds and the state returns to running.
      await stack.startPrometheus();
      await waitFor(async () => (await call<{ sources: SourceInfo[] }>('sources.list', {})).sources[0]!.health.state === 'running', 20_000);
      expect(JSON.stringify(logger.records)).not.toContain(TOKEN);

      expect(await call('sources.remove', { id: 'prometheus' })).toEqual({ id: 'prometheus', removed: true });
      expect((await call<{ sources: SourceInfo[] }>('sources.list', {})).sources).toEqual([]);
      await expect(call('sources.remove', { id: 'prometheus' })).rejects.toThrow('No source with id "prometheus"');
      await expect(call('sources.configure', { url: 'ftp://x' })).rejects.toMatchObject({
        code: 'invalid_input',
        issues: [expect.objectContaining({ path: 'url', message: 'must be an http:// or https:// URL' })],
      });
    } finally {
      await core.close();
    }
  }, 90_000);
});

describe.skipIf(skip !== null)('serve --prometheus URL [--prometheus-token-file F] --no-simulator', () => {
  beforeAll(async () => {
    stack = await startRealStack();
    await stack.waitForScrapes(3);
    dir = mkdtempSync(join(tmpdir(), 'tftmp-prom-serve-'));
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('configures the source from the flags and ingests on Prometheus alone', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const input = prometheusSource(stack.prometheusUrl!, tokenFile);
    expect(input).toEqual({ url: stack.prometheusUrl, token: TOKEN });
    expect(() => prometheusSource('ftp://x', undefined)).toThrow('--prometheus must be an http:// or https:// URL, got "ftp://x"');
    expect(() => prometheusSource(undefined, tokenFile)).toThrow('--prometheus-token-file needs --prometheus URL');
    expect(() => prometheusSource(stack.prometheusUrl!, join(dir, 'absent'))).toThrow(/--prometheus-token-file: cannot read/);
    const clock = await markWithScrapes();
    const core = createCore({
      dataDir: join(dir, 'serve'),
      runtime: 'daemon',
      logger: createMemoryLogger(),
      heartbeatMs: 0,
      simulator: null,
      model: null,
      now: () => new Date(clock),
      prometheus: [input!],
    });
    try {
      const call = <T,>(method: string): Promise<T> => dispatch(core, method, {}, { transport: 'in-process' }, { validateOutput: true }) as Promise<T>;
      await waitFor(async () => (await call<FleetServers>('fleet.servers')).servers.length === 1, 15_000);
      const { sources } = await call<{ sources: SourceInfo[] }>('sources.list');
      expect(sources).toEqual([expect.objectContaining({ id: 'prometheus', tokenSet: true, enabled: true })]);
      expect((await call<FleetStatus>('fleet.status')).sources.map((s) => s.kind)).toEqual(['prometheus']);
    } finally {
      await core.close();
    }
  }, 60_000);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

