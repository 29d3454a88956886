import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch, type EventMessage, type Method, type Output } from '@shared/contract';
import { AlertSchema, type ServerPrediction } from '@shared/domain';
import { createCore, STORE_FILE, type Core } from '../app';
import { bundledModelDir } from '../paths';
import { openStore, type MetricsStore } from '../store';
import { createMemoryLogger } from '../util/logger';
import { tempDir } from '../store/testing/fixtures';
import {
  AlertBook,
  CRITICAL_RISK,
  RESOLVE_CYCLES,
  RESOLVE_MARGIN,
  severityOf,
  timeToThreshold,
  toAlert,
  WARNING_RISK,
  type AlertCycle,
} from './alerts';
import { AlertLog } from './alerts-store';

const T0 = Date.UTC(2026, 2, 3, 9, 0);
const STEP = 30 * 60_000;
const MIN5 = 5 * 60_000;
const HORIZON = Array.from({ length: 16 }, (_, k) => T0 + (k + 1) * STEP);

function prediction(server: string, risk: number, overrides: Partial<ServerPrediction> = {}): ServerPrediction {
  return {
    server,
    profile: 'database',
    risk,
    failureMode: 'memory',
    failureModes: { none: 0.1, memory: 0.9 },
    knownServer: true,
    coverage: 1,
    forecast: [
      {
        metric: 'memory_percent',
        p10: Array<number>(16).fill(40),
        p50: Array<number>(16).fill(50),
        p90: Array<number>(16).fill(60),
      },
    ],
    ...overrides,
  };
}

/** Cycle i of a run: 5 minutes of fleet time apart. */
function cycle(i: number, ...servers: ServerPrediction[]): AlertCycle {
  return { at: T0 + i * MIN5, horizonTimes: HORIZON, servers };
}

/** Feeds one server's risks, one per cycle; returns the book and every cycle's changes. */
function run(risks: readonly number[], book = new AlertBook()) {
  const changes = risks.map((r, i) => book.apply(cycle(i, prediction('db01', r))));
  return { book, changes };
}

describe('alert thresholds', () => {
  it('are warning at 0.3, critical at 0.6, resolving 0.1 under for 2 cycles', () => {
    expect([WARNING_RISK, CRITICAL_RISK, RESOLVE_MARGIN, RESOLVE_CYCLES]).toEqual([0.3, 0.6, 0.1, 2]);
    expect([0.29, 0.3, 0.59, 0.6, 1].map(severityOf)).toEqual([null, 'warning', 'warning', 'critical', 'critical']);
  });
});

describe('AlertBook', () => {
  it('opens nothing under the warning threshold', () => {
    const { book, changes } = run([0.1, 0.29, 0.2]);
    expect(book.active()).toEqual([]);
    expect(changes.every((c) => c.opened.length + c.updated.length + c.resolved.length === 0)).toBe(true);
  });

  it('opens one alert per server and keeps it (dedup), escalating to critical', () => {
    const { book, changes } = run([0.35, 0.4, 0.7, 0.65]);
    expect(changes[0]!.opened).toHaveLength(1);
    expect(changes.slice(1).every((c) => c.opened.length === 0)).toBe(true);
    const [alert] = book.active();
    expect(book.active()).toHaveLength(1);
    expect(alert).toMatchObject({
      id: 1,
      server: 'db01',
      severity: 'critical',
      risk: 0.65,
      peakRisk: 0.7,
      startedAt: T0,
    });
    expect(alert!.endedAt).toBeNull();
  });

  it('does not flap: a risk hovering around the threshold keeps one alert open', () => {
    const { book, changes } = run([0.31, 0.29, 0.31, 0.25, 0.32, 0.21, 0.3, 0.19, 0.31]);
    expect(changes.flatMap((c) => c.opened)).toHaveLength(1);
    expect(changes.flatMap((c) => c.resolved)).toHaveLength(0);
    expect(book.active()).toHaveLength(1);
  });

  it('resolves only after 2 consecutive cycles under threshold minus 0.1, with its end time', () => {
    // 0.19 once, then back up: the count starts over; then 0.15, 0.1: resolved on the second.
    const { book, changes } = run([0.5, 0.19, 0.25, 0.15, 0.1]);
    expect(changes[2]!.resolved).toHaveLength(0);
    expect(changes[3]!.resolved).toHaveLength(0);
    expect(changes[4]!.resolved).toEqual([
      expect.objectContaining({ id: 1, state: 'resolved', startedAt: T0, endedAt: T0 + 4 * MIN5 }),
    ]);
    expect(book.active()).toEqual([]);
    // A new crossing opens a new alert with a new id.
    const next = book.apply(cycle(5, prediction('db01', 0.45)));
    expect(next.opened.map((a) => a.id)).toEqual([2]);
  });

  it('steps a critical alert down to warning only after 2 cycles under 0.5', () => {
    const { book } = run([0.7, 0.55, 0.45]);
    expect(book.active()[0]!.severity).toBe('critical');
    book.apply(cycle(3, prediction('db01', 0.4)));
    expect(book.active()[0]!.severity).toBe('warning');
  });

  it('keeps the alert of a server missing from a cycle (skipped) as it was', () => {
    const book = new AlertBook();
    book.apply(cycle(0, prediction('db01', 0.5), prediction('web01', 0.05)));
    book.apply(cycle(1, prediction('web01', 0.05)));
    book.apply(cycle(2, prediction('web01', 0.05)));
    expect(book.active().map((a) => [a.server, a.risk])).toEqual([['db01', 0.5]]);
  });

  it('orders active alerts critical first, then by risk', () => {
    const book = new AlertBook();
    book.apply(cycle(0, prediction('a', 0.35), prediction('b', 0.9), prediction('c', 0.5), prediction('d', 0.61)));
    expect(book.active().map((a) => a.server)).toEqual(['b', 'd', 'c', 'a']);
    expect(book.counts()).toEqual({ warning: 2, critical: 2 });
  });

  it('acknowledges by id with who and when; the alert stays open until resolved', () => {
    const { book } = run([0.5]);
    const acked = book.acknowledge(1, 'alice', T0 + 60_000);
    expect(acked).toMatchObject({ changed: true, alert: { acknowledgedBy: 'alice', acknowledgedAt: T0 + 60_000 } });
    // A second acknowledgement keeps the first.
    expect(book.acknowledge(1, 'bob', T0 + 120_000)).toMatchObject({
      changed: false,
      alert: { acknowledgedBy: 'alice' },
    });
    expect(book.acknowledge(99, 'alice', T0)).toBeNull();
    book.apply(cycle(1, prediction('db01', 0.7)));
    expect(book.active()[0]).toMatchObject({ state: 'open', severity: 'critical', acknowledgedBy: 'alice' });
    book.apply(cycle(2, prediction('db01', 0.1)));
    const resolved = book.apply(cycle(3, prediction('db01', 0.1))).resolved;
    expect(resolved[0]).toMatchObject({ state: 'resolved', acknowledgedBy: 'alice' });
    // A resolved alert cannot be acknowledged.
    expect(book.acknowledge(1, 'bob', T0)).toBeNull();
  });

  it('carries the failure mode and the time to threshold, as the contract shape', () => {
    const p50 = Array<number>(16).fill(80);
    p50[5] = 95; // the first step at or over memory's critical 95 %
    p50[9] = 99;
    const book = new AlertBook();
    book.apply(
      cycle(0, prediction('db01', 0.8, { forecast: [{ metric: 'memory_percent', p10: p50, p50, p90: p50 }] })),
    );
    const alert = toAlert(book.active()[0]!);
    expect(AlertSchema.parse(alert)).toEqual(alert);
    expect(alert).toMatchObject({
      failureMode: 'memory',
      severity: 'critical',
      timeToThreshold: { metric: 'memory_percent', threshold: 95, at: new Date(HORIZON[5]!).toISOString() },
      startedAt: new Date(T0).toISOString(),
      acknowledged: null,
    });
  });
});

describe('timeToThreshold', () => {
  const band = (metric: 'memory_percent' | 'latency_ms', p50: number[]) => [{ metric, p10: p50, p50, p90: p50 }];
  it('is null when the P50 never reaches the threshold, or the mode has no metric', () => {
    expect(
      timeToThreshold(
        { failureMode: 'memory', forecast: band('memory_percent', Array<number>(16).fill(94.9)) },
        HORIZON,
      ),
    ).toBeNull();
    expect(
      timeToThreshold({ failureMode: 'none', forecast: band('memory_percent', Array<number>(16).fill(99)) }, HORIZON),
    ).toBeNull();
    // The mode's metric is not among the forecast's targets.
    expect(
      timeToThreshold({ failureMode: 'disk', forecast: band('memory_percent', Array<number>(16).fill(99)) }, HORIZON),
    ).toBeNull();
  });
  it("uses the failure mode's metric and its contract critical threshold", () => {
    const p50 = Array<number>(16).fill(100);
    p50[0] = 1999;
    p50[1] = 2000; // at the threshold counts
    p50[2] = 2500;
    expect(timeToThreshold({ failureMode: 'network', forecast: band('latency_ms', p50) }, HORIZON)).toEqual({
      metric: 'latency_ms',
      threshold: 2000,
      at: HORIZON[1],
    });
  });
});

describe('AlertLog (the store alerts table)', () => {
  let store: MetricsStore | undefined;
  let dir: ReturnType<typeof tempDir> | undefined;
  afterEach(() => {
    store?.close();
    store = undefined;
    if (dir) rmSync(dir.dir, { recursive: true, force: true });
  });

  it('persists alerts and restores the open ones (with acknowledgement and hysteresis) into a new book', () => {
    dir = tempDir('tftmp-alerts-');
    const file = join(dir.dir, 'metrics.sqlite');
    store = openStore(file);
    store.db
      .prepare(
        "INSERT INTO servers (id, name, profile, first_seen, last_seen) VALUES (1, 'db01', 'database', 0, 0), (2, 'web01', 'web_api', 0, 0)",
      )
      .run();
    const ids = new Map([
      ['db01', 1],
      ['web01', 2],
    ]);
    const log = new AlertLog(store);
    const book = new AlertBook();
    const c0 = book.apply(cycle(0, prediction('db01', 0.7), prediction('web01', 0.4, { profile: 'web_api' })));
    log.write(c0.opened, ids);
    log.write([book.acknowledge(1, 'alice', T0 + 1000)!.alert], ids);
    const c1 = book.apply(cycle(1, prediction('db01', 0.7), prediction('web01', 0.1, { profile: 'web_api' })));
    log.write(c1.updated, ids);
    const c2 = book.apply(cycle(2, prediction('db01', 0.7), prediction('web01', 0.1, { profile: 'web_api' })));
    expect(c2.resolved.map((a) => a.server)).toEqual(['web01']);
    log.write([...c2.updated, ...c2.resolved], ids);
    store.close();

    store = openStore(file);
    const rows = store.db
      .prepare('SELECT id, server_id, severity, state, started_at, ended_at, acknowledged_at FROM alerts ORDER BY id')
      .all();
    expect(rows).toEqual([
      {
        id: 1,
        server_id: 1,
        severity: 'critical',
        state: 'open',
        started_at: T0,
        ended_at: null,
        acknowledged_at: T0 + 1000,
      },
      {
        id: 2,
        server_id: 2,
        severity: 'warning',
        state: 'resolved',
        started_at: T0,
        ended_at: T0 + 2 * MIN5,
        acknowledged_at: null,
      },
    ]);
    const restored = new AlertLog(store).load();
    expect(restored.nextId).toBe(3);
    expect(restored.open).toEqual(book.active());
    const again = new AlertBook(restored.open, restored.nextId);
    expect(again.apply(cycle(3, prediction('web01', 0.5, { profile: 'web_api' }))).opened.map((a) => a.id)).toEqual([
      3,
    ]);
  });
});

describe('the alert step of the prediction loop (bundled model, simulated fleet, real store)', () => {
  const BUNDLED = bundledModelDir({ mainDir: join(resolve(__dirname, '..', '..', '..', '..'), 'out', 'main') });
  const WALL = new Date(Date.UTC(2026, 2, 3, 9, 0));
  let dir: ReturnType<typeof tempDir> | undefined;
  let core: Core | undefined;
  afterEach(async () => {
    await core?.close();
    core = undefined;
    if (dir) rmSync(dir.dir, { recursive: true, force: true });
  });
  const start = (): { core: Core; events: EventMessage[] } => {
    core = createCore({
      dataDir: dir!.dir,
      runtime: 'test',
      logger: createMemoryLogger(),
      heartbeatMs: 0,
      now: () => WALL,
      simulator: { servers: 4, seed: 'alert-step', speed: 1, backfillHours: 24 },
      model: { bundledDir: BUNDLED, provider: 'cpu', intraOpThreads: 1 },
    });
    const events: EventMessage[] = [];
    core.events.onAny((m) => events.push(m));
    return { core, events };
  };
  const call = async <M extends Method>(c: Core, method: M): Promise<Output<M>> =>
    (await dispatch(c, method, {}, { transport: 'in-process' }, { validateOutput: true })) as Output<M>;

  it('restores open alerts at start and moves them on with each cycle, as the book would', async () => {
    dir = tempDir('tftmp-alert-step-');
    // A first run fills the store; then every server gets a critical alert, every other one a calm cycle from resolving.
    const first = start().core;
    await first.ready();
    await first.predictionsIdle();
    await first.close();
    core = undefined;
    const store = openStore(join(dir.dir, STORE_FILE));
    const servers = store.listServers();
    const seededAt = WALL.getTime() - 3_600_000;
    const seeded = servers.map((s, i) => ({
      ...new AlertBook([], i + 1).apply(cycle(0, prediction(s.name, 0.9, { profile: s.profile }))).opened[0]!,
      startedAt: seededAt,
      updatedAt: seededAt,
      calmCycles: i % 2 === 0 ? 1 : 0,
    }));
    new AlertLog(store).write(seeded, new Map(servers.map((s) => [s.name, s.id])));
    store.close();

    // The second run restores them; its cycle (same window) decides each one.
    const { core: second, events } = start();
    await second.ready();
    await second.predictionsIdle();
    const current = await call(second, 'predictions.current');
    expect(current.servers).toHaveLength(servers.length);
    const expected = new AlertBook(seeded, seeded.length + 1);
    const changes = expected.apply({
      at: Date.parse(current.predictedAt!),
      horizonTimes: current.horizon.times.map((t) => Date.parse(t)),
      servers: current.servers,
    });
    // Each restored alert either resolved (risk under 0.2 again) or was updated: none is left behind.
    expect(changes.resolved.length + changes.updated.length).toBe(servers.length);
    // This fleet is calm (risks of a few %): the alerts one calm cycle from the end resolve, the others stay open.
    expect(changes.resolved.map((a) => a.id)).toEqual([1, 3]);
    expect(changes.updated.map((a) => [a.id, a.severity, a.calmCycles])).toEqual([
      [2, 'critical', 1],
      [4, 'critical', 1],
    ]);
    const active = await call(second, 'alerts.active');
    expect(active.alerts).toEqual(expected.active().map(toAlert));
    expect(events.filter((m) => m.name === 'alerts.changed').map((m) => m.payload)).toEqual([
      {
        time: current.predictedAt,
        opened: 0,
        updated: changes.updated.length,
        resolved: changes.resolved.length,
        acknowledged: 0,
        active: expected.counts(),
      },
    ]);
    await second.close();
    core = undefined;
    const reopened = openStore(join(dir.dir, STORE_FILE), { readonly: true });
    try {
      const states = reopened.db.prepare('SELECT id, state, ended_at FROM alerts ORDER BY id').all();
      expect(states).toEqual(
        seeded.map((a) => {
          const resolvedNow = changes.resolved.some((r) => r.id === a.id);
          return {
            id: a.id,
            state: resolvedNow ? 'resolved' : 'open',
            ended_at: resolvedNow ? Date.parse(current.predictedAt!) : null,
          };
        }),
      );
    } finally {
      reopened.close();
    }
  });
});
