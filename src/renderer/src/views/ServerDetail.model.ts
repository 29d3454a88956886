import { METRIC_BY_NAME, METRICS, type MetricName } from '@shared/contract';
import type { ForecastBand, MetricsHistory, VariableImportance } from '@shared/domain';

/** A time series point for a time axis: [ms, value]; null values break the line (a gap). */
export type Point = [number, number | null];

export interface MetricSeries {
  metric: MetricName;
  history: Point[];
  /** The forecast, joined to the newest history point so the lines meet. */
  p10: Point[];
  p50: Point[];
  /** p90 - p10 per step (stacked on p10 to draw the band). */
  bandWidth: Point[];
  p90: Point[];
  warning: number | null;
  critical: number | null;
  /** The newest reported value, and the forecast's last P50. */
  last: number | null;
  forecastEnd: number | null;
}

/**
 * The metrics the detail charts: the model's targets (in model order) when there is a forecast;
 * without one, every contract metric with a threshold (what an SRE pages on).
 */
export function chartedMetrics(forecast: readonly ForecastBand[] | undefined): MetricName[] {
  if (forecast && forecast.length > 0) return forecast.map((b) => b.metric);
  return METRICS.filter((m) => m.critical !== null).map((m) => m.name);
}

/** One metric's last 24 h and 8 h forecast on one time axis. */
export function metricSeries(
  metric: MetricName,
  history: MetricsHistory | undefined,
  band: ForecastBand | undefined,
  horizonTimes: readonly string[] | undefined,
): MetricSeries {
  const spec = METRIC_BY_NAME[metric];
  const values = history?.metrics[metric] ?? [];
  const points: Point[] = (history?.times ?? []).map((t, i) => [Date.parse(t), values[i] ?? null]);
  let last: number | null = null;
  let lastPoint: Point | undefined;
  for (let i = points.length - 1; i >= 0; i--) {
    const v = points[i]![1];
    if (v !== null) {
      last = v;
      lastPoint = points[i];
      break;
    }
  }
  const p10: Point[] = [];
  const p50: Point[] = [];
  const p90: Point[] = [];
  const bandWidth: Point[] = [];
  if (band && horizonTimes && horizonTimes.length > 0) {
    // The forecast starts where the history ends: the last value, zero width.
    if (lastPoint && lastPoint[1] !== null) {
      const t0 = Math.min(lastPoint[0], Date.parse(horizonTimes[0]!) - 1);
      p10.push([t0, lastPoint[1]]);
      p50.push([t0, lastPoint[1]]);
      p90.push([t0, lastPoint[1]]);
      bandWidth.push([t0, 0]);
    }
    horizonTimes.forEach((t, k) => {
      const ms = Date.parse(t);
      const lo = band.p10[k];
      const mid = band.p50[k];
      const hi = band.p90[k];
      if (lo === undefined || mid === undefined || hi === undefined) return;
      p10.push([ms, lo]);
      p50.push([ms, mid]);
      p90.push([ms, hi]);
      bandWidth.push([ms, Math.max(0, hi - lo)]);
    });
  }
  return {
    metric,
    history: points,
    p10,
    p50,
    p90,
    bandWidth,
    warning: spec.warning,
    critical: spec.critical,
    last,
    forecastEnd: p50.length > 0 ? p50.at(-1)![1] : null,
  };
}

/** Failure modes by probability, highest first; "none" reads "no incident". */
export function failureModeRows(modes: Readonly<Record<string, number>>): { mode: string; label: string; p: number }[] {
  return Object.entries(modes)
    .filter(([, p]) => Number.isFinite(p))
    .map(([mode, p]) => ({ mode, label: mode === 'none' ? 'no incident' : mode, p }))
    .sort((a, b) => b.p - a.p || a.mode.localeCompare(b.mode));
}

export const KIND_LABEL: Record<VariableImportance['kind'], string> = {
  observed: 'past metrics',
  known: 'calendar',
  static: 'server',
};

/**
 * The variables worth a bar: the top `limit` of each kind by importance (each kind sums to 1 on
 * its own, so they are compared within a kind), kinds in the order observed, known, static.
 */
export function topVariables(variables: readonly VariableImportance[], limit = 8): VariableImportance[] {
  const out: VariableImportance[] = [];
  for (const kind of ['observed', 'known', 'static'] as const) {
    out.push(
      ...variables
        .filter((v) => v.kind === kind)
        .sort((a, b) => b.importance - a.importance || a.name.localeCompare(b.name))
        .slice(0, limit),
    );
  }
  return out;
}

/** The attention's peak, for the chart's label: "most attention 3 h 20 m before the forecast". */
export function attentionPeak(
  times: readonly string[],
  weights: readonly number[],
): { at: number; weight: number } | null {
  let best = -1;
  for (let i = 0; i < weights.length; i++) if (best < 0 || weights[i]! > weights[best]!) best = i;
  if (best < 0 || times[best] === undefined) return null;
  return { at: Date.parse(times[best]!), weight: weights[best]! };
}

/** "42.1 %", "830 ms", "0.031": a metric value with its unit, for labels. */
export function formatMetricValue(metric: MetricName, value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '—';
  const spec = METRIC_BY_NAME[metric];
  if (spec.unit === '%') return `${value.toFixed(1)} %`;
  if (spec.unit === 'ratio') return `${(value * 100).toFixed(2)} %`;
  if (spec.unit === 'ms') return `${Math.round(value)} ms`;
  if (spec.unit === 'Mbit/s') return `${value.toFixed(value < 10 ? 2 : 0)} Mbit/s`;
  return value.toFixed(2);
}
