import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  dispatch,
  EventBus,
  METRIC_BY_NAME,
  type EventMessage,
  type EventPayload,
  type Method,
  type Output,
} from '@shared/contract';
import { createCore, STORE_FILE, type Core, type CoreConfig } from '../app';
import { defaultFleet, FleetSimulator } from '../metrics/simulator/fleet-sim';
import { generateFleet } from '../metrics/simulator/generate';
import { loadModelFolder, type ModelManifest } from '../model/folder';
import { combineUpstreamRisk } from '../model/upstream-risk';
import { bundledModelDir } from '../paths';
import { allocateColumns, selectRows } from '../metrics/columns';
import { openStore, type MetricsStore } from '../store';
import { bundleForNode, type NodeBundle } from '../store/testing/bundle';
import { createMemoryLogger } from '../util/logger';
import { FleetPredictor, type PredictorConfig } from './fleet-predictor';
import type { PredictWorkerFactory } from './predict-worker';
import { PredictionLog } from './prediction-log';

/**
 * The prediction loop with real parts: the committed default model folder, a real onnxruntime
 * session (cpu), a real SQLite store in a temp folder, the simulated fleet.
 */
const ROOT = resolve(__dirname, '..', '..', '..', '..');
const BUNDLED = bundledModelDir({ mainDir: join(ROOT, 'out', 'main') });
const ctx = { transport: 'in-process' } as const;
const WALL = new Date(Date.UTC(2026, 2, 3, 9, 0));

let manifest: ModelManifest;
beforeAll(async () => {
  manifest = (await loadModelFolder(BUNDLED)).manifest;
});

let dirs: string[] = [];
let core: Core | undefined;
afterEach(async () => {
  await core?.close();
  core = undefined;
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tempDir(prefix = 'tftmp-predict-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function startCore(overrides: Partial<CoreConfig> = {}): {
  core: Core;
  events: EventMessage[];
  logger: ReturnType<typeof createMemoryLogger>;
} {
  const logger = createMemoryLogger();
  const started = createCore({
    dataDir: tempDir(),
    runtime: 'test',
    logger,
    heartbeatMs: 0,
    now: () => WALL,
    simulator: { servers: 20, seed: 'predict', speed: 1, backfillHours: 24 },
    model: { bundledDir: BUNDLED, provider: 'cpu' },
    ...overrides,
  });
  core = started;
  const events: EventMessage[] = [];
  started.events.onAny((m) => events.push(m));
  return { core: started, events, logger };
}

async function call<M extends Method>(c: Core, method: M): Promise<Output<M>> {
  return (await dispatch(c, method, {}, ctx, { validateOutput: true })) as Output<M>;
}

/** A copy of the default model folder with one byte of the ONNX file flipped. */
function corruptedCopy(): string {
  const dir = join(tempDir('tftmp-model-'), 'broken');
  cpSync(BUNDLED, dir, { recursive: true });
  const onnx = join(dir, 'model.onnx');
  const bytes = readFileSync(onnx);
  const at = bytes.length >> 1;
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
  writeFileSync(onnx, bytes);
  return dir;
}

/**
 * A copy of the default model folder whose manifest has this cascade coefficient
 * (`training.cascade`, what a model trained on a fleet with a topology gets), so its predictions
 * add upstream terms; with null, none (a model trained without a topology).
 */
function cascadeCopy(coefficient: number | null): string {
  const dir = join(tempDir('tftmp-model-'), 'cascade');
  cpSync(BUNDLED, dir, { recursive: true });
  const file = join(dir, 'model.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as { training: Record<string, unknown> };
  const pairs = 40;
  if (coefficient === null) delete json.training['cascade'];
  else json.training['cascade'] = { coefficient, pairs, followed: Math.round(pairs * coefficient), followWindowMinutes: 60 };
  writeFileSync(file, JSON.stringify(json, null, 2));
  return dir;
}

describe('the prediction loop with the bundled model', () => {
  it('predicts every server of a backfilled fleet: risk, failure mode, P10/P50/P90 in metric units', async () => {
    const { core, events } = startCore();
    await core.ready();
    await core.predictionsIdle();

    const health = await call(core, 'system.health');
    expect(health.status).toBe('ok');
    expect(health.model).toEqual({
      name: manifest.name,
      version: manifest.version,
      contractVersion: manifest.contractVersion,
      source: 'bundled',
      fallbackReason: null,
      executionProvider: 'cpu',
      executionProviderReason: 'cpu requested',
    });
    expect(health.predictor).toMatchObject({ state: 'ready', detail: null, failedCycles: 0 });
    expect(health.predictor.cycles).toBeGreaterThanOrEqual(1);

    const current = await call(core, 'predictions.current');
    const spec = manifest.featureSpec;
    expect(current.model).toEqual({ name: manifest.name, version: manifest.version });
    // The window ends on the last complete 30-minute step at or before the newest sample.
    expect(current.time).toBe(WALL.toISOString());
    expect(current.horizon.stepMinutes).toBe(spec.stepMinutes);
    expect(current.horizon.times).toHaveLength(spec.horizonSteps);
    expect(Date.parse(current.horizon.times.at(-1)!) - WALL.getTime()).toBe(8 * 3_600_000);
    expect(current.servers).toHaveLength(20);
    expect(current.skipped).toEqual([]);
    for (const p of current.servers) {
      expect(p.risk).toBeGreaterThanOrEqual(0);
      expect(p.risk).toBeLessThanOrEqual(1);
      expect(spec.failureModes).toContain(p.failureMode);
      expect(Object.keys(p.failureModes)).toEqual(spec.failureModes);
      expect(Object.values(p.failureModes).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
      expect(p.failureModes[p.failureMode]).toBe(Math.max(...Object.values(p.failureModes)));
      expect(p.coverage).toBeGreaterThan(0.9);
      expect(p.forecast.map((f) => f.metric)).toEqual(spec.targets);
      for (const band of p.forecast) {
        const { min, max } = METRIC_BY_NAME[band.metric];
        for (let h = 0; h < spec.horizonSteps; h++) {
          expect(band.p10[h]).toBeLessThanOrEqual(band.p50[h]!);
          expect(band.p50[h]).toBeLessThanOrEqual(band.p90[h]!);
          expect(band.p10[h]).toBeGreaterThanOrEqual(min);
          expect(band.p90[h]).toBeLessThanOrEqual(max);
        }
      }
    }
    // Metric units, not scaled ones: a fleet's median CPU forecast is percent (well above 1), and
    // generic servers, which report no latency, still get a latency forecast (through the profile).
    const cpuMedian = current.servers.map((p) => p.forecast[0]!.p50[0]!).sort((a, b) => a - b)[10]!;
    expect(cpuMedian).toBeGreaterThan(2);

    // fleet.servers carries the same risk and failure mode.
    const servers = await call(core, 'fleet.servers');
    for (const s of servers.servers) {
      const p = current.servers.find((x) => x.server === s.name)!;
      expect(s).toMatchObject({ risk: p.risk, failureMode: p.failureMode, riskUnavailable: null });
    }

    const updated = events.filter((m) => m.name === 'predictions.updated');
    expect(updated.length).toBeGreaterThanOrEqual(1);
    const last = updated.at(-1)!.payload as EventPayload<'predictions.updated'>;
    expect(last).toMatchObject({ time: WALL.toISOString(), servers: 20, skipped: 0 });
    expect(last.atRisk).toBe(current.servers.filter((p) => p.risk > 0.5).length);
  });

  it("keeps each cycle's risk in the store's predictions table", async () => {
    const { core } = startCore({ simulator: { servers: 4, seed: 'persist', speed: 1, backfillHours: 24 } });
    await core.ready();
    await core.predictionsIdle();
    const current = await call(core, 'predictions.current');
    const dataDir = core.config.dataDir;
    await core.close();

    const store = openStore(join(dataDir, STORE_FILE));
    try {
      const log = new PredictionLog(store);
      for (const s of store.listServers()) {
        const [row] = log.history(s.id);
        const p = current.servers.find((x) => x.server === s.name)!;
        expect(row).toEqual({
          ts: WALL.getTime(),
          model: `${manifest.name}@${manifest.version}`,
          risk: expect.closeTo(p.risk, 6),
          failureMode: p.failureMode,
        });
      }
    } finally {
      store.close();
    }
  });

  it("serves a dependent's risk with its upstream's where the simulator knows the topology", async () => {
    const servers = defaultFleet(8);
    const { core } = startCore({
      simulator: { servers, seed: 'upstream', speed: 1, backfillHours: 24 },
      model: { bundledDir: BUNDLED, preferredDir: cascadeCopy(0.3), provider: 'cpu' },
    });
    await core.ready();
    await core.predictionsIdle();
    // Checked against the contract (validateOutput), `upstream` included.
    const current = await call(core, 'predictions.current');
    const topology = new FleetSimulator({ seed: 'upstream', start: WALL.getTime(), servers });
    expect(current.servers).toHaveLength(8);
    for (const p of current.servers) {
      const upstream = topology.dependencyOf(p.server);
      expect(p.upstream?.server ?? null, p.server).toBe(upstream);
      if (!p.upstream) continue;
      expect(p.upstream.risk).toBeCloseTo(current.servers.find((q) => q.server === upstream)!.risk, 4);
      expect(p.risk).toBeCloseTo(combineUpstreamRisk(p.upstream.modelRisk, p.upstream.risk, 0.3), 4);
    }
    expect(current.servers.filter((p) => p.upstream).length).toBeGreaterThan(0);
  });

  it('predicts a server the model never saw through its profile, and skips one without data', async () => {
    // A new database server (not in model.json's trainingServers), and a store holding a
    // server that last reported two days ago (no sample in the 24 h context).
    const dataDir = tempDir();
    const store = openStore(join(dataDir, STORE_FILE));
    const old = generateFleet({
      seed: 'old',
      start: WALL.getTime() - 72 * 3_600_000,
      hours: 12,
      servers: [{ name: 'ppold01', profile: 'generic' }],
    });
    store.ingest(old.columns, { now: WALL.getTime() });
    store.close();
    const fleet = [...defaultFleet(3), { name: 'ppdbnew900', profile: 'database' as const }];
    expect(manifest.training.dataset.trainingServers).not.toContain('ppdbnew900');
    const { core } = startCore({ dataDir, simulator: { servers: fleet, seed: 'unseen', speed: 1, backfillHours: 24 } });
    await core.ready();
    await core.predictionsIdle();

    const current = await call(core, 'predictions.current');
    const unseen = current.servers.find((p) => p.server === 'ppdbnew900')!;
    expect(unseen).toMatchObject({ profile: 'database', knownServer: false });
    expect(current.skipped).toEqual([
      {
        server: 'ppold01',
        reason: 'no_data',
        detail: expect.stringMatching(/no sample in the model's 24 h context window/),
      },
    ]);
    const servers = await call(core, 'fleet.servers');
    expect(servers.servers.find((s) => s.name === 'ppold01')).toMatchObject({
      risk: null,
      failureMode: null,
      riskUnavailable: { reason: 'no_data' },
    });
    const known = manifest.training.dataset.trainingServers;
    for (const p of current.servers) expect(p.knownServer).toBe(known.includes(p.server));
  });

  it('never runs two cycles at once: requests while one runs are skipped, the newest window runs after', async () => {
    const dataDir = tempDir();
    const store = openStore(join(dataDir, STORE_FILE));
    try {
      const data = generateFleet({
        seed: 'skip',
        start: WALL.getTime() - 24 * 3_600_000,
        hours: 25,
        servers: defaultFleet(3),
      });
      store.ingest(data.columns, { now: WALL.getTime() + 3_600_000 });
      const events = new EventBus();
      const times: string[] = [];
      events.on('predictions.updated', (p) => times.push(p.time));
      const predictor = new FleetPredictor({
        config: { bundledDir: BUNDLED, provider: 'cpu' },
        store,
        events,
        logger: createMemoryLogger(),
        clock: () => WALL.getTime(),
      });
      await predictor.start();
      // Ten fleet steps arriving together (a catch-up): one cycle runs, the other nine are skipped.
      // Those in the same 30-minute window need no second cycle; the newest (a later window) gets one.
      for (let i = 0; i < 9; i++) predictor.request(WALL.getTime() + i * 60_000);
      predictor.request(WALL.getTime() + 35 * 60_000);
      await predictor.idle();
      expect(predictor.status()).toMatchObject({ cycles: 2, skippedCycles: 9, failedCycles: 0 });
      expect(times).toEqual([WALL.toISOString(), new Date(WALL.getTime() + 30 * 60_000).toISOString()]);
      // Nothing ran concurrently: each cycle saw the previous one finished (the session would
      // otherwise report runs in flight when closed).
      await predictor.close();
      expect(predictor.status().cycles).toBe(2);
    } finally {
      store.close();
    }
  });

  it('runs again when a backfill fills in the window of a cycle that ran before it finished', async () => {
    const store = openStore(join(tempDir(), STORE_FILE));
    try {
      const data = generateFleet({ seed: 'late', start: WALL.getTime() - 24 * 3_600_000, hours: 24, servers: defaultFleet(3) });
      let backfilled = false;
      const predictor = new FleetPredictor({
        config: { bundledDir: BUNDLED, provider: 'cpu', persist: false },
        store,
        events: new EventBus(),
        logger: createMemoryLogger(),
        // The cycle reads the clock after its window read: the backfill lands right then, and its
        // last step asks for a cycle whose window is no newer than the one running.
        clock: () => {
          if (!backfilled) {
            backfilled = true;
            store.ingest(data.columns, { now: WALL.getTime() });
            predictor.request(WALL.getTime() - 5 * 60_000);
          }
          return WALL.getTime();
        },
      });
      await predictor.start();
      predictor.request(WALL.getTime());
      await predictor.idle();
      expect(predictor.status()).toMatchObject({ cycles: 2, skippedCycles: 1, failedCycles: 0 });
      expect(predictor.current().servers).toHaveLength(3);
      await predictor.close();
    } finally {
      store.close();
    }
  });

  it('runs on a timer without the simulator, from what the store holds', async () => {
    const dataDir = tempDir();
    const store = openStore(join(dataDir, STORE_FILE));
    const data = generateFleet({
      seed: 'imported',
      start: WALL.getTime() - 24 * 3_600_000,
      hours: 24,
      servers: defaultFleet(5),
    });
    store.ingest(data.columns, { now: WALL.getTime() });
    store.close();
    const { core } = startCore({
      dataDir,
      simulator: null,
      model: { bundledDir: BUNDLED, provider: 'cpu', intervalMs: 25 },
    });
    await core.ready();
    await expect
      .poll(async () => (await call(core, 'system.health')).predictor.cycles, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(3);
    const current = await call(core, 'predictions.current');
    expect(current.servers).toHaveLength(5);
  });
});

describe('a cycle off the critical path', () => {
  let bundle: NodeBundle;
  let factory: PredictWorkerFactory;
  beforeAll(async () => {
    bundle = await bundleForNode(resolve(__dirname, 'predict-worker-entry.ts'));
    factory = (init) => new Worker(bundle.file, { workerData: init });
  }, 60_000);
  afterAll(() => bundle.dispose());

  /** A store holding 24 h of `servers` simulated servers up to WALL, minus the rows `drop` rejects. */
  function fleetStore(servers: number, drop: (server: string, ts: number) => boolean = () => false) {
    const store = openStore(join(tempDir(), STORE_FILE));
    const data = generateFleet({ seed: 'chunks', start: WALL.getTime() - 24 * 3_600_000, hours: 24, servers: defaultFleet(servers) });
    const keep: number[] = [];
    for (let i = 0; i < data.columns.length; i++) if (!drop(data.columns.server[i]!, data.columns.timestamp[i]!)) keep.push(i);
    store.ingest(selectRows(data.columns, keep), { now: WALL.getTime() });
    return store;
  }

  /** `cycles` cycles (default 1) of a predictor on `store`, with the fleet's topology when `dependencies` is given. */
  async function predictOnce(
    store: MetricsStore,
    config: Partial<PredictorConfig> = {},
    { dependencies, cycles = 1 }: { dependencies?: ReadonlyMap<string, string>; cycles?: number } = {},
  ) {
    const logger = createMemoryLogger();
    const predictor = new FleetPredictor({
      config: { bundledDir: BUNDLED, provider: 'cpu', persist: false, ...config },
      store,
      events: new EventBus(),
      logger,
      clock: () => WALL.getTime(),
      ...(dependencies ? { dependencies: () => dependencies } : {}),
    });
    await predictor.start();
    for (let k = 0; k < cycles; k++) {
      predictor.request(WALL.getTime());
      await predictor.idle();
    }
    const result = {
      current: predictor.current(),
      explanations: predictor.current().servers.map((p) => predictor.explain(p.server)),
      timings: predictor.timings(),
      status: predictor.status(),
      model: predictor.modelInfo(),
      logger,
    };
    await predictor.close();
    return result;
  }

  /** A predictor on the prediction worker, with the worker threads it started (to kill them) and its log. */
  function onWorker(store: MetricsStore) {
    const threads: Worker[] = [];
    const logger = createMemoryLogger();
    const predictor = new FleetPredictor({
      config: {
        bundledDir: BUNDLED,
        provider: 'cpu',
        persist: false,
        predictWorker: (init) => {
          const w = factory(init);
          threads.push(w);
          return w;
        },
      },
      store,
      events: new EventBus(),
      logger,
      clock: () => WALL.getTime(),
    });
    return { predictor, threads, logger };
  }

  it('predicts each server once, the same on the prediction worker in chunks as on the main thread in one batch', async () => {
    const store = fleetStore(9);
    try {
      const whole = await predictOnce(store, { chunkServers: 1000 });
      const chunked = await predictOnce(store, { chunkServers: 2, predictWorker: factory });
      expect(whole.timings.windowReader).toBe('main');
      expect(chunked.timings.windowReader).toBe('worker');
      expect(chunked.status).toMatchObject({ cycles: 1, failedCycles: 0 });
      expect(chunked.model?.executionProvider).toBe('cpu');
      // The worker's session creation is logged through this thread's logger.
      expect(chunked.logger.records.some((r) => r.message.startsWith('model: ready') && r.fields?.['thread'] === 'prediction worker')).toBe(true);
      expect(chunked.current.servers.map((p) => p.server)).toEqual(whole.current.servers.map((p) => p.server));
      expect(new Set(chunked.current.servers.map((p) => p.server)).size).toBe(9);
      chunked.current.servers.forEach((p, i) => {
        const q = whole.current.servers[i]!;
        expect(p.risk).toBeCloseTo(q.risk, 5);
        expect(p.failureMode).toBe(q.failureMode);
        expect(p.coverage).toBe(q.coverage);
        for (const [m, band] of p.forecast.entries()) {
          expect(band.metric).toBe(q.forecast[m]!.metric);
          band.p50.forEach((v, k) => expect(v).toBeCloseTo(q.forecast[m]!.p50[k]!, 3));
        }
      });
      // The explanations are decoded on the worker too.
      chunked.explanations.forEach((e, i) => {
        expect(e.unavailable).toBeNull();
        expect(e.explanation?.drivers).toEqual(whole.explanations[i]!.explanation?.drivers);
      });
      const stages = chunked.timings.stages!;
      for (const stage of ['read', 'features', 'infer', 'decode', 'store', 'alerts'] as const)
        expect(stages[stage]).toBeGreaterThanOrEqual(0);
      expect(stages.infer).toBeGreaterThan(0);
      expect(chunked.timings.count).toBe(1);
      expect(chunked.timings.quantiles.map((q) => q.q)).toEqual([0.5, 0.9, 0.99]);
    } finally {
      store.close();
    }
  });

  it('stores each cycle\'s predictions from the prediction worker, as the main thread would', async () => {
    const store = fleetStore(5);
    try {
      const onWorker = await predictOnce(store, { predictWorker: factory, persist: true, chunkServers: 2 });
      expect(onWorker.timings.windowReader).toBe('worker');
      const log = new PredictionLog(store);
      const rows = store.listServers().map((s) => log.history(s.id)[0]);
      expect(rows.every((r) => r !== undefined)).toBe(true);
      onWorker.current.servers.forEach((p) => {
        const row = log.history(store.listServers().find((s) => s.name === p.server)!.id)[0]!;
        expect(row.ts).toBe(Date.parse(onWorker.current.time!));
        expect(row.risk).toBeCloseTo(p.risk, 6);
        expect(row.failureMode).toBe(p.failureMode);
      });
    } finally {
      store.close();
    }
  });

  it("serves and stores each dependent's risk combined with its upstream's, on the prediction worker as on the main thread", async () => {
    // Sorted, in chunks of 2: ppcon01 ppdb001 | ppetl001 ppml0001 | pprisk001 ppsvc001 | ppweb001.
    const store = fleetStore(7);
    const coefficient = 0.4;
    const dependencies = new Map([
      ['ppetl001', 'ppdb001'],
      ['pprisk001', 'ppdb001'],
      ['ppweb001', 'ppdb001'],
      // Its upstream comes in a later chunk: no term on the first cycle, last cycle's risk on the next.
      ['ppcon01', 'ppweb001'],
    ]);
    try {
      const preferredDir = cascadeCopy(coefficient);
      const alone = await predictOnce(store, { preferredDir });
      const worker = await predictOnce(
        store,
        { preferredDir, predictWorker: factory, persist: true, chunkServers: 2 },
        { dependencies, cycles: 2 },
      );
      const main = await predictOnce(store, { preferredDir, chunkServers: 2 }, { dependencies, cycles: 2 });
      // A model without the coefficient serves its own risks, topology or not.
      const old = await predictOnce(store, { preferredDir: cascadeCopy(null), chunkServers: 2, predictWorker: factory }, { dependencies });
      expect(worker.timings.windowReader).toBe('worker');
      expect(worker.status).toMatchObject({ cycles: 2, failedCycles: 0 });

      const risk = (run: typeof alone, name: string): number => run.current.servers.find((p) => p.server === name)!.risk;
      const log = new PredictionLog(store);
      for (const p of worker.current.servers) {
        const modelRisk = risk(alone, p.server);
        const upstream = dependencies.get(p.server);
        if (upstream === undefined) {
          expect(p.upstream, p.server).toBeUndefined();
          expect(p.risk).toBeCloseTo(modelRisk, 5);
        } else {
          expect(p.upstream, p.server).toEqual({
            server: upstream,
            risk: expect.closeTo(risk(worker, upstream), 4),
            modelRisk: expect.closeTo(modelRisk, 5),
            coefficient,
          });
          expect(p.risk, p.server).toBeCloseTo(combineUpstreamRisk(modelRisk, risk(worker, upstream), coefficient), 4);
          const explained = worker.explanations.find((e) => e.server === p.server)!.explanation!;
          expect(explained.risk).toBe(p.risk);
          expect(explained.drivers[0]).toMatch(new RegExp(`^depends on ${upstream}, at \\d+ % risk: .* 40 % of the time in training`));
        }
        // What the worker stored is the served risk.
        const row = log.history(store.listServers().find((s) => s.name === p.server)!.id)[0]!;
        expect(row.risk, p.server).toBeCloseTo(p.risk, 6);
        expect(row.failureMode).toBe(p.failureMode);
        // The main thread (the fallback) serves the same.
        expect(risk(main, p.server)).toBeCloseTo(p.risk, 5);
        expect(old.current.servers.find((q) => q.server === p.server)?.upstream).toBeUndefined();
        expect(risk(old, p.server)).toBeCloseTo(modelRisk, 5);
      }
      expect(worker.current.servers.filter((p) => p.upstream)).toHaveLength(dependencies.size);
    } finally {
      store.close();
    }
  });

  it('runs cycles on the main thread when the prediction worker cannot start, and says so once', async () => {
    const store = fleetStore(3);
    try {
      const broken: PredictWorkerFactory = (init) => new Worker('throw new Error("no worker here")', { eval: true, workerData: init });
      const run = await predictOnce(store, { predictWorker: broken });
      expect(run.timings.windowReader).toBe('main-fallback');
      expect(run.current.servers).toHaveLength(3);
      expect(run.logger.records.filter((r) => r.message.includes('prediction worker did not start'))).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('hands the cycles to the main thread when the prediction worker dies, without failing a cycle', async () => {
    const store = fleetStore(4);
    const { predictor, threads, logger } = onWorker(store);
    try {
      await predictor.start();
      predictor.request(WALL.getTime());
      await predictor.idle();
      expect(predictor.timings().windowReader).toBe('worker');
      const before = predictor.current().servers;
      expect(threads).toHaveLength(1);
      await threads[0]!.terminate();
      // A new sample makes the next window newer; the cycle finds the worker dead and runs here.
      predictor.request(WALL.getTime() + 5 * 60_000);
      await predictor.idle();
      expect(predictor.timings().windowReader).toBe('main-fallback');
      expect(predictor.status()).toMatchObject({ cycles: 2, failedCycles: 0, detail: null });
      expect(predictor.current().servers.map((p) => p.server)).toEqual(before.map((p) => p.server));
      expect(logger.records.filter((r) => r.message.includes('prediction worker failed'))).toHaveLength(1);
    } finally {
      await predictor.close();
      store.close();
    }
  });

  it('switches models on the main thread when the prediction worker died since the last cycle', async () => {
    const store = fleetStore(3);
    const copy = join(tempDir('tftmp-switch-dead-'), 'copy');
    cpSync(BUNDLED, copy, { recursive: true });
    const { predictor, threads, logger } = onWorker(store);
    try {
      await predictor.start();
      await threads[0]!.terminate();
      await predictor.switchModel(copy);
      await predictor.idle();
      expect(predictor.modelInfo()?.source).toBe('preferred');
      expect(predictor.timings().windowReader).toBe('main-fallback');
      expect(predictor.status()).toMatchObject({ cycles: 1, failedCycles: 0 });
      expect(predictor.current().servers).toHaveLength(3);
      expect(logger.records.filter((r) => r.message.includes('prediction worker failed'))).toHaveLength(1);
    } finally {
      await predictor.close();
      store.close();
    }
  });

  it('switches models on the prediction worker and keeps serving', async () => {
    const store = fleetStore(3);
    const copy = join(tempDir('tftmp-switch-'), 'copy');
    cpSync(BUNDLED, copy, { recursive: true });
    const { predictor } = onWorker(store);
    try {
      await predictor.start();
      predictor.request(WALL.getTime());
      await predictor.idle();
      const first = predictor.current().servers.map((p) => p.risk);
      await predictor.switchModel(copy);
      await predictor.idle();
      expect(predictor.modelInfo()?.source).toBe('preferred');
      expect(predictor.timings().windowReader).toBe('worker');
      expect(predictor.status()).toMatchObject({ cycles: 2, failedCycles: 0 });
      // The same weights in another folder: the same risks.
      predictor.current().servers.forEach((p, i) => expect(p.risk).toBeCloseTo(first[i]!, 6));
    } finally {
      await predictor.close();
      store.close();
    }
  });

  it('shows a server that stopped reporting as stale, not with a risk from its old samples', async () => {
    const fleet = defaultFleet(4);
    const silent = fleet[1]!.name;
    // The silent server's last 45 minutes never arrive.
    const store = fleetStore(4, (server, ts) => server === silent && ts > WALL.getTime() - 45 * 60_000);
    try {
      const run = await predictOnce(store);
      expect(run.current.servers.map((p) => p.server)).not.toContain(silent);
      expect(run.current.servers).toHaveLength(3);
      const skip = run.current.skipped.find((s) => s.server === silent);
      expect(skip?.reason).toBe('stale');
      expect(skip?.detail).toMatch(/no sample since .* \(45 min before the window end\)/);
    } finally {
      store.close();
    }
  });
});

describe('an incident the model sees coming', () => {
  /**
   * The product's promise end to end: a simulated fleet (no random incidents), one server forced
   * into an incident whose precursor lasts 4 h, a cycle every 30 minutes of fleet time. The
   * bundled model must open an alert for that server before the onset, and none for the others.
   * (Measured with the bundled model 20261127_063636, an ensemble of three: risk 0.42 2.1 h
   * before the onset of the memory leak, 0.30 1.6 h before the disk fill's. A model trained with
   * the calibrated selection loss failed this test, which is why it was reverted: docs/model.md,
   * runs F9-F11.)
   */
  for (const type of ['memory_leak', 'disk_fill'] as const) {
    it(`opens an alert before the onset of a forced ${type.replace('_', ' ')}`, async () => {
      const store = openStore(join(tempDir(), STORE_FILE));
      try {
        const fleet = defaultFleet(8);
        const sim = new FleetSimulator({
          seed: 'forced',
          start: Date.UTC(2026, 2, 2, 8),
          servers: fleet,
          rates: { incidentsPerWeek: 0, benignPerWeek: 0 },
        });
        const backfill = allocateColumns(fleet.length * 288);
        for (let k = 0; k < 288; k++) sim.stepInto(backfill, k * fleet.length);
        store.ingest(backfill, { now: sim.time });
        const predictor = new FleetPredictor({
          config: { bundledDir: BUNDLED, provider: 'cpu', persist: false },
          store,
          events: new EventBus(),
          logger: createMemoryLogger(),
          clock: () => sim.time,
        });
        await predictor.start();
        const target = fleet[2]!.name;
        const onset = sim.time + 4 * 3_600_000;
        sim.force(target, { type, precursorHours: 4 });
        const step = allocateColumns(fleet.length);
        let warnedAt: number | null = null;
        while (sim.time <= onset) {
          const ts = sim.stepInto(step, 0);
          store.ingest(step, { now: ts + 300_000 });
          if ((ts / 300_000) % 6 !== 5) continue;
          predictor.request(ts);
          await predictor.idle();
          const alerts = predictor.activeAlerts();
          expect(alerts.filter((a) => a.server !== target)).toEqual([]);
          if (warnedAt === null && alerts.some((a) => a.server === target)) warnedAt = ts;
        }
        await predictor.close();
        expect(warnedAt).not.toBeNull();
        expect(onset - warnedAt!).toBeGreaterThanOrEqual(30 * 60_000);
      } finally {
        store.close();
      }
    });
  }
});

describe('when the model folder is refused', () => {
  it('runs on without predictions, and /health says why', async () => {
    const { core } = startCore({ model: { bundledDir: corruptedCopy(), provider: 'cpu' } });
    await core.ready();
    await core.predictionsIdle();

    const health = await call(core, 'system.health');
    expect(health.status).toBe('degraded');
    expect(health.model).toBeNull();
    expect(health.predictor.state).toBe('failed');
    expect(health.predictor.detail).toMatch(/the bundled model cannot be loaded: .*model\.onnx.*sha256/);
    expect(health.problems).toEqual([expect.stringMatching(/^No predictions: the bundled model cannot be loaded/)]);

    // Everything else works.
    const status = await call(core, 'fleet.status');
    expect(status.serversTotal).toBe(20);
    const servers = await call(core, 'fleet.servers');
    expect(servers.servers[0]).toMatchObject({
      risk: null,
      failureMode: null,
      riskUnavailable: { reason: 'no_model' },
    });
    const current = await call(core, 'predictions.current');
    expect(current).toMatchObject({ model: null, time: null, servers: [], skipped: [] });
  });

  it('falls back to the bundled model when the preferred one is corrupted, and says so', async () => {
    const preferred = corruptedCopy();
    const { core } = startCore({
      simulator: { servers: 3, seed: 'fallback', speed: 1, backfillHours: 24 },
      model: { bundledDir: BUNDLED, preferredDir: preferred, provider: 'cpu' },
    });
    await core.ready();
    await core.predictionsIdle();
    const health = await call(core, 'system.health');
    expect(health.status).toBe('degraded');
    expect(health.model).toMatchObject({ source: 'bundled', name: manifest.name });
    expect(health.model?.fallbackReason).toMatch(/preferred model was refused.*checksum|sha256/);
    expect((await call(core, 'predictions.current')).servers).toHaveLength(3);
  });

  it('reports no model at all when none is configured', async () => {
    const { core } = startCore({ model: null, simulator: { servers: 2, seed: 'none', speed: 1, backfillHours: 1 } });
    await core.ready();
    const health = await call(core, 'system.health');
    expect(health).toMatchObject({
      status: 'ok',
      model: null,
      predictor: { state: 'off', detail: 'no model is configured' },
    });
    expect((await call(core, 'fleet.servers')).servers[0]).toMatchObject({
      risk: null,
      riskUnavailable: { reason: 'no_model' },
    });
  });
});
