import { describe, expect, it } from 'vitest';
import type { MetricsHistory } from '@shared/domain';
import {
  attentionPeak,
  chartedMetrics,
  failureModeRows,
  formatMetricValue,
  metricSeries,
  topVariables,
} from './ServerDetail.model';

const history: MetricsHistory = {
  server: 'db1',
  profile: 'database',
  stepMinutes: 5,
  times: ['2026-01-01T11:50:00.000Z', '2026-01-01T11:55:00.000Z', '2026-01-01T12:00:00.000Z'],
  metrics: {
    cpu_percent: [10, null, 30],
    memory_percent: [50, 60, null],
  } as MetricsHistory['metrics'],
  states: ['healthy', null, 'healthy'],
};
const horizon = ['2026-01-01T12:30:00.000Z', '2026-01-01T13:00:00.000Z'];

describe('metric series', () => {
  it('keeps gaps as null and joins the forecast to the newest reported value', () => {
    const s = metricSeries(
      'cpu_percent',
      history,
      { metric: 'cpu_percent', p10: [20, 25], p50: [35, 40], p90: [50, 70] },
      horizon,
    );
    expect(s.history.map((p) => p[1])).toEqual([10, null, 30]);
    expect(s.last).toBe(30);
    expect(s.p50.map((p) => p[1])).toEqual([30, 35, 40]);
    expect(s.bandWidth.map((p) => p[1])).toEqual([0, 30, 45]);
    expect(s.p50[0]![0]).toBe(Date.parse('2026-01-01T12:00:00.000Z'));
    expect(s).toMatchObject({ warning: 85, critical: 95, forecastEnd: 40 });
  });
  it('starts the forecast from the last value even when the newest step is a gap', () => {
    const s = metricSeries(
      'memory_percent',
      history,
      { metric: 'memory_percent', p10: [55], p50: [62], p90: [70] },
      horizon.slice(0, 1),
    );
    expect(s.last).toBe(60);
    expect(s.p10.map((p) => p[1])).toEqual([60, 55]);
  });
  it('without a forecast, has history only', () => {
    const s = metricSeries('cpu_percent', history, undefined, undefined);
    expect(s.p50).toEqual([]);
    expect(s.forecastEnd).toBeNull();
  });
  it('charts the model targets, or every metric with a threshold when there is no forecast', () => {
    expect(chartedMetrics([{ metric: 'disk_percent', p10: [], p50: [], p90: [] }])).toEqual(['disk_percent']);
    const fallback = chartedMetrics(undefined);
    expect(fallback).toContain('memory_percent');
    expect(fallback).not.toContain('load_average');
  });
});

describe('explanation and modes', () => {
  it('sorts failure modes by probability and names "none" plainly', () => {
    expect(failureModeRows({ none: 0.2, memory: 0.7, disk: 0.1 }).map((r) => [r.label, r.p])).toEqual([
      ['memory', 0.7],
      ['no incident', 0.2],
      ['disk', 0.1],
    ]);
  });
  it('keeps the top variables within each kind, kinds in order', () => {
    const vars = [
      { name: 'weekend', kind: 'known' as const, importance: 0.1 },
      { name: 'memory_percent:max', kind: 'observed' as const, importance: 0.5 },
      { name: 'cpu_percent:mean', kind: 'observed' as const, importance: 0.2 },
      { name: 'hour_sin', kind: 'known' as const, importance: 0.9 },
      { name: 'profile', kind: 'static' as const, importance: 1 },
    ];
    expect(topVariables(vars, 1).map((v) => v.name)).toEqual(['memory_percent:max', 'hour_sin', 'profile']);
  });
  it('finds where the attention peaks', () => {
    expect(attentionPeak(['2026-01-01T10:00:00.000Z', '2026-01-01T11:00:00.000Z'], [0.2, 0.8])).toEqual({
      at: Date.parse('2026-01-01T11:00:00.000Z'),
      weight: 0.8,
    });
    expect(attentionPeak([], [])).toBeNull();
  });
  it('writes values in their units', () => {
    expect(formatMetricValue('cpu_percent', 42.123)).toBe('42.1 %');
    expect(formatMetricValue('error_rate', 0.0312)).toBe('3.12 %');
    expect(formatMetricValue('latency_ms', 830.4)).toBe('830 ms');
    expect(formatMetricValue('cpu_percent', null)).toBe('—');
  });
});
