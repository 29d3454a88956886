import { describe, expect, it } from 'vitest';
import type { ForecastBand, ServerSummary } from '@shared/domain';
import {
  dataFreshness,
  formatProbability,
  formatTimeToThreshold,
  histogramBars,
  metricForMode,
  timeToThreshold,
  topProblemServers,
} from './OverviewView.model';

function server(name: string, risk: number | null, overrides: Partial<ServerSummary> = {}): ServerSummary {
  return {
    name,
    profile: 'generic',
    state: 'healthy',
    lastSeen: '2026-01-01T12:00:00.000Z',
    reporting: true,
    latest: {},
    risk,
    failureMode: risk === null ? null : 'memory',
    riskUnavailable: null,
    health: 'healthy',
    ...overrides,
  };
}

const band = (metric: ForecastBand['metric'], p50: number[]): ForecastBand => ({
  metric,
  p10: p50.map((v) => v - 5),
  p50,
  p90: p50.map((v) => v + 5),
});
const times = ['2026-01-01T12:30:00.000Z', '2026-01-01T13:00:00.000Z', '2026-01-01T13:30:00.000Z'];

describe('top problem servers', () => {
  it('ranks reporting servers with a risk, highest first, ties by name, at most ten', () => {
    const list = [
      server('b', 0.5),
      server('a', 0.5),
      server('c', 0.9),
      server('stale', 0.99, { reporting: false, health: 'stale' }),
      server('none', null),
      ...Array.from({ length: 20 }, (_, i) => server(`x${i}`, 0.01 * i)),
    ];
    const top = topProblemServers(list);
    expect(top).toHaveLength(10);
    expect(top.slice(0, 3).map((s) => s.name)).toEqual(['c', 'a', 'b']);
    expect(top.map((s) => s.name)).not.toContain('stale');
    expect(top.map((s) => s.name)).not.toContain('none');
  });
});

describe('time to threshold', () => {
  it("uses the open alert's figure when there is one", () => {
    const t = timeToThreshold(
      'memory',
      { timeToThreshold: { metric: 'memory_percent', threshold: 95, at: times[1]! } },
      [],
      [],
    );
    expect(t).toMatchObject({ kind: 'at', source: 'alert', metric: 'memory_percent', atMs: Date.parse(times[1]!) });
  });
  it("computes it from the failure mode's metric P50 against the contract critical threshold", () => {
    const t = timeToThreshold(
      'memory',
      undefined,
      [band('cpu_percent', [99, 99, 99]), band('memory_percent', [80, 94, 96])],
      times,
    );
    expect(t).toMatchObject({
      kind: 'at',
      source: 'forecast',
      metric: 'memory_percent',
      threshold: 95,
      atMs: Date.parse(times[2]!),
    });
    expect(formatTimeToThreshold(t, Date.parse('2026-01-01T12:00:00.000Z'))).toBe('in 1 h 30 m');
    expect(formatTimeToThreshold(t, Date.parse(times[2]!))).toBe('now');
  });
  it('says now when the measured value is already over the threshold, whatever the forecast', () => {
    const nowMs = Date.parse('2026-01-01T12:00:00.000Z');
    const t = timeToThreshold('memory', undefined, [band('memory_percent', [90, 90, 90])], times, {
      value: 97.9,
      nowMs,
    });
    expect(t).toMatchObject({ kind: 'at', source: 'measured', atMs: nowMs, metric: 'memory_percent' });
    expect(formatTimeToThreshold(t, nowMs)).toBe('now');
    // Under the threshold, the forecast decides.
    expect(
      timeToThreshold('memory', undefined, [band('memory_percent', [90, 90, 90])], times, { value: 80, nowMs }).kind,
    ).toBe('beyond');
  });
  it('says when the P50 stays under, and when there is no metric to watch', () => {
    const under = timeToThreshold('memory', undefined, [band('memory_percent', [50, 60, 70])], times);
    expect(under).toEqual({ kind: 'beyond', metric: 'memory_percent', threshold: 95 });
    expect(formatTimeToThreshold(under, 0)).toBe('> 8 h');
    expect(timeToThreshold('none', undefined, [band('memory_percent', [99, 99, 99])], times)).toEqual({ kind: 'none' });
    expect(timeToThreshold('memory', undefined, undefined, undefined)).toEqual({ kind: 'none' });
  });
  it("charts the failure mode's metric, else the first band", () => {
    const bands = [band('cpu_percent', [1]), band('disk_percent', [1])];
    expect(metricForMode('disk', bands)).toBe('disk_percent');
    expect(metricForMode('none', bands)).toBe('cpu_percent');
    expect(metricForMode('memory', bands)).toBe('cpu_percent');
  });
});

describe('fleet figures', () => {
  it('calls data stale past 15 minutes of fleet time, and says when there is none', () => {
    expect(dataFreshness(null, '2026-01-01T12:00:00.000Z')).toEqual({ state: 'empty' });
    expect(dataFreshness('2026-01-01T11:50:00.000Z', '2026-01-01T12:00:00.000Z')).toEqual({
      state: 'fresh',
      ageMs: 600_000,
    });
    expect(dataFreshness('2026-01-01T11:40:00.000Z', '2026-01-01T12:00:00.000Z')).toEqual({
      state: 'stale',
      ageMs: 1_200_000,
    });
  });
  it('colours histogram bins by the thresholds', () => {
    const bars = histogramBars([5, 4, 3, 2, 1, 0, 1, 0, 0, 2], { warning: 0.3, critical: 0.6 });
    expect(bars.map((b) => b.band)).toEqual([
      'healthy',
      'healthy',
      'healthy',
      'warning',
      'warning',
      'warning',
      'critical',
      'critical',
      'critical',
      'critical',
    ]);
    expect(bars[3]).toMatchObject({ label: '30–40 %', count: 2 });
  });
  it('writes a fleet probability without rounding it to a false certainty', () => {
    expect([null, 0, 0.004, 0.42, 0.995, 1].map(formatProbability)).toEqual([
      '—',
      '0 %',
      '<1 %',
      '42 %',
      '>99 %',
      '100 %',
    ]);
  });
});
