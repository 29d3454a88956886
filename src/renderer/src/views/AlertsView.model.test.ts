import { describe, expect, it } from 'vitest';
import { describeAck, describeTimeToThreshold, formatTimeToThreshold } from './AlertsView.model';

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
