import { describe, expect, it } from 'vitest';
import type { Alert } from '@shared/domain';
import {
  ALERTS_LIMIT,
  DEFAULT_ALERT_FILTERS,
  ackName,
  alertsListInput,
  describeAck,
  describeDuration,
  describeTimeToThreshold,
  formatSpan,
  formatTimeToThreshold,
  isFiltered,
  serverHref,
  summarizeAlerts,
  visibleAlerts,
} from './AlertsView.model';

const NOW = Date.UTC(2026, 2, 3, 9, 0);
const at = (minutes: number) => ({
  timeToThreshold: {
    metric: 'disk_percent' as const,
    threshold: 95,
    at: new Date(NOW + minutes * 60_000).toISOString(),
  },
});

describe('alerts view model', () => {
  it('formats the time to threshold from the fleet clock', () => {
    expect(formatTimeToThreshold({ timeToThreshold: null }, NOW)).toBe('—');
    expect(formatTimeToThreshold(at(150), NOW)).toBe('in 2 h 30 min');
    expect(formatTimeToThreshold(at(240), NOW)).toBe('in 4 h');
    expect(formatTimeToThreshold(at(25), NOW)).toBe('in 25 min');
    expect(formatTimeToThreshold(at(-5), NOW)).toBe('now');
  });
  it('explains the cells', () => {
    expect(describeTimeToThreshold(at(30))).toContain('disk_percent');
    expect(describeTimeToThreshold({ timeToThreshold: null })).toContain('stays under');
    expect(describeAck({ acknowledged: { by: 'alice', at: '2026-03-03T09:00:00.000Z' } })).toContain('alice');
    expect(describeAck({ acknowledged: null })).toBe('Not acknowledged');
  });
});

function alert(id: number, overrides: Partial<Alert> = {}): Alert {
  return {
    id,
    server: `srv${id}`,
    profile: 'web_api',
    severity: 'warning',
    state: 'open',
    risk: 0.4,
    peakRisk: 0.45,
    failureMode: 'memory',
    timeToThreshold: null,
    startedAt: new Date(NOW - id * 60_000).toISOString(),
    endedAt: null,
    updatedAt: new Date(NOW).toISOString(),
    acknowledged: null,
    ...overrides,
  };
}

describe('alerts list: filters and order', () => {
  it('sends state, severity and profile to the core, never the server substring', () => {
    expect(alertsListInput(DEFAULT_ALERT_FILTERS)).toEqual({ state: 'all', limit: ALERTS_LIMIT });
    expect(
      alertsListInput({ state: 'open', severity: 'critical', profile: 'database', server: 'db', sort: 'risk' }),
    ).toEqual({ state: 'open', severity: 'critical', profile: 'database', limit: ALERTS_LIMIT });
  });

  it('filters by part of the server name, any case', () => {
    const rows = [alert(1, { server: 'ppdb001' }), alert(2, { server: 'ppweb001' }), alert(3, { server: 'PPDB002' })];
    expect(visibleAlerts(rows, { server: ' ppdb ', sort: 'newest' }).map((a) => a.id)).toEqual([1, 3]);
    expect(visibleAlerts(rows, { server: '', sort: 'newest' })).toHaveLength(3);
  });

  it('sorts newest first, or by risk: open alerts by their risk now, past ones by their peak', () => {
    const rows = [
      alert(1, { risk: 0.35, peakRisk: 0.5 }),
      alert(2, { state: 'resolved', risk: 0.1, peakRisk: 0.9, endedAt: new Date(NOW).toISOString() }),
      alert(3, { risk: 0.7, peakRisk: 0.7, severity: 'critical' }),
    ];
    // Started 1, 2, 3 minutes before NOW: newest is 1.
    expect(visibleAlerts(rows, { server: '', sort: 'newest' }).map((a) => a.id)).toEqual([1, 2, 3]);
    expect(visibleAlerts(rows, { server: '', sort: 'risk' }).map((a) => a.id)).toEqual([2, 3, 1]);
    // The input is not reordered.
    expect(rows.map((a) => a.id)).toEqual([1, 2, 3]);
  });

  it('counts what is shown', () => {
    const rows = [
      alert(1, { severity: 'critical' }),
      alert(2, { acknowledged: { by: 'bob', at: new Date(NOW).toISOString() } }),
      alert(3, { state: 'resolved', severity: 'critical' }),
    ];
    expect(summarizeAlerts(rows)).toEqual({ shown: 3, open: 2, criticalOpen: 1, unacknowledgedOpen: 1 });
  });

  it('knows when a filter narrows the list (the sort does not)', () => {
    expect(isFiltered(DEFAULT_ALERT_FILTERS)).toBe(false);
    expect(isFiltered({ ...DEFAULT_ALERT_FILTERS, sort: 'risk' })).toBe(false);
    expect(isFiltered({ ...DEFAULT_ALERT_FILTERS, server: ' x ' })).toBe(true);
    expect(isFiltered({ ...DEFAULT_ALERT_FILTERS, state: 'open' })).toBe(true);
    expect(isFiltered({ ...DEFAULT_ALERT_FILTERS, profile: 'generic' })).toBe(true);
  });

  it('says how long an alert lasted, or has lasted so far, on the fleet clock', () => {
    expect(formatSpan(30_000)).toBe('under 1 min');
    expect(formatSpan(35 * 60_000)).toBe('35 min');
    expect(formatSpan(130 * 60_000)).toBe('2 h 10 min');
    expect(formatSpan(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 d 4 h');
    expect(formatSpan(-1)).toBe('—');
    const started = new Date(NOW - 90 * 60_000).toISOString();
    expect(describeDuration({ state: 'open', startedAt: started, endedAt: null }, NOW)).toBe('open for 1 h 30 min');
    expect(
      describeDuration(
        { state: 'resolved', startedAt: started, endedAt: new Date(NOW - 60 * 60_000).toISOString() },
        NOW,
      ),
    ).toBe('lasted 30 min');
  });

  it('links the server to its detail view and names who acknowledges', () => {
    expect(serverHref('db 01')).toBe('#/servers/db%2001');
    expect(ackName('  alice ')).toBe('alice');
    expect(ackName('   ')).toBe('operator');
  });
});
