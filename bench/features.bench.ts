import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { expect, test } from 'vitest';
import { CONTEXT_STEPS, METRIC_NAMES, STEP_MS } from '@shared/contract';
import { allocateColumns } from '../src/main/core/metrics/columns';
import { defaultFleet } from '../src/main/core/metrics/simulator/fleet-sim';
import { generateFleet } from '../src/main/core/metrics/simulator/generate';
import {
  buildDataset,
  buildInferenceBatch,
  DEFAULT_FEATURE_SPEC,
  type DatasetStats,
} from '../src/main/core/model/features';
import { median, round } from '../src/main/core/util/stats';

/**
 * Feature pipeline benchmark: the training dataset of the default configuration (20 servers x
 * 30 days of simulated 5-minute samples = 172,800 rows), one epoch of shuffled mini-batches
 * (B = 64, positives oversampled 2x) and the live loop's inference batch for 1,000 servers x 24 h.
 * Medians of RUNS timed runs after one warm-up; generating the fleet is not timed.
 *
 *   npx vitest run --config bench/features.vitest.config.ts
 *
 * Prints one JSON line starting with {"bench":"features"; FEATURES_BENCH_OUT=file also writes it there.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const T0 = Date.UTC(2024, 0, 1);


function time<T>(work: () => T): { value: T; ms: number[] } {
  let value = work();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    value = work();
    ms.push(performance.now() - started);
  }
  return { value, ms };
}

test('features benchmark', () => {
  const generated = performance.now();
  const fleet = generateFleet({ seed: 'bench', start: T0, servers: defaultFleet(20), hours: 30 * 24 });
  const generateMs = performance.now() - generated;
  const profileOf = (s: string): ReturnType<typeof fleet.mapping.entries>[number]['profile'] =>
    fleet.mapping.get(s)!.profile;

  const build = time(() =>
    buildDataset(fleet.columns, fleet.incidents, { profileOf, seed: 1, dataEnd: fleet.end - STEP_MS }),
  );
  const dataset = build.value;
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;

  const epoch = time(() => {
    let windows = 0;
    for (const batch of dataset.batches('train', { batchSize: 64, seed: 1, oversamplePositives: 2 }))
      windows += batch.size;
    return windows;
  });

  // 1,000 servers x 288 samples, store.latestWindow-shaped (server then ts): the fleet's last day, renamed.
  const servers = 1_000;
  const per = CONTEXT_STEPS;
  const width = 20;
  const live = allocateColumns(servers * per);
  const lastRow = fleet.columns.length - per * width;
  for (let k = 0; k < servers; k++) {
    for (let s = 0; s < per; s++) {
      const src = lastRow + s * width + (k % width);
      const dst = k * per + s;
      live.server[dst] = `${fleet.columns.server[src]!}-${Math.floor(k / width)}`;
      live.timestamp[dst] = fleet.columns.timestamp[src]!;
      for (const m of METRIC_NAMES) {
        live.metrics[m].values[dst] = fleet.columns.metrics[m].values[src]!;
        live.metrics[m].present[dst] = fleet.columns.metrics[m].present[src]!;
      }
    }
  }
  const now = fleet.end - STEP_MS;
  const inference = time(() => buildInferenceBatch(live, DEFAULT_FEATURE_SPEC, now));
  expect(inference.value.batch.size).toBe(servers);

  const stats: DatasetStats = dataset.stats;
  const result = {
    bench: 'features',
    node: process.version,
    cpus: cpus().length,
    runs: RUNS,
    fleet: {
      servers: 20,
      days: 30,
      rows: fleet.columns.length,
      incidents: fleet.incidents.length,
      generateMs: round(generateMs),
    },
    spec: {
      stepMinutes: DEFAULT_FEATURE_SPEC.stepMinutes,
      contextSteps: DEFAULT_FEATURE_SPEC.contextSteps,
      horizonSteps: DEFAULT_FEATURE_SPEC.horizonSteps,
      observed: DEFAULT_FEATURE_SPEC.observed.length,
      known: DEFAULT_FEATURE_SPEC.known.length,
      targets: DEFAULT_FEATURE_SPEC.targets.length,
    },
    buildDataset: {
      medianMs: round(median(build.ms)),
      runsMs: build.ms.map((x) => round(x)),
      heapUsedMb: round(heapMb),
    },
    trainEpoch: { batchSize: 64, oversamplePositives: 2, windows: epoch.value, medianMs: round(median(epoch.ms)) },
    inference1000: { windowSamples: per, medianMs: round(median(inference.ms)) },
    dataset: {
      windows: stats.windows,
      points: stats.points,
      positives: stats.positives,
      positiveShare: round(stats.positiveShare, 4),
      skipped: stats.skipped,
      train: { ...stats.train, positiveShare: round(stats.train.positiveShare, 4) },
      validation: { ...stats.validation, positiveShare: round(stats.validation.positiveShare, 4) },
      heldOutServers: stats.heldOutServers,
      timeCut: stats.timeCut === null ? null : new Date(stats.timeCut).toISOString(),
      nonFiniteValues: stats.nonFiniteValues,
    },
  };
  const json = JSON.stringify(result);
  console.log(json);
  if (process.env.FEATURES_BENCH_OUT) writeFileSync(process.env.FEATURES_BENCH_OUT, `${json}\n`);
});
