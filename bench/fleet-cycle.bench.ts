/**
 * The live fleet loop, end to end: for 90 and 1,000 simulated servers, each cycle ingests one
 * new fleet step, then runs a prediction cycle (read the windows, build the features, infer with
 * the bundled model on the cpu, decode, store, alerts, publish). Measured per fleet size, with
 * the compute part on the main thread in chunks, yielding between stages (the baseline), and on
 * the prediction worker thread (what the app does):
 * cycle duration (median, p90), each stage's median, and the event loop's delay while cycles run
 * (monitorEventLoopDelay: p99 and max). Then RSS before and after CYCLE_BENCH_MEMORY_CYCLES
 * cycles (default 10,000) of the 90-server fleet, one ONNX session reused throughout.
 *
 *   npm run bench:cycle                       # all of it (the memory run takes ~10 minutes)
 *   CYCLE_BENCH_MEMORY_CYCLES=0 npm run bench:cycle      # timings only
 *   CYCLE_BENCH_SIZES=none npm run bench:cycle           # the memory run only
 *
 * Prints one JSON line starting with {"bench":"fleet-cycle". CYCLE_BENCH_OUT=file also writes it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { expect, test } from 'vitest';
import { EventBus, STEP_MS } from '@shared/contract';
import { FleetPredictor, type CycleStages } from '../src/main/core/fleet/fleet-predictor';
import { allocateColumns } from '../src/main/core/metrics/columns';
import { defaultFleet, FleetSimulator } from '../src/main/core/metrics/simulator/fleet-sim';
import { bundledModelDir } from '../src/main/core/paths';
import type { PredictWorkerFactory } from '../src/main/core/fleet/predict-worker';
import { openStore, type MetricsStore } from '../src/main/core/store';
import { REPO_ROOT, bundleForNode } from '../src/main/core/store/testing/bundle';
import { createMemoryLogger } from '../src/main/core/util/logger';
import { median, quantile, round } from '../src/main/core/util/stats';

/** CYCLE_BENCH_SIZES=none skips the timed part (the memory run alone); =1000 (or 90,1000) picks sizes. */
const SIZES =
  process.env.CYCLE_BENCH_SIZES === 'none'
    ? []
    : process.env.CYCLE_BENCH_SIZES
      ? process.env.CYCLE_BENCH_SIZES.split(',').map(Number)
      : [90, 1_000];
const CYCLES: Record<number, number> = { 90: 60, 1_000: 20 };
const BACKFILL_STEPS = 300; // 25 h: the model's 24 h context plus an hour
const MEMORY_CYCLES = Number(process.env.CYCLE_BENCH_MEMORY_CYCLES ?? 10_000);
const START = Date.UTC(2024, 2, 4);
/** monitorEventLoopDelay's sampling interval (ms), subtracted from what it records. */
const DELAY_RESOLUTION_MS = 5;

interface Fleet {
  dir: string;
  store: MetricsStore;
  sim: FleetSimulator;
  /** Steps the simulator and ingests one step; returns its time. */
  step(): number;
}

function fleet(servers: number): Fleet {
  const dir = mkdtempSync(join(tmpdir(), 'tftmp-cycle-bench-'));
  const store = openStore(join(dir, 'metrics.sqlite'));
  const sim = new FleetSimulator({ seed: 'cycle-bench', start: START, servers: defaultFleet(servers) });
  const chunk = 24;
  for (let done = 0; done < BACKFILL_STEPS; done += chunk) {
    const batch = allocateColumns(servers * chunk);
    for (let k = 0; k < chunk; k++) sim.stepInto(batch, k * servers);
    store.ingest(batch, { now: sim.time });
  }
  const scratch = allocateColumns(servers);
  return {
    dir,
    store,
    sim,
    step: () => {
      const ts = sim.stepInto(scratch, 0);
      store.ingest(scratch, { now: ts + STEP_MS });
      return ts;
    },
  };
}

function predictor(f: Fleet, factory: PredictWorkerFactory | undefined): FleetPredictor {
  return new FleetPredictor({
    config: {
      bundledDir: bundledModelDir({ mainDir: join(REPO_ROOT, 'out', 'main') }),
      provider: 'cpu',
      ...(factory ? { predictWorker: factory } : {}),
    },
    store: f.store,
    events: new EventBus(),
    logger: createMemoryLogger(),
    clock: () => f.sim.time,
  });
}

async function runCycles(f: Fleet, p: FleetPredictor, cycles: number) {
  // Warm-up: the session's first run and the window cache's cold read are not the steady state.
  p.request(f.step());
  await p.idle();
  const durations: number[] = [];
  const stages: CycleStages[] = [];
  const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  // The main thread's garbage-collection pauses while cycles run: what the loop's delay is made of
  // once the compute part is on the worker.
  const gcPauses: number[] = [];
  let measuring = false;
  const gc = new PerformanceObserver((list) => {
    if (measuring) for (const entry of list.getEntries()) gcPauses.push(entry.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  for (let i = 0; i < cycles; i++) {
    const time = f.step();
    delay.enable();
    measuring = true;
    p.request(time);
    await p.idle();
    measuring = false;
    delay.disable();
    const status = p.status();
    durations.push(status.lastCycleMs!);
    stages.push(p.timings().stages!);
  }
  gc.disconnect();
  expect(p.status().failedCycles).toBe(0);
  const stageMedians = Object.fromEntries(
    (Object.keys(stages[0]!) as (keyof CycleStages)[]).map((k) => [k, round(median(stages.map((s) => s[k])), 1)]),
  );
  return {
    cycles,
    medianMs: round(median(durations), 1),
    p90Ms: round(quantile(durations, 0.9), 1),
    stagesMedianMs: stageMedians,
    // The histogram records the time between its timer's callbacks, which includes the sampling
    // interval itself: the delay is what is beyond it (an idle loop reads ~0).
    eventLoopDelayP99Ms: round(Math.max(0, delay.percentile(99) / 1e6 - DELAY_RESOLUTION_MS), 1),
    eventLoopDelayMaxMs: round(Math.max(0, delay.max / 1e6 - DELAY_RESOLUTION_MS), 1),
    mainThreadGc: {
      pausesPerCycle: round(gcPauses.length / cycles, 1),
      p99Ms: round(gcPauses.length > 0 ? quantile(gcPauses, 0.99) : 0, 1),
      maxMs: round(Math.max(0, ...gcPauses), 1),
    },
    cyclesRunOn: p.timings().windowReader,
  };
}

test('fleet cycle', async () => {
  const bundle = await bundleForNode(resolve(REPO_ROOT, 'src/main/core/fleet/predict-worker-entry.ts'));
  const factory: PredictWorkerFactory = (init) => new Worker(bundle.file, { workerData: init });
  const result: Record<string, unknown> = {
    bench: 'fleet-cycle',
    cpus: cpus().length,
    loadAtStart: round(loadavg()[0]!, 2),
  };
  try {
    for (const servers of SIZES) {
      const f = fleet(servers);
      try {
        const entry: Record<string, unknown> = {};
        // Baseline and worker alternate on the same store, so drift in load hits both.
        for (const [name, factoryOrNone] of [
          ['mainThread', undefined],
          ['predictionWorker', factory],
        ] as const) {
          const p = predictor(f, factoryOrNone);
          await p.start();
          expect(p.status().state).toBe('ready');
          entry[name] = await runCycles(f, p, CYCLES[servers]!);
          await p.close();
        }
        result[`servers${servers}`] = entry;
      } finally {
        f.store.close();
        rmSync(f.dir, { recursive: true, force: true });
      }
    }
    if (MEMORY_CYCLES > 0) {
      const f = fleet(90);
      try {
        const p = predictor(f, factory);
        await p.start();
        for (let i = 0; i < 100; i++) {
          p.request(f.step());
          await p.idle();
        }
        global.gc?.();
        const before = process.memoryUsage();
        const startedAt = Date.now();
        for (let i = 0; i < MEMORY_CYCLES; i++) {
          // The store keeps growing as the fleet runs; retention (not measured here) bounds it in the app.
          p.request(f.step());
          await p.idle();
        }
        global.gc?.();
        const after = process.memoryUsage();
        expect(p.status().failedCycles).toBe(0);
        result['memory'] = {
          servers: 90,
          cycles: MEMORY_CYCLES,
          seconds: round((Date.now() - startedAt) / 1000, 0),
          rssBeforeMb: round(before.rss / 2 ** 20, 1),
          rssAfterMb: round(after.rss / 2 ** 20, 1),
          heapUsedBeforeMb: round(before.heapUsed / 2 ** 20, 1),
          heapUsedAfterMb: round(after.heapUsed / 2 ** 20, 1),
          gcExposed: typeof global.gc === 'function',
        };
        await p.close();
      } finally {
        f.store.close();
        rmSync(f.dir, { recursive: true, force: true });
      }
    }
  } finally {
    bundle.dispose();
  }
  result['loadAtEnd'] = round(loadavg()[0]!, 2);
  const line = JSON.stringify(result);
  console.log(line);
  if (process.env.CYCLE_BENCH_OUT) writeFileSync(process.env.CYCLE_BENCH_OUT, `${line}\n`);
});
