import { METRIC_BY_NAME, METRIC_NAMES, type MetricName } from '@shared/contract';
import { RISK_THRESHOLDS, type FleetTrends } from '@shared/domain';
import type { ChartOption } from '../charts/EChart';
import { baseChartOption, timeAxis, valueAxis, type ChartTheme } from './trends-chart-theme';

/** The time ranges the Trends view offers. */
export const TREND_RANGES = [
  { id: '6h', label: '6 h', hours: 6 },
  { id: '24h', label: '24 h', hours: 24 },
  { id: '7d', label: '7 d', hours: 168 },
] as const;
export type TrendRangeId = (typeof TREND_RANGES)[number]['id'];

export function rangeHours(id: TrendRangeId): number {
  return TREND_RANGES.find((r) => r.id === id)?.hours ?? 24;
}

/** Live refresh on predictions.updated, at most this often: a trend does not move faster. */
export const TRENDS_THROTTLE_MS = 5_000;

type Series = readonly (number | null)[];

/** [time, value] pairs for a time axis; a null stays null (a gap in the line, never a zero). */
export function pairs(times: readonly string[], values: Series | undefined): [number, number | null][] {
  return times.map((t, i) => {
    const v = values?.[i];
    return [Date.parse(t), v === undefined || v === null || !Number.isFinite(v) ? null : v];
  });
}

/** True when a series holds at least one number. */
export function hasValues(values: Series | undefined): boolean {
  return !!values && values.some((v) => v !== null && Number.isFinite(v));
}

/** The last number of a series, or null. */
export function lastValue(values: Series | undefined): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined && Number.isFinite(v)) return v;
  }
  return null;
}

/** The largest number of a series, or null. */
export function maxValue(values: Series | undefined): number | null {
  let best: number | null = null;
  for (const v of values ?? []) if (v !== null && Number.isFinite(v) && (best === null || v > best)) best = v;
  return best;
}

/** What each chart of the view has: the view says "no data yet" per chart instead of drawing empty axes. */
export function trendsCoverage(trends: FleetTrends) {
  const bandMetrics = (Object.keys(trends.confidence.bandWidth) as MetricName[]).filter((m) =>
    hasValues(trends.confidence.bandWidth[m]),
  );
  const metricsWithData = METRIC_NAMES.filter((m) => hasValues(trends.metrics[m]?.mean));
  const alertsOpened = Object.values(trends.alertsOpened).reduce((n, s) => n + s.reduce((a, b) => a + b, 0), 0);
  return {
    risk: hasValues(trends.risk.mean),
    confidence: hasValues(trends.confidence.decisiveness) || bandMetrics.length > 0,
    bandMetrics,
    metricsWithData,
    alertsOpened,
    buckets: trends.times.length,
    /** Buckets with a prediction cycle (risk) and with metric samples (the fleet's CPU, reported by everyone). */
    riskBuckets: bucketsWithData(trends.risk.mean),
    confidenceBuckets: bucketsWithData(trends.confidence.decisiveness),
  };
}

const pct = (v: number): string => `${Math.round(v * 100)} %`;

function percentAxis(theme: ChartTheme, name?: string) {
  return valueAxis(theme, { min: 0, max: 1, name, axisLabel: { color: theme.textMuted, formatter: pct } });
}

/**
 * Whether a line needs its points drawn: a point with no neighbour (a bucket between gaps, the
 * first cycle of a fresh store) is invisible as a line alone, and few points read better as dots.
 */
export function needsSymbols(data: readonly (readonly [number, number | null])[]): boolean {
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i]![1] === null) continue;
    count++;
    if ((data[i - 1]?.[1] ?? null) === null && (data[i + 1]?.[1] ?? null) === null) return true;
  }
  return count > 0 && count < 24;
}

/** How many buckets hold a value: the panels say "data in 3 of 96 buckets" when history is short. */
export function bucketsWithData(values: Series | undefined): number {
  return (values ?? []).filter((v) => v !== null && Number.isFinite(v)).length;
}

function line(name: string, data: [number, number | null][], color: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'line' as const,
    name,
    data,
    showSymbol: needsSymbols(data),
    symbol: 'circle',
    symbolSize: 5,
    connectNulls: false,
    lineStyle: { width: 2, color },
    itemStyle: { color },
    ...extra,
  };
}

export function thresholdLines(theme: ChartTheme, warning: number, critical: number) {
  return {
    silent: true,
    symbol: 'none',
    label: { color: theme.textMuted, formatter: '{b}', position: 'insideEndTop' },
    data: [
      { yAxis: warning, name: 'warning', lineStyle: { color: theme.warn, type: 'dashed', width: 1 } },
      { yAxis: critical, name: 'critical', lineStyle: { color: theme.error, type: 'dashed', width: 1 } },
    ],
  };
}

const GRID = { left: 52, right: 24, top: 48, bottom: 28 };
/** The risk chart has a second axis (servers) on the right. */
const GRID_TWO_AXES = { ...GRID, right: 52 };

/** Risk over time: the fleet's mean, p90 and max, with the alert levels, and the servers at risk on a second axis. */
export function riskOption(trends: FleetTrends, theme: ChartTheme): ChartOption {
  const { warning, critical } = RISK_THRESHOLDS;
  return {
    ...baseChartOption(theme),
    grid: GRID_TWO_AXES,
    xAxis: timeAxis(theme),
    yAxis: [
      percentAxis(theme),
      valueAxis(theme, {
        name: 'Servers',
        minInterval: 1,
        // A single server at risk is not a full-height bar: the axis reaches 4 at least.
        max: (extent: { max: number }) => Math.max(4, extent.max),
        splitLine: { show: false },
        nameTextStyle: { color: theme.textMuted, align: 'right' },
      }),
    ],
    tooltip: { ...baseChartOption(theme).tooltip, valueFormatter: formatTooltipValue },
    series: [
      {
        type: 'bar' as const,
        name: 'Servers at risk',
        yAxisIndex: 1,
        data: pairs(trends.times, trends.risk.atRisk),
        itemStyle: { color: theme.riskHigh, opacity: 0.35 },
        barMaxWidth: 10,
        tooltip: { valueFormatter: (v: unknown) => (typeof v === 'number' ? v.toFixed(1) : '—') },
      },
      line('Mean', pairs(trends.times, trends.risk.mean), theme.accent, {
        markLine: thresholdLines(theme, warning, critical),
      }),
      line('P90', pairs(trends.times, trends.risk.p90), theme.riskElevated),
      line('Max', pairs(trends.times, trends.risk.max), theme.riskCritical, {
        lineStyle: { width: 1.5, color: theme.riskCritical, type: 'dotted' },
      }),
    ],
  };
}

function formatTooltipValue(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? (v <= 1 ? pct(v) : v.toFixed(1)) : '—';
}

/** Short metric names for legends: "memory", "net in", "latency". */
export function metricShortName(metric: MetricName): string {
  return metric
    .replace(/_percent$/, '')
    .replace(/_mbps$/, '')
    .replace(/^network_/, 'net ')
    .replace(/_ms$/, '')
    .replace(/_/g, ' ');
}

/**
 * Prediction confidence: decisiveness (how far the cycles' risks sit from a coin flip) and, per
 * target metric, the P10-P90 band's width at +1 h as a share of the metric's range.
 */
export function confidenceOption(trends: FleetTrends, theme: ChartTheme): ChartOption {
  const band = (Object.keys(trends.confidence.bandWidth) as MetricName[]).filter((m) =>
    hasValues(trends.confidence.bandWidth[m]),
  );
  return {
    ...baseChartOption(theme),
    // One legend entry per target metric: room for a second legend line.
    grid: { ...GRID, top: band.length > 3 ? 68 : GRID.top },
    xAxis: timeAxis(theme),
    yAxis: percentAxis(theme),
    tooltip: {
      ...baseChartOption(theme).tooltip,
      valueFormatter: (v: unknown) => (typeof v === 'number' ? pct(v) : '—'),
    },
    series: [
      line('Decisiveness', pairs(trends.times, trends.confidence.decisiveness), theme.accent, {
        lineStyle: { width: 2.5, color: theme.accent },
        areaStyle: { color: theme.accent, opacity: 0.08 },
      }),
      ...band.map((metric, i) =>
        line(
          `Band ${metricShortName(metric)}`,
          pairs(trends.times, trends.confidence.bandWidth[metric]),
          theme.series[(i + 1) % theme.series.length]!,
          { lineStyle: { width: 1.5, type: 'dashed', color: theme.series[(i + 1) % theme.series.length] } },
        ),
      ),
    ],
  };
}

/** "12.3 %", "840 Mbit/s", "0.012": a metric value with its unit, as axes and tooltips show it. */
export function formatMetricValue(metric: MetricName, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const unit = METRIC_BY_NAME[metric].unit;
  if (unit === '%') return `${value.toFixed(1)} %`;
  if (unit === 'ratio') return value < 0.1 ? value.toFixed(3) : value.toFixed(2);
  const digits = Math.abs(value) >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${unit}`;
}

/** One metric across the fleet: mean and p90 per bucket, with the contract's warning and critical lines. */
export function metricOption(trends: FleetTrends, metric: MetricName, theme: ChartTheme): ChartOption {
  const spec = METRIC_BY_NAME[metric];
  const values = trends.metrics[metric];
  const peak = Math.max(maxValue(values?.p90) ?? 0, maxValue(values?.mean) ?? 0);
  // Show a threshold only when the data comes near it: a 95 % line above a 20 % curve flattens it.
  const lines = [
    spec.warning !== null && peak >= spec.warning * 0.6
      ? { yAxis: spec.warning, name: 'warning', lineStyle: { color: theme.warn, type: 'dashed', width: 1 } }
      : null,
    spec.critical !== null && peak >= spec.critical * 0.6
      ? { yAxis: spec.critical, name: 'critical', lineStyle: { color: theme.error, type: 'dashed', width: 1 } }
      : null,
  ].filter((l) => l !== null);
  return {
    ...baseChartOption(theme),
    grid: GRID,
    xAxis: timeAxis(theme),
    yAxis: valueAxis(theme, {
      // A percentage says so on its labels; other units name the axis.
      name: spec.unit === '%' ? undefined : spec.unit,
      min: spec.unit === '%' ? 0 : undefined,
      max: spec.unit === '%' ? (peak > 60 ? 100 : undefined) : undefined,
      axisLabel: spec.unit === '%' ? { color: theme.textMuted, formatter: '{value} %' } : { color: theme.textMuted },
    }),
    tooltip: {
      ...baseChartOption(theme).tooltip,
      valueFormatter: (v: unknown) => formatMetricValue(metric, v as number),
    },
    series: [
      line('Fleet mean', pairs(trends.times, values?.mean), theme.accent, {
        markLine: lines.length
          ? {
              silent: true,
              symbol: 'none',
              label: { color: theme.textMuted, formatter: '{b}', position: 'insideEndTop' },
              data: lines,
            }
          : undefined,
      }),
      line('Fleet p90', pairs(trends.times, values?.p90), theme.series[1]!, {
        areaStyle: undefined,
        lineStyle: { width: 1.5, color: theme.series[1] },
      }),
    ],
  };
}

/** Alerts opened per bucket, stacked by severity. */
export function alertsOpenedOption(trends: FleetTrends, theme: ChartTheme): ChartOption {
  const bar = (name: string, values: readonly number[] | undefined, color: string) => ({
    type: 'bar' as const,
    name,
    stack: 'opened',
    data: trends.times.map((t, i) => [Date.parse(t), values?.[i] ?? 0]),
    itemStyle: { color },
    barMaxWidth: 14,
  });
  return {
    ...baseChartOption(theme),
    grid: GRID,
    xAxis: timeAxis(theme),
    yAxis: valueAxis(theme, { minInterval: 1, name: 'Alerts' }),
    series: [
      bar('Warning', trends.alertsOpened.warning, theme.warn),
      bar('Critical', trends.alertsOpened.critical, theme.error),
    ],
  };
}

/** One sentence per chart for screen readers (the canvas says nothing). */
export function describeTrends(trends: FleetTrends, hours: number) {
  const span = hours >= 48 ? `${Math.round(hours / 24)} days` : `${hours} hours`;
  const mean = lastValue(trends.risk.mean);
  const max = maxValue(trends.risk.max);
  const decisive = lastValue(trends.confidence.decisiveness);
  const opened = trendsCoverage(trends).alertsOpened;
  return {
    risk:
      mean === null
        ? `No fleet risk over the last ${span}.`
        : `Fleet risk over the last ${span}: mean now ${pct(mean)}, highest server ${max === null ? '—' : pct(max)}.`,
    confidence:
      decisive === null
        ? `No prediction confidence over the last ${span}.`
        : `Prediction decisiveness over the last ${span}, now ${pct(decisive)}, with forecast band widths per metric.`,
    alerts: `${opened} alert${opened === 1 ? '' : 's'} opened over the last ${span}, by severity.`,
    metric: (metric: MetricName) => {
      const m = lastValue(trends.metrics[metric]?.mean);
      return `${metric} across the fleet over the last ${span}: mean and 90th percentile${
        m === null ? '' : `, mean now ${formatMetricValue(metric, m)}`
      }.`;
    },
  };
}
