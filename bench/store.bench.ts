/**
 * Metrics store benchmarks: ingest throughput (in-thread, store worker, live ticks), how long the
 * main thread's event loop is blocked meanwhile, and latestWindow for 1,000 servers x 288 steps
 * (cold and in the live loop). Prints one JSON object (medians over STORE_BENCH_RUNS runs, 5 by
 * default); STORE_BENCH_OUT=file also writes it there.
 *
 *   npx vitest bench --run bench/store.bench.ts
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { bench, describe } from 'vitest';
import { CONTEXT_STEPS, STEP_MS } from '@shared/contract';
import { openStore } from '../src/main/core/store/metrics-store';
import { StoreWorker } from '../src/main/core/store/store-worker';
import { REPO_ROOT, bundleForNode } from '../src/main/core/store/testing/bundle';
import { tempDir } from '../src/main/core/store/testing/fixtures';
import { fleetBatch } from '../src/main/core/store/testing/fleet-batch';
import { median, round } from '../src/main/core/util/stats';

const RUNS = Number(process.env.STORE_BENCH_RUNS ?? 5);
const SERVERS = 1_000;
const T0 = Date.UTC(2024, 0, 1);


function cpuMs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

/**
 * The event loop's longest stall while `work` runs (ms): the histogram's own 5 ms timer comes
 * late by as much as the loop was blocked (no extra ticker: on two cores it would steal CPU).
 */
async function withLoopMonitor<T>(work: () => Promise<T>): Promise<{ value: T; maxBlockMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  try {
    const value = await work();
    return { value, maxBlockMs: histogram.max / 1e6 };
  } finally {
    histogram.disable();
  }
}

async function run(): Promise<Record<string, unknown>> {
  const loadAtStart = round(loadavg()[0]!, 2);
  const tmp = tempDir('tftmp-store-bench-');
  const workerBundle = await bundleForNode(resolve(REPO_ROOT, 'src/main/core/store/store-worker-entry.ts'));
  const now = T0 + 10_000 * STEP_MS;
  let fileNo = 0;
  const freshFile = (): string => tmp.file(`bench-${fileNo++}.db`);
  try {
    // 1. Bulk ingest on the calling thread: 1,000 servers x 288 steps (server-major, as a file import gives).
    const bulk = { rowsPerSec: [] as number[], cpuMsPer100kRows: [] as number[] };
    const rows = SERVERS * CONTEXT_STEPS;
    for (let r = 0; r < RUNS; r++) {
      const batch = fleetBatch({ servers: SERVERS, steps: CONTEXT_STEPS, start: T0, seed: r });
      const store = openStore(freshFile());
      const c0 = process.cpuUsage();
      const t = performance.now();
      const report = store.ingest(batch, { now });
      const ms = performance.now() - t;
      if (report.accepted !== rows) throw new Error(`bench: accepted ${report.accepted} of ${rows}`);
      bulk.rowsPerSec.push((rows / ms) * 1000);
      bulk.cpuMsPer100kRows.push((cpuMs(c0) / rows) * 100_000);
      store.close();
    }

    // 2. The same on the store worker (50k-row transactions), and the main thread's longest stall meanwhile.
    const viaWorker = { rowsPerSec: [] as number[], mainThreadMaxBlockMs: [] as number[] };
    for (let r = 0; r < RUNS; r++) {
      const file = freshFile();
      const worker = await StoreWorker.start((init) => new Worker(workerBundle.file, { workerData: init }), file);
      const batch = fleetBatch({ servers: SERVERS, steps: CONTEXT_STEPS, start: T0, seed: r });
      const t = performance.now();
      const { value: report, maxBlockMs } = await withLoopMonitor(() => worker.ingest(batch, { now }));
      const ms = performance.now() - t;
      if (report.accepted !== rows) throw new Error(`bench: worker accepted ${report.accepted} of ${rows}`);
      viaWorker.rowsPerSec.push((rows / ms) * 1000);
      viaWorker.mainThreadMaxBlockMs.push(maxBlockMs);
      await worker.close();
    }

    // 3. In-thread ingest that yields between 10k-row chunks: the longest stall it causes.
    const yielding = { rowsPerSec: [] as number[], maxBlockMs: [] as number[] };
    for (let r = 0; r < RUNS; r++) {
      const store = openStore(freshFile());
      const batch = fleetBatch({ servers: SERVERS, steps: CONTEXT_STEPS, start: T0, seed: r });
      const t = performance.now();
      const { maxBlockMs } = await withLoopMonitor(() => store.ingestYielding(batch, { now }));
      yielding.rowsPerSec.push((rows / (performance.now() - t)) * 1000);
      yielding.maxBlockMs.push(maxBlockMs);
      store.close();
    }

    // 4. Live ticks: every 5 minutes one row per server (time-major), one transaction per tick.
    const liveFile = freshFile();
    const live = openStore(liveFile);
    const tickMs: number[] = [];
    const ticks = 96;
    for (let k = 0; k < ticks; k++) {
      const tick = fleetBatch({ servers: SERVERS, steps: 1, start: T0 + k * STEP_MS, seed: k });
      const t = performance.now();
      live.ingest(tick, { now: T0 + k * STEP_MS });
      tickMs.push(performance.now() - t);
    }

    // 5. latestWindow, 1,000 servers x 288 steps, from a store holding 2 days: cold (cache
    //    dropped: every row read from SQLite and decoded; SQLite's own page cache stays warm,
    //    which a first call after startup also lacks, see storeWorker.coldMs) and warm (the live
    //    loop: one new step per server, then the window again).
    const windowStore = openStore(freshFile());
    windowStore.ingest(fleetBatch({ servers: SERVERS, steps: 2 * CONTEXT_STEPS, start: T0 }), { now });
    const coldMs: number[] = [];
    const warmMs: number[] = [];
    let windowRows = 0;
    for (let r = 0; r < RUNS; r++) {
      windowStore.dropWindowCache();
      const t = performance.now();
      windowRows = windowStore.latestWindow(CONTEXT_STEPS).length;
      coldMs.push(performance.now() - t);
    }
    for (let r = 0; r < RUNS; r++) {
      const next = T0 + (2 * CONTEXT_STEPS + r) * STEP_MS;
      windowStore.ingest(fleetBatch({ servers: SERVERS, steps: 1, start: next, seed: 100 + r }), { now });
      const t = performance.now();
      const w = windowStore.latestWindow(CONTEXT_STEPS);
      warmMs.push(performance.now() - t);
      if (w.length !== SERVERS * CONTEXT_STEPS || w.timestamp[CONTEXT_STEPS - 1] !== next)
        throw new Error('bench: warm window is not the newest 288 steps');
    }
    const denseT = performance.now();
    windowStore.latestWindow(CONTEXT_STEPS, undefined, { dense: true });
    const denseWarmMs = performance.now() - denseT;

    // 5b. The same windows read by the store worker: what the main thread waits for and how long its loop stalls.
    const reader = await StoreWorker.start(
      (init) => new Worker(workerBundle.file, { workerData: init }),
      windowStore.file,
    );
    const workerCold: number[] = [];
    const workerWarm: number[] = [];
    const workerBlock: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const next = T0 + (2 * CONTEXT_STEPS + RUNS - 1 + r) * STEP_MS;
      if (r > 0) windowStore.ingest(fleetBatch({ servers: SERVERS, steps: 1, start: next, seed: 200 + r }), { now });
      const t = performance.now();
      const { value, maxBlockMs } = await withLoopMonitor(() => reader.latestWindow(CONTEXT_STEPS));
      (r === 0 ? workerCold : workerWarm).push(performance.now() - t);
      workerBlock.push(maxBlockMs);
      if (value.length !== SERVERS * CONTEXT_STEPS) throw new Error('bench: worker window is incomplete');
    }
    await reader.close();

    // 6. One server, 30 days.
    const month = 30 * 288;
    windowStore.ingest(fleetBatch({ servers: 1, steps: month, start: T0, prefix: 'ppdb' }), {
      now: T0 + month * STEP_MS,
    });
    const queryMs: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      windowStore.querySamples('ppdb0000', T0, T0 + month * STEP_MS);
      queryMs.push(performance.now() - t);
    }
    windowStore.close();
    live.close();

    const sqlite = new Database(':memory:');
    const sqliteVersion = (sqlite.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    sqlite.close();
    return {
      bench: 'store',
      runs: RUNS,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        node: process.version,
        sqlite: sqliteVersion,
        // Other work on the box skews every figure: this says how busy it was.
        loadavg1mAtStart: loadAtStart,
        loadavg1mAtEnd: round(loadavg()[0]!, 2),
      },
      ingest: {
        rows: rows,
        inThread: {
          rowsPerSec: Math.round(median(bulk.rowsPerSec)),
          cpuMsPer100kRows: round(median(bulk.cpuMsPer100kRows)),
          chunkRows: 10_000,
          target: 300_000,
        },
        storeWorker: {
          rowsPerSec: Math.round(median(viaWorker.rowsPerSec)),
          mainThreadMaxBlockMs: round(median(viaWorker.mainThreadMaxBlockMs)),
          chunkRows: 50_000,
        },
        inThreadYielding: {
          rowsPerSec: Math.round(median(yielding.rowsPerSec)),
          maxBlockMs: round(median(yielding.maxBlockMs)),
          chunkRows: 10_000,
        },
        liveTick: { servers: SERVERS, ticks, medianMs: round(median(tickMs)), maxMs: round(Math.max(...tickMs)) },
      },
      latestWindow: {
        servers: SERVERS,
        steps: CONTEXT_STEPS,
        rows: windowRows,
        coldMs: round(median(coldMs)),
        // The first of those cold reads: the process's first latestWindow, its code not yet optimised.
        firstColdMs: round(coldMs[0]!),
        warmMs: round(median(warmMs)),
        denseWarmMs: round(denseWarmMs),
        targetMs: 300,
        storeWorker: {
          coldMs: round(median(workerCold)),
          warmMs: round(median(workerWarm)),
          mainThreadMaxBlockMs: round(median(workerBlock)),
        },
      },
      querySamples: { rows: month, ms: round(median(queryMs)) },
    };
  } finally {
    workerBundle.dispose();
    tmp.remove();
  }
}

describe('store', () => {
  bench(
    'store benchmarks (JSON on stdout)',
    async () => {
      const result = await run();
      const json = JSON.stringify(result, null, 2);
      console.log(json);
      if (process.env.STORE_BENCH_OUT) writeFileSync(process.env.STORE_BENCH_OUT, `${json}\n`);
    },
    // One pass: the function measures its own medians, tinybench's timing of it is not the result.
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
