import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '@shared/contract';
import type { ServerSummary } from '@shared/domain';
import {
  describeMetric,
  filterServers,
  formatMetric,
  METRIC_COLUMNS,
  metricLevel,
  nextSort,
  profileCounts,
  sameServer,
  sortServers,
  type MetricColumn,
} from './servers-model';

const column = (metric: string): MetricColumn => METRIC_COLUMNS.find((c) => c.metric === metric)!;

function server(name: string, overrides: Partial<ServerSummary> = {}): ServerSummary {
  return {
    name,
    profile: 'generic',
    state: 'healthy',
    lastSeen: '2026-01-01T12:00:00.000Z',
    reporting: true,
    latest: { cpu_percent: 10 },
    risk: null,
    failureMode: null,
    riskUnavailable: { reason: 'pending', detail: 'waiting for the first prediction cycle' },
    health: 'unknown',
    ...overrides,
  };
}

const names = (list: readonly ServerSummary[]) => list.map((s) => s.name);

describe('metric cells', () => {
  it('has one column per contract metric', () => {
    expect(METRIC_COLUMNS.map((c) => c.metric).sort()).toEqual([...METRIC_NAMES].sort());
  });

  it('marks values at or over the contract thresholds', () => {
    expect(metricLevel('cpu_percent', 84.9)).toBeNull();
    expect(metricLevel('cpu_percent', 85)).toBe('warning');
    expect(metricLevel('cpu_percent', 95)).toBe('critical');
    expect(metricLevel('error_rate', 0.02)).toBe('warning');
    expect(metricLevel('error_rate', 0.05)).toBe('critical');
    expect(metricLevel('latency_ms', 2000)).toBe('critical');
    // No universal threshold for load or network; nothing to judge without a value.
    expect(metricLevel('load_average', 9999)).toBeNull();
    expect(metricLevel('network_in_mbps', 1e5)).toBeNull();
    expect(metricLevel('cpu_percent', null)).toBeNull();
    expect(metricLevel('cpu_percent', undefined)).toBeNull();
  });

  it('writes values compactly, a dash when not reported and NaN/Inf for null', () => {
    expect(formatMetric(column('cpu_percent'), 42.123)).toBe('42.1');
    expect(formatMetric(column('cpu_percent'), 100)).toBe('100');
    expect(formatMetric(column('load_average'), 1.671)).toBe('1.67');
    expect(formatMetric(column('load_average'), 23.02)).toBe('23.0');
    expect(formatMetric(column('network_out_mbps'), 1038.561)).toBe('1,039');
    expect(formatMetric(column('latency_ms'), 8.664)).toBe('8.7');
    expect(formatMetric(column('latency_ms'), 25.3)).toBe('25');
    expect(formatMetric(column('error_rate'), 0.001)).toBe('0.10');
    expect(formatMetric(column('error_rate'), 0.125)).toBe('12.5');
    expect(formatMetric(column('cpu_percent'), undefined)).toBe('—');
    expect(formatMetric(column('cpu_percent'), null)).toBe('NaN/Inf');
  });

  it('describes a value with its unit and the threshold it crossed', () => {
    expect(describeMetric(column('cpu_percent'), 96)).toBe('CPU busy time, all cores: 96.0 % · critical (≥ 95.0 %)');
    expect(describeMetric(column('error_rate'), 0.03)).toBe(
      'Failed requests / requests (0..1): 3.00 % · warning (≥ 2.00 %)',
    );
    expect(describeMetric(column('latency_ms'), 12)).toBe('Service response time, p95: 12 ms');
    expect(describeMetric(column('swap_percent'), undefined)).toMatch(/not reported/);
    expect(describeMetric(column('swap_percent'), null)).toMatch(/NaN or Inf/);
  });
});

describe('sorting', () => {
  const fleet = [
    server('web10', { latest: { cpu_percent: 50 }, state: 'heavy_load', profile: 'web_api' }),
    server('web2', { latest: { cpu_percent: 90 }, state: 'critical_issue', profile: 'web_api' }),
    server('db1', { latest: {}, state: null, profile: 'database', lastSeen: '2026-01-01T11:00:00.000Z' }),
    server('ml1', { latest: { cpu_percent: null }, state: 'idle', profile: 'ml_compute' }),
    server('ml2', { latest: { cpu_percent: 50 }, state: 'healthy', profile: 'ml_compute' }),
  ];

  it('orders names naturally (web2 before web10)', () => {
    expect(names(sortServers(fleet, { key: 'name', direction: 'ascending' }))).toEqual([
      'db1',
      'ml1',
      'ml2',
      'web2',
      'web10',
    ]);
  });

  it('puts NaN/Inf first among figures when descending, unreported last either way, ties by name', () => {
    expect(names(sortServers(fleet, { key: 'cpu_percent', direction: 'descending' }))).toEqual([
      'ml1',
      'web2',
      'ml2',
      'web10',
      'db1',
    ]);
    expect(names(sortServers(fleet, { key: 'cpu_percent', direction: 'ascending' }))).toEqual([
      'ml2',
      'web10',
      'web2',
      'ml1',
      'db1',
    ]);
  });

  it('sorts states worst first and last seen stalest first', () => {
    expect(names(sortServers(fleet, { key: 'state', direction: 'descending' }))).toEqual([
      'web2',
      'web10',
      'ml1',
      'ml2',
      'db1',
    ]);
    expect(names(sortServers(fleet, { key: 'lastSeen', direction: 'descending' }))[0]).toBe('db1');
  });

  it('sorts by risk, highest first, servers without a prediction last either way', () => {
    const risky = [
      server('a', { risk: 0.2, failureMode: 'none', riskUnavailable: null }),
      server('b', { risk: 0.9, failureMode: 'memory', riskUnavailable: null }),
      server('c'),
      server('d', { risk: 0.2, failureMode: 'none', riskUnavailable: null }),
    ];
    expect(nextSort({ key: 'name', direction: 'ascending' }, 'risk')).toEqual({ key: 'risk', direction: 'descending' });
    expect(names(sortServers(risky, { key: 'risk', direction: 'descending' }))).toEqual(['b', 'a', 'd', 'c']);
    expect(names(sortServers(risky, { key: 'risk', direction: 'ascending' }))).toEqual(['a', 'd', 'b', 'c']);
  });

  it('sorts by profile label, then name', () => {
    expect(names(sortServers(fleet, { key: 'profile', direction: 'ascending' }))).toEqual([
      'db1',
      'ml1',
      'ml2',
      'web2',
      'web10',
    ]);
  });

  it('toggles on the same header; a new header starts where it is most useful', () => {
    const byName = { key: 'name', direction: 'ascending' } as const;
    expect(nextSort(byName, 'name')).toEqual({ key: 'name', direction: 'descending' });
    expect(nextSort(byName, 'cpu_percent')).toEqual({ key: 'cpu_percent', direction: 'descending' });
    expect(nextSort(nextSort(byName, 'cpu_percent'), 'cpu_percent').direction).toBe('ascending');
    expect(nextSort(byName, 'profile').direction).toBe('ascending');
  });

  it('does not mutate its input', () => {
    const copy = [...fleet];
    sortServers(fleet, { key: 'cpu_percent', direction: 'descending' });
    expect(fleet).toEqual(copy);
  });
});

describe('filtering', () => {
  const fleet = [
    server('ppdb001', { profile: 'database' }),
    server('ppweb001', { profile: 'web_api' }),
    server('ppml0001', { profile: 'ml_compute' }),
  ];

  it('matches a substring of the name or the profile, any case', () => {
    expect(names(filterServers(fleet, { text: 'WEB', profile: null }))).toEqual(['ppweb001']);
    expect(names(filterServers(fleet, { text: ' data', profile: null }))).toEqual(['ppdb001']);
    expect(names(filterServers(fleet, { text: 'ml_comp', profile: null }))).toEqual(['ppml0001']);
    expect(names(filterServers(fleet, { text: '', profile: 'web_api' }))).toEqual(['ppweb001']);
    expect(names(filterServers(fleet, { text: 'db', profile: 'web_api' }))).toEqual([]);
  });

  it('counts servers per profile', () => {
    expect([...profileCounts(fleet)]).toEqual([
      ['database', 1],
      ['web_api', 1],
      ['ml_compute', 1],
    ]);
  });
});

describe('sameServer', () => {
  it('compares figures, not identity', () => {
    const a = server('a', { latest: { cpu_percent: 1, error_rate: null } });
    expect(sameServer(a, structuredClone(a))).toBe(true);
    expect(sameServer(a, { ...a, latest: { cpu_percent: 1, error_rate: 0 } })).toBe(false);
    expect(sameServer(a, { ...a, latest: { cpu_percent: 1 } })).toBe(false);
    expect(sameServer(a, { ...a, reporting: false })).toBe(false);
    expect(sameServer(a, { ...a, lastSeen: '2026-01-01T12:05:00.000Z' })).toBe(false);
    expect(sameServer(a, { ...a, risk: 0.4, failureMode: 'none', riskUnavailable: null })).toBe(false);
    const scored = server('a', { risk: 0.4, failureMode: 'none', riskUnavailable: null });
    expect(sameServer(scored, { ...scored, failureMode: 'disk' })).toBe(false);
  });
});
