import { METRIC_BY_NAME, type MetricName } from '@shared/contract';
import { FAILURE_MODE_METRIC, type Alert, type ForecastBand, type ServerSummary } from '@shared/domain';
import { formatDuration } from '../format';
import { riskBand, type RiskBand, type RiskThresholds } from '../risk';

/** The metric to chart for a failure mode: its own, else the first forecast band (cpu for the bundled model). */
export function metricForMode(mode: string | null, bands: readonly ForecastBand[]): MetricName | null {
  const own = mode ? FAILURE_MODE_METRIC[mode] : undefined;
  if (own && bands.some((b) => b.metric === own)) return own;
  return bands[0]?.metric ?? own ?? null;
}

/** Reporting servers with a risk score, highest first (ties by name), at most `limit`. */
export function topProblemServers(servers: readonly ServerSummary[], limit = 10): ServerSummary[] {
  return servers
    .filter((s) => s.reporting && s.risk !== null)
    .sort((a, b) => b.risk! - a.risk! || a.name.localeCompare(b.name))
    .slice(0, limit);
}

export type TimeToThreshold =
  /** The forecast's P50 reaches the critical threshold at `atMs` (fleet time). */
  | { kind: 'at'; atMs: number; metric: MetricName; threshold: number; source: 'alert' | 'forecast' | 'measured' }
  /** The P50 stays under the threshold over the whole horizon. */
  | { kind: 'beyond'; metric: MetricName; threshold: number }
  /** The failure mode has no metric with a contract threshold, or there is no forecast. */
  | { kind: 'none' };

/**
 * When the failure mode's metric is forecast to reach its contract critical threshold: now when
 * its newest measured value (`current`, with the fleet time `nowMs`) is already there; else the
 * open alert's own figure when there is one (the core computed it); else the first horizon step
 * whose P50 reaches the threshold.
 */
export function timeToThreshold(
  failureMode: string | null,
  alert: Pick<Alert, 'timeToThreshold'> | undefined,
  forecast: readonly ForecastBand[] | undefined,
  horizonTimes: readonly string[] | undefined,
  current?: { value: number | null | undefined; nowMs: number },
): TimeToThreshold {
  const modeMetric = failureMode ? FAILURE_MODE_METRIC[failureMode] : undefined;
  const modeCritical = modeMetric ? METRIC_BY_NAME[modeMetric].critical : null;
  if (
    modeMetric &&
    modeCritical !== null &&
    current &&
    typeof current.value === 'number' &&
    current.value >= modeCritical
  ) {
    return { kind: 'at', atMs: current.nowMs, metric: modeMetric, threshold: modeCritical, source: 'measured' };
  }
  if (alert?.timeToThreshold) {
    const atMs = Date.parse(alert.timeToThreshold.at);
    if (Number.isFinite(atMs)) {
      return {
        kind: 'at',
        atMs,
        metric: alert.timeToThreshold.metric,
        threshold: alert.timeToThreshold.threshold,
        source: 'alert',
      };
    }
  }
  const metric = failureMode ? FAILURE_MODE_METRIC[failureMode] : undefined;
  if (!metric) return { kind: 'none' };
  const threshold = METRIC_BY_NAME[metric].critical;
  const band = forecast?.find((b) => b.metric === metric);
  if (threshold === null || !band || !horizonTimes || horizonTimes.length === 0) return { kind: 'none' };
  const k = band.p50.findIndex((v) => v >= threshold);
  if (k < 0) return { kind: 'beyond', metric, threshold };
  const atMs = Date.parse(horizonTimes[Math.min(k, horizonTimes.length - 1)]!);
  if (!Number.isFinite(atMs)) return { kind: 'none' };
  return { kind: 'at', atMs, metric, threshold, source: 'forecast' };
}

/** "in 2 h 15 m", "now" (already there), "> 8 h", "—". */
export function formatTimeToThreshold(t: TimeToThreshold, fleetNowMs: number, horizonHours = 8): string {
  if (t.kind === 'none') return '—';
  if (t.kind === 'beyond') return `> ${horizonHours} h`;
  const ms = t.atMs - fleetNowMs;
  if (ms <= 60_000) return 'now';
  return `in ${formatDuration(ms / 1000)}`;
}

/** For the tooltip: "memory_percent P50 reaches 95 % (critical)…". */
export function describeTimeToThreshold(t: TimeToThreshold, horizonHours = 8): string {
  if (t.kind === 'none')
    return 'No threshold to reach: the failure mode has no metric with a contract critical threshold, or there is no forecast.';
  const spec = METRIC_BY_NAME[t.metric];
  const limit = `${t.threshold}${spec.unit === '%' ? ' %' : spec.unit === 'ratio' ? '' : ` ${spec.unit}`}`;
  if (t.kind === 'beyond')
    return `${t.metric} stays under its critical threshold (${limit}) over the next ${horizonHours} h (forecast P50).`;
  if (t.source === 'measured') return `${t.metric} is already at or over its critical threshold (${limit}).`;
  return `${t.metric} forecast (P50) reaches its critical threshold (${limit})${t.source === 'alert' ? ', from the open alert' : ''}.`;
}

export type Freshness = { state: 'empty' } | { state: 'fresh' | 'stale'; ageMs: number };

/** Data older than this (fleet time) is stale: the core's own reporting window. */
export const STALE_AFTER_MS = 15 * 60_000;

/** How old the newest sample is against the fleet clock. */
export function dataFreshness(lastSampleAt: string | null, fleetTime: string): Freshness {
  if (lastSampleAt === null) return { state: 'empty' };
  const ageMs = Math.max(0, Date.parse(fleetTime) - Date.parse(lastSampleAt));
  if (!Number.isFinite(ageMs)) return { state: 'empty' };
  return { state: ageMs > STALE_AFTER_MS ? 'stale' : 'fresh', ageMs };
}

export interface HistogramBar {
  label: string;
  from: number;
  to: number;
  count: number;
  band: RiskBand;
}

/** The core's equal bins over [0, 1] as bars, each coloured by the band its middle falls in. */
export function histogramBars(bins: readonly number[], thresholds: RiskThresholds): HistogramBar[] {
  const n = bins.length;
  return bins.map((count, i) => {
    const from = i / n;
    const to = (i + 1) / n;
    return {
      label: `${Math.round(from * 100)}–${Math.round(to * 100)} %`,
      from,
      to,
      count,
      band: riskBand((from + to) / 2, thresholds),
    };
  });
}

/** "97 %", "<1 %", ">99 %": a fleet probability is close to 0 or 1 more often than not. */
export function formatProbability(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return '—';
  if (p > 0 && p < 0.01) return '<1 %';
  if (p < 1 && p > 0.99) return '>99 %';
  return `${Math.round(p * 100)} %`;
}
