import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, STEP_MS, api, dispatch, type Input, type Method, type Output } from '@shared/contract';
import type { DemoState } from '@shared/domain';
import { createCore, STORE_FILE, type Core } from '../app';
import { rowsToColumns } from '../metrics/columns';
import { openStore } from '../store';
import { bundledModelDir } from '../paths';
import { createMemoryLogger } from '../util/logger';

/**
 * The demo over a real core: a real simulated fleet writing to a real SQLite store in a temp
 * folder. Time is driven through the core's injectable wall clock; the simulator's own timer
 * catches the fleet up to it, as it does in the app.
 */
const T0 = Date.UTC(2026, 2, 3, 9, 0);
const HOUR = 3_600_000;
let dir: string | undefined;
let core: Core | undefined;
let wall = T0;

afterEach(async () => {
  await core?.close();
  core = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function start(
  options: { simulator?: boolean; prepare?: (dataDir: string) => void; model?: boolean } = {},
): Promise<Core> {
  dir = mkdtempSync(join(tmpdir(), 'tftmp-demo-'));
  options.prepare?.(dir);
  wall = T0;
  core = createCore({
    dataDir: dir,
    runtime: 'test',
    logger: createMemoryLogger(),
    heartbeatMs: 0,
    now: () => new Date(wall),
    simulator: options.simulator === false ? null : { servers: 7, seed: 'demo', speed: 1, backfillHours: options.model ? 24 : 3 },
    ...(options.model ? { model: { bundledDir: bundledModelDir({ mainDir: join(__dirname, '..', '..', '..', '..', 'out', 'main') }), provider: 'cpu' as const } } : {}),
  });
  await core.ready();
  return core;
}

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

/** Moves the wall clock on and waits until the simulator stored the fleet's newest step. */
async function advanceWall(ms: number): Promise<void> {
  wall += ms;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await call('fleet.status', {});
    const target = Math.floor(Date.parse(status.fleetTime) / STEP_MS) * STEP_MS;
    if (status.lastSampleAt !== null && Date.parse(status.lastSampleAt) >= target) return;
    if (Date.now() > deadline) throw new Error(`the fleet did not reach ${new Date(target).toISOString()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the demo on the simulated fleet', () => {
  it('answers its state: speed, pause, the simulated servers with their profiles, no runs', async () => {
    await start();
    const state = await call('demo.state', {});
    expect(state).toMatchObject({
      available: true,
      speed: 1,
      paused: false,
      fleetTime: new Date(T0).toISOString(),
      runs: [],
    });
    expect(state.servers).toHaveLength(7);
    expect(state.servers.map((s) => s.name)).toEqual([...state.servers.map((s) => s.name)].sort());
    expect(state.servers).toContainEqual({ name: 'ppdb001', profile: 'database' });
    const status = await call('fleet.status', {});
    expect(status.sources[0]).toMatchObject({ id: 'simulator', speed: 1 });
  });

  it('pauses: the fleet clock freezes and nothing is written; it resumes where it stood; each change emits demo.changed', async () => {
    await start();
    const changes: DemoState[] = [];
    core!.events.on('demo.changed', (s) => changes.push(s));

    const paused = await call('demo.control', { paused: true, speed: 60 });
    expect(paused).toMatchObject({ paused: true, speed: 60 });
    expect(changes.at(-1)).toEqual(paused);
    const frozenAt = (await call('fleet.status', {})).fleetTime;
    const newest = (await call('fleet.status', {})).lastSampleAt;
    wall += HOUR;
    await new Promise((r) => setTimeout(r, 1_100)); // longer than a timer tick
    const during = await call('fleet.status', {});
    expect(during.fleetTime).toBe(frozenAt);
    expect(during.lastSampleAt).toBe(newest);
    expect(during.sources[0]!.detail).toMatch(/paused/);

    const resumed = await call('demo.control', { paused: false });
    expect(resumed).toMatchObject({ paused: false, speed: 60, fleetTime: frozenAt });
    expect(changes.at(-1)).toEqual(resumed);
    // 30 s of wall time at 60x: 30 minutes of fleet time after the frozen instant, not an hour and more.
    await advanceWall(30_000);
    expect(Date.parse((await call('fleet.status', {})).fleetTime) - Date.parse(frozenAt)).toBe(30 * 60_000);
    expect(changes).toHaveLength(2);
  });

  it('a server never seen before joins with its last 24 h, so the next cycle predicts it through its profile', async () => {
    await start({ model: true });
    await core!.predictionsIdle();
    await call('demo.run', { server: 'brand-new-db', scenario: 'memory_leak', profile: 'database', precursorHours: 3 });
    await advanceWall(STEP_MS);
    await core!.predictionsIdle();
    const predicted = await call('predictions.server', { server: 'brand-new-db' });
    expect(predicted.unavailable).toBeNull();
    expect(predicted.prediction).toMatchObject({ server: 'brand-new-db', profile: 'database', knownServer: false });
    expect(predicted.prediction!.coverage).toBeGreaterThan(0.9);
  });

  it('a new name joins the fleet (fleet.servers shows it); forcing memory_leak makes memory rise; healthy heals; reset undoes it all', async () => {
    await start();
    const runAt = Date.parse((await call('demo.state', {})).fleetTime);
    const added = await call('demo.run', {
      server: 'demo-db-1',
      scenario: 'disk_fill',
      profile: 'database',
      precursorHours: 1,
    });
    expect(added.servers).toContainEqual({ name: 'demo-db-1', profile: 'database' });
    expect(added.runs[0]).toMatchObject({
      server: 'demo-db-1',
      scenario: 'disk_fill',
      startedAt: new Date(runAt).toISOString(),
      onsetAt: new Date(runAt + HOUR).toISOString(),
    });
    // By name alone, the profile its name implies.
    const byName = await call('demo.run', { server: 'ppweb777', scenario: 'healthy' });
    expect(byName.servers).toContainEqual({ name: 'ppweb777', profile: 'web_api' });
    expect(byName.runs[0]).toMatchObject({ server: 'ppweb777', scenario: 'healthy', onsetAt: null });

    const leak = await call('demo.run', { server: 'ppml0001', scenario: 'memory_leak', precursorHours: 1 });
    expect(leak.runs.map((r) => r.server)).toEqual(['ppml0001', 'ppweb777', 'demo-db-1']);

    // Onset is an hour after the run: 65 minutes on, the leak has reached its incident.
    await advanceWall(65 * 60_000);
    const servers = await call('fleet.servers', {});
    expect(servers.servers.find((s) => s.name === 'demo-db-1')).toMatchObject({
      profile: 'database',
      reporting: true,
      health: 'unknown',
    });
    expect(servers.servers.find((s) => s.name === 'ppweb777')).toMatchObject({ profile: 'web_api', reporting: true });

    const history = await call('metrics.history', { server: 'ppml0001', hours: 4 });
    const memory = history.metrics.memory_percent;
    const times = history.times.map((t) => Date.parse(t));
    const before = memory.filter((v, i) => v !== null && times[i]! < runAt);
    const after = memory.filter((v, i) => v !== null && times[i]! >= runAt + 45 * 60_000);
    const mean = (xs: (number | null)[]): number => xs.reduce<number>((a, b) => a + b!, 0) / xs.length;
    expect(before.length).toBeGreaterThan(12);
    expect(after.length).toBeGreaterThanOrEqual(4);
    expect(mean(after)).toBeGreaterThan(mean(before) + 15);
    expect(Math.max(...(after as number[]))).toBeGreaterThanOrEqual(90);
    // The run's state follows the simulator: the leak reached its incident.
    const during = await call('demo.state', {});
    expect(during.runs[0]).toMatchObject({ server: 'ppml0001', state: 'critical_issue' });
    expect(during.runs[2]).toMatchObject({ server: 'demo-db-1', state: 'critical_issue' });

    const healed = await call('demo.run', { server: 'ppml0001', scenario: 'healthy' });
    expect(healed.runs[0]).toMatchObject({ server: 'ppml0001', scenario: 'healthy', onsetAt: null, state: 'healthy' });

    await call('demo.control', { speed: 600, paused: true });
    const reset = await call('demo.reset', {});
    expect(reset).toMatchObject({ available: true, speed: 1, paused: false, runs: [] });
    expect(reset.servers).toHaveLength(9);
    await advanceWall(STEP_MS);
    const after2 = await call('fleet.servers', {});
    expect(after2.servers.find((s) => s.name === 'demo-db-1')!.state).toBe('healthy');
    expect(after2.servers.find((s) => s.name === 'ppml0001')!.state).toBe('healthy');
  });

  it('refuses a server of the store that the simulator does not drive (conflict), and bad input naming the field', async () => {
    await start({
      prepare: (dataDir) => {
        const store = openStore(join(dataDir, STORE_FILE));
        store.ingest(
          rowsToColumns([{ server: 'imported-01', timestamp: T0 - STEP_MS, metrics: { cpu_percent: 12 } }]),
          { now: T0 },
        );
        store.close();
      },
    });
    const conflict = await errorOf(call('demo.run', { server: 'imported-01', scenario: 'memory_leak' }));
    expect(conflict.code).toBe('conflict');
    expect(conflict.message).toMatch(/"imported-01".*simulator does not drive/);
    expect((await call('demo.state', {})).servers.map((s) => s.name)).not.toContain('imported-01');

    const speed = await errorOf(call('demo.control', { speed: 0 }));
    expect(speed.code).toBe('invalid_input');
    expect(speed.issues?.map((i) => i.path)).toEqual(['speed']);
    const scenario = await errorOf(call('demo.run', { server: 'ppdb001', scenario: 'meltdown' as 'healthy' }));
    expect(scenario.issues?.map((i) => i.path)).toEqual(['scenario']);
    const name = await errorOf(call('demo.run', { server: 'no spaces allowed', scenario: 'healthy' }));
    expect(name.issues?.map((i) => i.path)).toEqual(['server']);
  });
});

describe('the demo without the simulated fleet', () => {
  it('says it is unavailable, and every change answers unavailable naming why', async () => {
    await start({ simulator: false });
    expect(await call('demo.state', {})).toMatchObject({ available: false, runs: [], servers: [] });
    for (const attempt of [
      call('demo.run', { server: 'ppdb001', scenario: 'memory_leak' }),
      call('demo.control', { paused: true }),
      call('demo.reset', {}),
    ]) {
      const error = await errorOf(attempt);
      expect(error.code).toBe('unavailable');
      expect(error.message).toMatch(/without the simulated fleet/);
    }
  });
});
