import { describe, expect, it } from 'vitest';
import type { FleetTrends } from '@shared/domain';
import { readChartTheme } from './trends-chart-theme';
import {
  alertsOpenedOption,
  confidenceOption,
  describeTrends,
  formatMetricValue,
  hasValues,
  lastValue,
  maxValue,
  bucketsWithData,
  needsSymbols,
  metricOption,
  metricShortName,
  pairs,
  rangeHours,
  riskOption,
  trendsCoverage,
} from './trends-model';

const theme = readChartTheme((_name, fallback) => fallback);
const T0 = Date.UTC(2026, 2, 3, 0, 0);
const times = [0, 1, 2, 3].map((i) => new Date(T0 + i * 15 * 60_000).toISOString());
const emptyMetric = { mean: [null, null, null, null], p90: [null, null, null, null] };

function trends(overrides: Partial<FleetTrends> = {}): FleetTrends {
  return {
    bucketMinutes: 15,
    times,
    risk: {
      mean: [0.1, null, 0.2, 0.25],
      p90: [0.3, null, 0.4, 0.5],
      max: [0.5, null, 0.7, 0.9],
      atRisk: [1, null, 2, 3],
    },
    confidence: {
      decisiveness: [0.8, 0.7, null, 0.6],
      bandWidth: { memory_percent: [0.1, 0.12, null, 0.2], cpu_percent: [null, null, null, null] },
    },
    metrics: {
      cpu_percent: { mean: [20, 22, null, 30], p90: [40, 45, null, 60] },
      memory_percent: { mean: [50, 60, 70, 80], p90: [70, 80, 90, 96] },
      disk_percent: emptyMetric,
      iowait_percent: emptyMetric,
      swap_percent: emptyMetric,
      load_average: emptyMetric,
      network_in_mbps: emptyMetric,
      network_out_mbps: emptyMetric,
      latency_ms: emptyMetric,
      error_rate: emptyMetric,
    },
    alertsOpened: { warning: [0, 2, 1, 0], critical: [0, 0, 1, 1] },
    ...overrides,
  };
}

type AnySeries = {
  name: string;
  type: string;
  data: unknown[];
  stack?: string;
  markLine?: { data: { yAxis?: number; name?: string }[] };
};
const seriesOf = (option: unknown) => (option as { series: AnySeries[] }).series;

describe('trends view model', () => {
  it('maps the time ranges to hours', () => {
    expect(rangeHours('6h')).toBe(6);
    expect(rangeHours('24h')).toBe(24);
    expect(rangeHours('7d')).toBe(168);
  });

  it('pairs times with values and keeps gaps as null, never zero', () => {
    expect(pairs(times, [1, null, Number.NaN, 4])).toEqual([
      [T0, 1],
      [T0 + 15 * 60_000, null],
      [T0 + 30 * 60_000, null],
      [T0 + 45 * 60_000, 4],
    ]);
    expect(pairs(times, undefined).every(([, v]) => v === null)).toBe(true);
  });

  it('draws the points of a sparse line, which a line alone would not show', () => {
    const t = (i: number) => T0 + i * 60_000;
    const dense = Array.from({ length: 40 }, (_, i): [number, number | null] => [t(i), i]);
    expect(needsSymbols(dense)).toBe(false);
    // One lone bucket between gaps (a fresh store's first cycle).
    expect(needsSymbols([...dense.slice(0, 30), [t(30), null], [t(31), 5], [t(32), null]])).toBe(true);
    expect(
      needsSymbols([
        [t(0), null],
        [t(1), 0.2],
      ]),
    ).toBe(true);
    expect(needsSymbols([[t(0), null]])).toBe(false);
    expect(bucketsWithData([null, 1, Number.NaN, 0])).toBe(2);
  });

  it('reads series: any value, the last, the largest', () => {
    expect(hasValues([null, null])).toBe(false);
    expect(hasValues([null, 0])).toBe(true);
    expect(lastValue([1, 2, null])).toBe(2);
    expect(lastValue([null])).toBeNull();
    expect(maxValue([3, null, 7, 5])).toBe(7);
    expect(maxValue([])).toBeNull();
  });

  it('says which charts have data', () => {
    const c = trendsCoverage(trends());
    expect(c.risk).toBe(true);
    expect(c.confidence).toBe(true);
    expect(c.bandMetrics).toEqual(['memory_percent']);
    expect(c.metricsWithData).toEqual(['cpu_percent', 'memory_percent']);
    expect(c.alertsOpened).toBe(5);
    const none = trendsCoverage(
      trends({
        risk: { mean: [null, null, null, null], p90: [], max: [], atRisk: [] },
        confidence: { decisiveness: [null, null, null, null], bandWidth: {} },
      }),
    );
    expect(none.risk).toBe(false);
    expect(none.confidence).toBe(false);
  });

  it('draws risk as mean, p90 and max lines with the alert levels, and servers at risk as bars', () => {
    const series = seriesOf(riskOption(trends(), theme));
    expect(series.map((s) => s.name)).toEqual(['Servers at risk', 'Mean', 'P90', 'Max']);
    expect(series[0]!.type).toBe('bar');
    expect(series[1]!.data[1]).toEqual([T0 + 15 * 60_000, null]);
    expect(series[1]!.markLine!.data.map((d) => d.yAxis)).toEqual([0.3, 0.6]);
  });

  it('draws confidence: decisiveness, and a band line only for metrics that have one', () => {
    const names = seriesOf(confidenceOption(trends(), theme)).map((s) => s.name);
    expect(names).toEqual(['Decisiveness', 'Band memory']);
  });

  it('draws a metric with mean and p90, and its thresholds only when the data comes near them', () => {
    const memory = seriesOf(metricOption(trends(), 'memory_percent', theme));
    expect(memory.map((s) => s.name)).toEqual(['Fleet mean', 'Fleet p90']);
    expect(memory[0]!.markLine!.data.map((d) => d.name)).toEqual(['warning', 'critical']);
    expect(memory[1]!.data[3]).toEqual([T0 + 45 * 60_000, 96]);
    // CPU peaks at 60 %, past 60 % of both thresholds (51 and 57): both lines; at 23 % neither.
    const cpu = seriesOf(metricOption(trends(), 'cpu_percent', theme));
    expect(cpu[0]!.markLine!.data.length).toBe(2);
    const low = trends();
    low.metrics.cpu_percent = { mean: [10, 12, 11, 13], p90: [20, 22, 21, 23] };
    expect(seriesOf(metricOption(low, 'cpu_percent', theme))[0]!.markLine).toBeUndefined();
  });

  it('stacks alerts opened by severity, zero where none opened', () => {
    const series = seriesOf(alertsOpenedOption(trends(), theme));
    expect(series.map((s) => [s.name, s.stack])).toEqual([
      ['Warning', 'opened'],
      ['Critical', 'opened'],
    ]);
    expect(series[1]!.data).toEqual([
      [T0, 0],
      [T0 + 15 * 60_000, 0],
      [T0 + 30 * 60_000, 1],
      [T0 + 45 * 60_000, 1],
    ]);
  });

  it('formats metric values with their units', () => {
    expect(formatMetricValue('memory_percent', 81.26)).toBe('81.3 %');
    expect(formatMetricValue('latency_ms', 1234.5)).toBe('1235 ms');
    expect(formatMetricValue('network_in_mbps', 12.34)).toBe('12.3 Mbit/s');
    expect(formatMetricValue('error_rate', 0.0123)).toBe('0.012');
    expect(formatMetricValue('cpu_percent', null)).toBe('—');
    expect(metricShortName('network_in_mbps')).toBe('net in');
    expect(metricShortName('memory_percent')).toBe('memory');
  });

  it('describes each chart in a sentence for screen readers', () => {
    const d = describeTrends(trends(), 24);
    expect(d.risk).toBe('Fleet risk over the last 24 hours: mean now 25 %, highest server 90 %.');
    expect(d.alerts).toBe('5 alerts opened over the last 24 hours, by severity.');
    expect(describeTrends(trends(), 168).confidence).toContain('7 days');
    expect(d.metric('memory_percent')).toContain('mean now 80.0 %');
  });
});
