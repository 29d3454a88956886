import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, ApiError, dispatch, STEP_MS, type EventMessage, type Input, type Method, type Output } from '@shared/contract';
import { healthOf, RISK_BINS, RISK_THRESHOLDS } from '@shared/domain';
import { createCore, STORE_FILE, type Core } from './app';
import type { AlertRecord } from './fleet/alerts';
import { AlertLog } from './fleet/alerts-store';
import { rowsToColumns } from './metrics/columns';
import { bundledModelDir } from './paths';
import { openStore } from './store';
import { createMemoryLogger } from './util/logger';

const BUNDLED = bundledModelDir({ mainDir: resolve(__dirname, '..', '..', '..', 'out', 'main') });
const HOUR = 3_600_000;

let dir: string;
let core: Core | undefined;
afterEach(async () => {
  await core?.close();
  core = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('createCore with the simulated fleet', () => {
  it('backfills the fleet, answers fleet.status and fleet.servers from the store, and publishes fleet.updated', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tftmp-core-'));
    const wall = new Date(Date.UTC(2026, 2, 3, 9, 0));
    core = createCore({
      dataDir: dir,
      runtime: 'test',
      logger: createMemoryLogger(),
      heartbeatMs: 0,
      now: () => wall,
      simulator: { servers: 7, seed: 'x', speed: 1, backfillHours: 2 },
    });
    const updates: EventMessage[] = [];
    core.events.onAny((m) => updates.push(m));
    await core.ready();

    const ctx = { transport: 'in-process' } as const;
    const status = api['fleet.status'].output.parse(await dispatch(core, 'fleet.status', {}, ctx));
    expect(status).toMatchObject({ serversTotal: 7, serversReporting: 7, lastSampleAt: wall.toISOString() });
    expect(status.sources).toEqual([{ id: 'simulator', kind: 'simulator', state: 'running', detail: '7 simulated servers at 1x', speed: 1 }]);

    const servers = api['fleet.servers'].output.parse(await dispatch(core, 'fleet.servers', {}, ctx));
    expect(servers.servers).toHaveLength(7);
    const ml = servers.servers.find((s) => s.name === 'ppml0001')!;
    expect(ml).toMatchObject({ profile: 'ml_compute', reporting: true, lastSeen: wall.toISOString() });
    expect(ml.latest.cpu_percent).toBeGreaterThanOrEqual(0);
    // Generic servers do not report latency: absent, not zero.
    const generic = servers.servers.find((s) => s.profile === 'generic')!;
    expect('latency_ms' in generic.latest).toBe(false);

    const fleetUpdates = updates.filter((m) => m.name === 'fleet.updated');
    expect(fleetUpdates.length).toBeGreaterThan(0);
    expect(fleetUpdates.at(-1)!.payload).toMatchObject({ serversTotal: 7, rejected: 0 });
  });

  it('runs without a simulator when none is configured', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tftmp-core-'));
    core = createCore({ dataDir: dir, runtime: 'test', logger: createMemoryLogger(), heartbeatMs: 0 });
    await core.ready();
    const status = await dispatch(core, 'fleet.status', {}, { transport: 'in-process' });
    expect(status).toMatchObject({ serversTotal: 0, sources: [] });
    // Before any cycle: no fleet probability, an empty histogram, nothing to colour.
    expect(api['fleet.status'].output.parse(status).risk).toEqual({
      health: { healthy: 0, warning: 0, critical: 0, stale: 0, unknown: 0 },
      incidentProbability: null,
      riskHistogram: new Array(RISK_BINS).fill(0),
      thresholds: { warning: 0.3, critical: 0.6 },
      alerts: { warning: 0, critical: 0 },
    });
  });
});

async function call<M extends Method>(method: M, input: Input<M>): Promise<Output<M>> {
  const output = await dispatch(core!, method, input, { transport: 'in-process' }, { validateOutput: true });
  return api[method].output.parse(output) as Output<M>;
}

async function errorOf(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected the call to fail');
}

function alertRecord(id: number, server: string, severity: 'warning' | 'critical', startedAt: number, state: 'open' | 'resolved'): AlertRecord {
  return {
    id,
    server,
    profile: server.startsWith('ppdb') ? 'database' : 'web_api',
    severity,
    state,
    risk: severity === 'critical' ? 0.7 : 0.4,
    peakRisk: 0.75,
    failureMode: 'memory',
    timeToThreshold: null,
    startedAt,
    endedAt: state === 'resolved' ? startedAt + HOUR : null,
    updatedAt: startedAt + HOUR,
    acknowledgedBy: null,
    acknowledgedAt: null,
    calmCycles: 0,
    coolCycles: 0,
  };
}

describe('the dashboard methods on a core with the simulated fleet and the bundled model', () => {
  it('answers risk figures, history, alerts and explanations from the same cycle, the store and the alert book', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tftmp-core-'));
    const wall = Date.UTC(2026, 2, 3, 9, 0);
    // Past alerts in the store before the core opens it: two resolved, one still open.
    {
      const store = openStore(join(dir, STORE_FILE));
      store.ingest(
        rowsToColumns(
          ['ppdb001', 'ppweb001'].map((server) => ({ server, timestamp: wall - 30 * HOUR, metrics: { cpu_percent: 10 } })),
        ),
        { now: wall },
      );
      const ids = new Map(store.listServers().map((s) => [s.name, s.id]));
      new AlertLog(store).write(
        [
          alertRecord(1, 'ppdb001', 'critical', wall - 20 * HOUR, 'resolved'),
          alertRecord(2, 'ppweb001', 'warning', wall - 10 * HOUR, 'resolved'),
          alertRecord(3, 'ppweb001', 'warning', wall - 2 * HOUR, 'open'),
        ],
        ids,
      );
      store.close();
    }
    core = createCore({
      dataDir: dir,
      runtime: 'test',
      logger: createMemoryLogger(),
      heartbeatMs: 0,
      now: () => new Date(wall),
      simulator: { servers: 7, seed: 'dash', speed: 1, backfillHours: 24 },
      model: { bundledDir: BUNDLED, provider: 'cpu', intraOpThreads: 1 },
    });
    await core.ready();
    await core.predictionsIdle();

    const current = await call('predictions.current', {});
    expect(current.servers.length).toBeGreaterThan(0);
    const status = await call('fleet.status', {});
    const servers = await call('fleet.servers', {});
    const active = await call('alerts.active', {});

    // fleet.status: P(any incident) from the cycle's risks, the histogram, the colours of fleet.servers.
    const risks = current.servers.map((p) => p.risk);
    expect(status.risk.incidentProbability).toBeCloseTo(1 - risks.reduce((p, r) => p * (1 - r), 1), 12);
    expect(status.risk.riskHistogram).toHaveLength(RISK_BINS);
    expect(status.risk.riskHistogram.reduce((a, b) => a + b, 0)).toBe(risks.length);
    for (const r of risks) expect(status.risk.riskHistogram[Math.min(RISK_BINS - 1, Math.floor(r * RISK_BINS))]).toBeGreaterThan(0);
    expect(status.risk.thresholds).toEqual(RISK_THRESHOLDS);
    const counts = { healthy: 0, warning: 0, critical: 0, stale: 0, unknown: 0 };
    for (const s of servers.servers) {
      expect(s.health).toBe(healthOf(s.risk, s.reporting));
      counts[s.health]++;
    }
    expect(status.risk.health).toEqual(counts);
    // The two servers seeded 30 h ago belong to the simulated fleet and report again.
    expect(counts.stale).toBe(0);
    expect(status.risk.alerts).toEqual({
      warning: active.alerts.filter((a) => a.severity === 'warning').length,
      critical: active.alerts.filter((a) => a.severity === 'critical').length,
    });
    expect(status.sources[0]).toMatchObject({ kind: 'simulator', speed: 1 });

    // metrics.history: the grid of the last 2 h, ending at fleet time, equal to the newest sample.
    const name = current.servers[0]!.server;
    const history = await call('metrics.history', { server: name, hours: 2 });
    expect(history.times).toHaveLength(24);
    expect(history.stepMinutes).toBe(5);
    expect(history.times.at(-1)).toBe(new Date(wall).toISOString());
    expect(Date.parse(history.times[1]!) - Date.parse(history.times[0]!)).toBe(STEP_MS);
    const latest = servers.servers.find((s) => s.name === name)!.latest;
    expect(history.metrics.cpu_percent.at(-1)).toBe(latest.cpu_percent);
    expect(history.metrics.memory_percent.every((v) => v !== null)).toBe(true);
    expect(history.states.every((v) => v !== null)).toBe(true);
    // Reaching back before the backfill: null where nothing was reported.
    const long = await call('metrics.history', { server: name, hours: 48 });
    expect(long.times).toHaveLength(576);
    expect(long.metrics.cpu_percent[0]).toBeNull();
    expect(long.metrics.cpu_percent.at(-1)).toBe(latest.cpu_percent);

    // predictions.history: the stored cycle matches predictions.current.
    const predicted = await call('predictions.history', { server: name, hours: 24 });
    const last = predicted.points.at(-1)!;
    expect(last).toEqual({
      time: current.time,
      risk: current.servers[0]!.risk,
      failureMode: current.servers[0]!.failureMode,
      model: `${current.model!.name}@${current.model!.version}`,
    });
    expect(predicted.points.map((p) => p.time)).toEqual([...predicted.points.map((p) => p.time)].sort());

    // predictions.explain: the bundled model's variable weights and attention, and sentences.
    const explained = await call('predictions.explain', { server: name });
    expect(explained).toMatchObject({ server: name, time: current.time, unavailable: null });
    const why = explained.explanation!;
    expect(why.risk).toBe(current.servers.find((p) => p.server === name)!.risk);
    for (const kind of ['observed', 'known', 'static'] as const) {
      const share = why.variables.filter((v) => v.kind === kind).reduce((a, v) => a + v.importance, 0);
      expect(share).toBeCloseTo(1, 3);
    }
    expect(why.attention.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    expect(why.attention.times.at(-1)).toBe(current.time);
    expect(why.drivers.length).toBeGreaterThanOrEqual(1);
    expect(why.drivers.length).toBeLessThanOrEqual(3);

    // alerts.list: open ones are exactly alerts.active's; past ones come from the store, newest first.
    const open = await call('alerts.list', { state: 'open' });
    expect([...open.alerts].sort((a, b) => a.id - b.id)).toEqual([...active.alerts].sort((a, b) => a.id - b.id));
    expect(open.total).toBe(active.alerts.length);
    const all = await call('alerts.list', {});
    expect(all.alerts.map((a) => a.id)).toEqual(expect.arrayContaining([1, 2, 3]));
    const starts = all.alerts.map((a) => Date.parse(a.startedAt));
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    expect(all.total).toBe(all.alerts.length);
    const first = all.alerts.find((a) => a.id === 1)!;
    expect(first).toMatchObject({ server: 'ppdb001', severity: 'critical', state: 'resolved', profile: 'database' });
    const limited = await call('alerts.list', { limit: 1 });
    expect(limited.alerts).toEqual([all.alerts[0]]);
    expect(limited.total).toBe(all.total);
    expect((await call('alerts.list', { severity: 'critical', state: 'resolved' })).alerts.map((a) => a.id)).toContain(1);
    expect((await call('alerts.list', { server: 'ppdb001' })).alerts.every((a) => a.server === 'ppdb001')).toBe(true);
    expect((await call('alerts.list', { profile: 'web_api', state: 'resolved' })).alerts.map((a) => a.id)).toContain(2);
    expect((await call('alerts.list', { hours: 12 })).alerts.map((a) => a.id)).not.toContain(1);
    expect((await call('alerts.list', { hours: 12 })).alerts.map((a) => a.id)).toContain(2);

    // trends.fleet: the cycle's risks in the newest buckets, the fleet's metrics all along.
    const trends = await call('trends.fleet', { hours: 24 });
    expect(trends.times).toHaveLength(96);
    const newest = trends.risk.max.findLastIndex((v) => v !== null);
    expect(newest).toBeGreaterThan(90);
    expect(trends.risk.max[newest]).toBeGreaterThanOrEqual(Math.max(...risks) - 1e-12);
    expect(trends.metrics.cpu_percent.mean.every((v) => v !== null)).toBe(true);
    expect(Object.keys(trends.confidence.bandWidth).sort()).toEqual(current.servers[0]!.forecast.map((f) => f.metric).sort());

    // Unknown servers and bad input.
    for (const method of ['metrics.history', 'predictions.history', 'predictions.explain'] as const) {
      const error = await errorOf(call(method, { server: 'no-such-server' }));
      expect(error.code).toBe('not_found');
      expect(error.message).toContain('no-such-server');
    }
    for (const [method, input] of [
      ['metrics.history', { server: name, hours: 0 }],
      ['predictions.history', { server: name, hours: 169 }],
      ['trends.fleet', { hours: 0 }],
      ['alerts.list', { hours: 0 }],
    ] as const) {
      const error = await errorOf(call(method, input));
      expect(error.code).toBe('invalid_input');
      expect(error.issues?.map((i) => i.path)).toEqual(['hours']);
    }
    expect((await errorOf(call('trends.fleet', { bucketMinutes: 1 }))).issues?.map((i) => i.path)).toEqual(['bucketMinutes']);
    expect((await errorOf(call('alerts.list', { state: 'closed' as 'open' }))).issues?.map((i) => i.path)).toEqual(['state']);
  }, 60_000);
});
