import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STEP_MS } from '@shared/contract';
import { defaultFleet } from '../metrics/simulator/fleet-sim';
import { openStore, type MetricsStore } from '../store';
import { createMemoryLogger } from '../util/logger';
import { SimulatorSource, type SimulatorSourceOptions } from './simulator-source';

const T0 = Date.UTC(2026, 2, 2, 12, 0, 0); // a Monday noon, on the grid
let dir: string;
let store: MetricsStore;
let wall: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tftmp-simsrc-'));
  store = openStore(join(dir, 'metrics.sqlite'));
  wall = T0;
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function source(overrides: Partial<SimulatorSourceOptions> = {}): SimulatorSource {
  return new SimulatorSource({
    store,
    logger: createMemoryLogger(),
    seed: 's1',
    servers: defaultFleet(7),
    speed: 1,
    backfillHours: 6,
    now: () => wall,
    ...overrides,
  });
}

const rejectedTotal = (): number => Object.values(store.rejectionCounters()).reduce((a, b) => a + b, 0);

describe('SimulatorSource', () => {
  it('backfills the configured history on first start, then follows the clock', async () => {
    const src = source();
    await src.catchUp(Infinity);
    const summary = store.fleetSummary(wall);
    expect(summary.serversTotal).toBe(7);
    expect(summary.newestSampleTs).toBe(T0);
    // 6 h of history plus the step at T0, for every server.
    expect(store.querySamples('ppml0001', 0, T0 + 1).length).toBe(6 * 12 + 1);

    wall += 3 * STEP_MS;
    await src.catchUp(Infinity);
    expect(store.fleetSummary(wall).newestSampleTs).toBe(T0 + 3 * STEP_MS);
    expect(rejectedTotal()).toBe(0);
    src.stop();
  });

  it('runs the fleet clock faster than time, and changes speed without a jump', async () => {
    const src = source({ speed: 60 });
    await src.catchUp(Infinity);
    wall += 10_000; // 10 s of wall time = 10 min of fleet time
    expect(src.fleetTime).toBe(T0 + 600_000);
    await src.catchUp(Infinity);
    expect(store.fleetSummary(src.fleetTime).newestSampleTs).toBe(T0 + 2 * STEP_MS);
    src.setSpeed(1);
    expect(src.fleetTime).toBe(T0 + 600_000);
    wall += 1_000;
    expect(src.fleetTime).toBe(T0 + 601_000);
  });

  it('resumes the same fleet after a restart: no duplicate, no conflict, no gap', async () => {
    const first = source({ speed: 60 });
    await first.catchUp(Infinity);
    wall += 20_000;
    await first.catchUp(Infinity);
    first.stop();
    const newest = store.fleetSummary(wall).newestSampleTs!;
    const before = store.querySamples('ppdb001', 0, newest + 1);

    // Restart a minute later (wall time), at real-time speed.
    wall += 60_000;
    const second = source({ speed: 1 });
    await second.catchUp(Infinity);
    wall += 2 * STEP_MS;
    await second.catchUp(Infinity);
    expect(rejectedTotal()).toBe(0);
    const after = store.querySamples('ppdb001', 0, Number.MAX_SAFE_INTEGER);
    // The fleet clock had run ahead (60x); after the restart it continues from there.
    expect(after.timestamp[after.length - 1]).toBeGreaterThan(newest);
    // The first run's rows are untouched and the series continues step by step.
    expect(Array.from(after.metrics.cpu_percent.values.subarray(0, before.length))).toEqual(
      Array.from(before.metrics.cpu_percent.values.subarray(0, before.length)),
    );
    for (let i = 1; i < after.length; i++) expect(after.timestamp[i]! - after.timestamp[i - 1]!).toBe(STEP_MS);

    // And it is the very series an uninterrupted simulator produces.
    const fresh = mkdtempSync(join(tmpdir(), 'tftmp-simsrc-ref-'));
    const refStore = openStore(join(fresh, 'metrics.sqlite'));
    try {
      const end = after.timestamp[after.length - 1]!;
      wall = T0;
      const ref = new SimulatorSource({ store: refStore, logger: createMemoryLogger(), seed: 's1', servers: defaultFleet(7), speed: 1, backfillHours: 6, now: () => wall });
      wall = end;
      await ref.catchUp(Infinity);
      const refSeries = refStore.querySamples('ppdb001', 0, Number.MAX_SAFE_INTEGER);
      expect(refSeries.length).toBe(after.length);
      expect(Array.from(refSeries.metrics.memory_percent.values.subarray(0, after.length))).toEqual(
        Array.from(after.metrics.memory_percent.values.subarray(0, after.length)),
      );
    } finally {
      refStore.close();
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('starts a new fleet when the seed changes', async () => {
    await source().catchUp(Infinity);
    const record = JSON.parse(store.getMeta('simulator')!) as { seed: string };
    expect(record.seed).toBe('s1');
    wall += STEP_MS;
    const other = source({ seed: 's2' });
    expect(JSON.parse(store.getMeta('simulator')!)).toMatchObject({ seed: 's2' });
    other.stop();
  });

  it('stores the incidents it labels', async () => {
    const src = source({ rates: { incidentsPerWeek: 0, benignPerWeek: 0 } });
    await src.catchUp(Infinity);
    src.sim.force('ppml0001', { type: 'disk_fill', precursorHours: 1 });
    wall += 2 * 3_600_000;
    await src.catchUp(Infinity);
    const incidents = store.listIncidents({});
    expect(incidents.map((i) => [i.server, i.type, i.precursor])).toEqual([['ppml0001', 'disk_fill', true]]);
  });

  it('pauses: the fleet clock stands still, nothing is stepped, and it resumes without a jump', async () => {
    const src = source({ speed: 60 });
    await src.start();
    wall += 10_000; // 10 min of fleet time
    expect(src.fleetTime).toBe(T0 + 600_000);
    src.pause();
    expect(src.getStatus()).toMatchObject({ paused: true, speed: 60, fleetTime: T0 + 600_000 });
    wall += 3_600_000; // an hour of wall time while paused
    expect(src.fleetTime).toBe(T0 + 600_000);
    await src.catchUp(Infinity);
    expect(store.fleetSummary(src.fleetTime).newestSampleTs).toBe(T0 + 2 * STEP_MS);
    src.setSpeed(120); // changing the speed while paused keeps it paused
    expect(src.fleetTime).toBe(T0 + 600_000);
    src.resume();
    expect(src.fleetTime).toBe(T0 + 600_000);
    wall += 5_000; // 10 more minutes at 120x
    expect(src.fleetTime).toBe(T0 + 1_200_000);
    await src.catchUp(Infinity);
    expect(store.fleetSummary(src.fleetTime).newestSampleTs).toBe(T0 + 4 * STEP_MS);
    expect(src.getStatus().paused).toBe(false);
    src.stop();
  });

  it('adds a server with its own profile and its last 24 h, recorded in the store at once', async () => {
    const src = source();
    await src.catchUp(Infinity);
    const report = src.addServer({ name: 'demo-box', profile: 'database' });
    // 24 h of history ending just before the fleet's next step: the model's context window, at once.
    expect(report?.accepted).toBe(288);
    const history = store.querySamples('demo-box', 0, T0 + STEP_MS);
    expect(history.length).toBe(288);
    expect(history.timestamp[0]).toBe(T0 + STEP_MS - 288 * STEP_MS);
    expect(history.timestamp[287]).toBe(T0);
    expect(store.listServers().find((s) => s.name === 'demo-box')).toMatchObject({ profile: 'database', lastSeen: T0 });
    expect(src.servers()).toContainEqual({ name: 'demo-box', profile: 'database' });
    wall += 2 * STEP_MS;
    await src.catchUp(Infinity);
    expect(store.listServers().find((s) => s.name === 'demo-box')).toMatchObject({ profile: 'database', lastSeen: T0 + 2 * STEP_MS });
    expect(() => src.addServer({ name: 'demo-box' })).toThrow(/already/);
    expect(rejectedTotal()).toBe(0);
  });

  it('tells which server depends on which, servers added at runtime included', () => {
    const src = source();
    // defaultFleet(7): one database, which the web, ETL and risk servers call.
    expect(src.dependencies()).toEqual(
      new Map([
        ['ppweb001', 'ppdb001'],
        ['ppetl001', 'ppdb001'],
        ['pprisk001', 'ppdb001'],
      ]),
    );
    expect(src.dependencies()).toBe(src.dependencies());
    src.addServer({ name: 'demo-web', profile: 'web_api' }, 0);
    expect(src.dependencies().get('demo-web')).toBe('ppdb001');
    // A second database rewires the fleet: the map follows the simulator's own wiring.
    src.addServer({ name: 'demo-db', profile: 'database' }, 0);
    const dependencies = src.dependencies();
    for (const name of src.sim.serverNames()) expect(dependencies.get(name) ?? null, name).toBe(src.sim.dependencyOf(name));
    expect(dependencies.size).toBe(4);
    expect(dependencies.has('demo-db')).toBe(false);
  });
});
