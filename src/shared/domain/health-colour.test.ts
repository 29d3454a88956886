import { describe, expect, it } from 'vitest';
import { healthOf, RISK_THRESHOLDS } from './alerts';

describe('healthOf, the one colour rule of the dashboard', () => {
  it('says stale for a server that does not report, whatever its risk', () => {
    expect(healthOf(0.99, false)).toBe('stale');
    expect(healthOf(0.01, false)).toBe('stale');
    expect(healthOf(null, false)).toBe('stale');
  });

  it('says unknown for a reporting server without a (finite) risk', () => {
    expect(healthOf(null, true)).toBe('unknown');
    expect(healthOf(Number.NaN, true)).toBe('unknown');
  });

  it('colours by the alert thresholds, each threshold included in its level', () => {
    expect(RISK_THRESHOLDS).toEqual({ warning: 0.3, critical: 0.6 });
    expect(healthOf(0, true)).toBe('healthy');
    expect(healthOf(0.2999, true)).toBe('healthy');
    expect(healthOf(0.3, true)).toBe('warning');
    expect(healthOf(0.5999, true)).toBe('warning');
    expect(healthOf(0.6, true)).toBe('critical');
    expect(healthOf(1, true)).toBe('critical');
    expect(healthOf(0.5, true, { warning: 0.1, critical: 0.4 })).toBe('critical');
  });

  it('cannot have its thresholds changed at run time', () => {
    expect(() => {
      (RISK_THRESHOLDS as { warning: number }).warning = 0.9;
    }).toThrow(TypeError);
  });
});
