import { describe, expect, it } from 'vitest';
import { describeRisk, formatFailureMode, formatRisk, healthOf, healthRange, riskBand } from './risk';

describe('risk display', () => {
  it("bands a probability by the core's alert thresholds: under 0.3 healthy, from 0.6 critical", () => {
    expect([0, 0.299, 0.3, 0.5, 0.599, 0.6, 1].map((r) => riskBand(r))).toEqual([
      'healthy',
      'healthy',
      'warning',
      'warning',
      'warning',
      'critical',
      'critical',
    ]);
    // Thresholds from fleet.status win over the defaults.
    expect(riskBand(0.25, { warning: 0.2, critical: 0.5 })).toBe('warning');
  });
  it('agrees with the shared healthOf for every reporting server, and never calls a stale one healthy', () => {
    for (let r = 0; r <= 1; r += 0.01) expect(healthOf(r, true)).toBe(riskBand(r));
    expect(healthOf(0.01, false)).toBe('stale');
    expect(healthOf(null, true)).toBe('unknown');
  });
  it('says what each colour means', () => {
    expect(healthRange('warning')).toBe('risk 30–60 %');
    expect(healthRange('critical', { warning: 0.2, critical: 0.5 })).toBe('risk 50 % or more');
    expect(healthRange('stale')).toMatch(/not reporting/);
  });
  it('writes percentages, with tiny ones as <1 % and none as a dash', () => {
    expect([0, 0.001, 0.37, 0.999, 1].map(formatRisk)).toEqual(['0 %', '<1 %', '37 %', '100 %', '100 %']);
    expect(formatRisk(null)).toBe('—');
  });
  it('says why a risk is missing', () => {
    expect(describeRisk(null, { reason: 'no_data', detail: "no sample in the model's 24 h context window" })).toMatch(
      /No risk score: no sample/,
    );
    expect(describeRisk(0.62, null)).toMatch(/62 % \(critical\)/);
    expect(formatFailureMode('none')).toBe('—');
    expect(formatFailureMode('memory')).toBe('memory');
  });
});
