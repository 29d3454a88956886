/**
 * The baselines of EVALUATION.md, scored from the raw 5-minute samples at each evaluation point t
 * using only samples with timestamp <= t. Every baseline's score is the largest share of its
 * critical threshold that any contract metric with a critical threshold reaches (or is projected
 * to reach): >= 1 means "over the threshold". Missing samples are skipped, never read as 0.
 *
 * - reactive: the highest sample in the last 30 minutes (t - 30 min, t] (lead time 0 by design);
 * - predict_linear (1 h, 6 h): Prometheus' least-squares line over the samples in (t - W, t],
 *   evaluated at t + 8 h;
 * - seasonal naive: "same time yesterday": the highest sample in (t - 24 h, t - 16 h], i.e. the
 *   next 8 hours one day earlier;
 * - Holt (double exponential smoothing, level + trend, run over every sample <= t): the highest
 *   point of its 8-hour forecast (a line, so one of its two ends).
 */
import { METRIC_BY_NAME, METRIC_NAMES, STEP_MS, type MetricName } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import type { ScoredPoints } from './alerts';

const HOUR = 3_600_000;

/** Metrics that have a critical threshold (all of them "higher is worse"). */
export const THRESHOLD_METRICS: readonly MetricName[] = METRIC_NAMES.filter((m) => METRIC_BY_NAME[m].critical !== null);

export interface ServerSeries {
  server: string;
  /** Sample timestamps, increasing. */
  time: Float64Array;
  /** Per threshold metric: value / critical, NaN where missing or not finite. */
  ratio: Float64Array[];
}

/** Each server's samples, sorted by time, as shares of the critical thresholds. */
export function seriesByServer(columns: SampleColumns): Map<string, ServerSeries> {
  const rows = new Map<string, number[]>();
  for (let i = 0; i < columns.length; i++) {
    const s = columns.server[i]!;
    const list = rows.get(s);
    if (list) list.push(i);
    else rows.set(s, [i]);
  }
  const out = new Map<string, ServerSeries>();
  for (const [server, idx] of rows) {
    idx.sort((a, b) => columns.timestamp[a]! - columns.timestamp[b]!);
    const time = Float64Array.from(idx, (i) => columns.timestamp[i]!);
    const ratio = THRESHOLD_METRICS.map((m) => {
      const col = columns.metrics[m];
      const critical = METRIC_BY_NAME[m].critical!;
      return Float64Array.from(idx, (i) =>
        col.present[i] && Number.isFinite(col.values[i]!) ? col.values[i]! / critical : NaN,
      );
    });
    out.set(server, { server, time, ratio });
  }
  return out;
}

/** Index of the last sample with time <= t, -1 when none. */
export function lastAtOrBefore(time: Float64Array, t: number): number {
  let a = 0;
  let b = time.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (time[mid]! <= t) a = mid + 1;
    else b = mid;
  }
  return a - 1;
}

/** Highest value among samples with time in (from, to], -Infinity when none. */
export function maxIn(time: Float64Array, values: Float64Array, from: number, to: number): number {
  let best = -Infinity;
  for (let i = lastAtOrBefore(time, to); i >= 0 && time[i]! > from; i--) {
    const v = values[i]!;
    if (v > best) best = v;
  }
  return best;
}

/** Least-squares line over the samples in (t - window, t], evaluated at t + ahead; NaN with fewer than 2 valid samples. */
export function predictLinear(
  time: Float64Array,
  values: Float64Array,
  t: number,
  windowMs: number,
  aheadMs: number,
): number {
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = lastAtOrBefore(time, t); i >= 0 && time[i]! > t - windowMs; i--) {
    const y = values[i]!;
    if (Number.isNaN(y)) continue;
    const x = (time[i]! - t) / HOUR;
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  if (n < 2) return NaN;
  const d = n * sxx - sx * sx;
  const slope = d > 0 ? (n * sxy - sx * sy) / d : 0;
  const intercept = (sy - slope * sx) / n;
  return intercept + slope * (aheadMs / HOUR);
}

export interface HoltParams {
  alpha: number;
  beta: number;
}

/**
 * Holt's linear method over `values` (NaN = missing: the state carries over), one state per
 * sample. Returns, for each sample index i, the highest point of the forecast 1..steps samples
 * ahead made after sample i (NaN before the first valid sample).
 */
export function holtForecastMax(values: Float64Array, params: HoltParams, steps: number): Float64Array {
  const out = new Float64Array(values.length).fill(NaN);
  let level = NaN;
  let trend = 0;
  const { alpha, beta } = params;
  for (let i = 0; i < values.length; i++) {
    const y = values[i]!;
    if (!Number.isNaN(y)) {
      if (Number.isNaN(level)) {
        level = y;
        trend = 0;
      } else {
        const previous = level;
        level = alpha * y + (1 - alpha) * (level + trend);
        trend = beta * (level - previous) + (1 - beta) * trend;
      }
    }
    if (!Number.isNaN(level)) out[i] = Math.max(level + trend, level + steps * trend);
  }
  return out;
}

export const BASELINES = ['reactive', 'predict_linear_1h', 'predict_linear_6h', 'seasonal_naive', 'holt'] as const;
export type BaselineName = (typeof BASELINES)[number];

export interface BaselineOptions {
  horizonMs: number;
  holt: HoltParams;
}

/** Scores of every baseline at every point (data <= t only). */
export function baselineScores(
  points: ScoredPoints,
  series: Map<string, ServerSeries>,
  options: BaselineOptions,
): Record<BaselineName, Float64Array> {
  const n = points.time.length;
  const out = Object.fromEntries(BASELINES.map((b) => [b, new Float64Array(n)])) as Record<BaselineName, Float64Array>;
  out.holt = holtScores(points, series, options.holt, options.horizonMs);
  const H = options.horizonMs;
  for (let i = 0; i < n; i++) {
    const s = series.get(points.servers[points.slot[i]!]!);
    const t = points.time[i]!;
    let reactive = 0;
    let pl1 = 0;
    let pl6 = 0;
    let naive = 0;
    if (s) {
      for (const v of s.ratio) {
        reactive = Math.max(reactive, finiteOr0(maxIn(s.time, v, t - STEP_MS * 6, t)));
        pl1 = Math.max(pl1, finiteOr0(predictLinear(s.time, v, t, HOUR, H)));
        pl6 = Math.max(pl6, finiteOr0(predictLinear(s.time, v, t, 6 * HOUR, H)));
        naive = Math.max(naive, finiteOr0(maxIn(s.time, v, t - 24 * HOUR, t - 24 * HOUR + H)));
      }
    }
    out.reactive[i] = reactive;
    out.predict_linear_1h[i] = pl1;
    out.predict_linear_6h[i] = pl6;
    out.seasonal_naive[i] = naive;
  }
  return out;
}

function finiteOr0(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

/** Holt scores at the points: the state after the last sample <= t, forecast `horizonMs` ahead. */
export function holtScores(
  points: ScoredPoints,
  series: Map<string, ServerSeries>,
  params: HoltParams,
  horizonMs: number,
): Float64Array {
  const out = new Float64Array(points.time.length);
  const steps = Math.round(horizonMs / STEP_MS);
  const cache = new Map<string, Float64Array[]>();
  for (let i = 0; i < points.time.length; i++) {
    const server = points.servers[points.slot[i]!]!;
    const s = series.get(server);
    if (!s) continue;
    let forecasts = cache.get(server);
    if (!forecasts) {
      cache.clear();
      forecasts = s.ratio.map((v) => holtForecastMax(v, params, steps));
      cache.set(server, forecasts);
    }
    const k = lastAtOrBefore(s.time, points.time[i]!);
    if (k < 0) continue;
    let best = 0;
    for (const f of forecasts) if (Number.isFinite(f[k]!)) best = Math.max(best, f[k]!);
    out[i] = best;
  }
  return out;
}

/** The Holt grid searched on the validation fleet. */
export const HOLT_GRID: HoltParams[] = [0.05, 0.1, 0.2, 0.4, 0.8].flatMap((alpha) =>
  [0.005, 0.02, 0.05, 0.2].map((beta) => ({ alpha, beta })),
);
