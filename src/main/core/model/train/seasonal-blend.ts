import type { FeatureDataset, FeatureSpec, WindowBatch } from '../features';
import { makeScaler, unscaleWith } from '../features';
import { medianIndex } from '../tft/tft-model';
import type { TftModel } from '../tft/tft-tfjs';

/** Candidate blends: 0 (the model's median) to 1 (yesterday's value), in steps of 0.05. */
const GRID = Array.from({ length: 21 }, (_, i) => i / 20);

export interface SeasonalBlendFit {
  /** Context steps back to "the same time yesterday" (steps per day). */
  lagSteps: number;
  /** Per target (spec.targets order), the share of the way from the model's median to yesterday's value. */
  blend: number[];
  /** Mean absolute error of the median in metric units on the windows used, per target: the model's, then blended (null: no valid target). */
  maeModel: (number | null)[];
  maeBlended: (number | null)[];
  /** Validation windows used. */
  windows: number;
}

/**
 * After training, per target metric: how far to move the forecast band from the model's median
 * towards the seasonal naive forecast (the value one day before each horizon step) to minimise
 * the median's absolute error on the training run's validation windows (late time of the training
 * servers: never the evaluation fleet). A stacked forecast with one weight per metric: the small
 * TFT under-uses the daily pattern of CPU and memory (MASE 1.21 / 0.99 against yesterday's value
 * on the validation fleet), yesterday's value misses trends (disk), and between them each metric
 * finds its mix. Null when the spec cannot have one: no forecast base, or a context shorter than
 * a day, or a horizon longer than a day.
 */
export function fitSeasonalBlend(
  model: TftModel,
  dataset: FeatureDataset,
  options: { maxWindows?: number; batchSize?: number } = {},
): SeasonalBlendFit | null {
  const spec = dataset.spec;
  const base = model.config.forecastBase;
  const lagSteps = Math.round((24 * 60) / spec.stepMinutes);
  if (!base || lagSteps > spec.contextSteps || spec.horizonSteps > lagSteps || !spec.normalization) return null;
  const index = dataset.split('validation');
  const n = Math.min(index.size, options.maxWindows ?? 4096);
  if (n === 0) return null;
  // Evenly spread over the split (its windows are ordered by server, then time).
  const rows = Int32Array.from({ length: n }, (_, i) => Math.floor((i * index.size) / n));
  const T = spec.targets.length;
  const sums = spec.targets.map(() => new Float64Array(GRID.length));
  const counts = new Float64Array(T);
  const batchSize = options.batchSize ?? 256;
  for (let from = 0; from < n; from += batchSize) {
    const batch = dataset.materialize('validation', rows.subarray(from, Math.min(n, from + batchSize)));
    const quantiles = model.predict(batch).quantiles;
    accumulate(spec, batch, quantiles, model.config.quantiles, base, lagSteps, sums, counts);
  }
  const blend: number[] = [];
  const maeModel: (number | null)[] = [];
  const maeBlended: (number | null)[] = [];
  for (let g = 0; g < T; g++) {
    const s = sums[g]!;
    let best = 0;
    for (let i = 1; i < GRID.length; i++) if (s[i]! < s[best]!) best = i;
    const n = counts[g]!;
    blend.push(n > 0 ? GRID[best]! : 0);
    maeModel.push(n > 0 ? s[0]! / n : null);
    maeBlended.push(n > 0 ? s[best]! / n : null);
  }
  return { lagSteps, blend, maeModel, maeBlended, windows: n };
}

function accumulate(
  spec: FeatureSpec,
  batch: WindowBatch,
  quantiles: Float32Array,
  modelQuantiles: readonly number[],
  base: NonNullable<TftModel['config']['forecastBase']>,
  lagSteps: number,
  sums: Float64Array[],
  counts: Float64Array,
): void {
  const T = spec.targets.length;
  const H = spec.horizonSteps;
  const Te = spec.contextSteps;
  const C = spec.observed.length;
  const Q = modelQuantiles.length;
  const mid = medianIndex(modelQuantiles);
  const scalers = spec.targets.map((m) => makeScaler(m, spec.scaling[m]));
  for (let b = 0; b < batch.size; b++) {
    for (let h = 0; h < H; h++) {
      const lagged = (b * Te + (Te - lagSteps + h)) * C;
      for (let g = 0; g < T; g++) {
        const o = (b * H + h) * T + g;
        if (!(batch.targetMask[o]! > 0)) continue;
        const scaler = scalers[g]!;
        const y = unscaleWith(scaler, batch.targets[o]!);
        const median = quantiles[o * Q + mid]!;
        const yesterday = base.scale[g]! * batch.observed[lagged + base.channels[g]!]! + base.center[g]!;
        const s = sums[g]!;
        for (let i = 0; i < GRID.length; i++) s[i]! += Math.abs(y - unscaleWith(scaler, median + GRID[i]! * (yesterday - median)));
        counts[g]!++;
      }
    }
  }
}
