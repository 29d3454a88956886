import { describe, expect, it } from 'vitest';
import { describeRisk, formatFailureMode, formatRisk, riskBand } from './risk';

describe('risk display', () => {
  it('bands a probability the way the legend reads, low to critical', () => {
    expect([0, 0.099, 0.1, 0.3, 0.5, 0.74, 0.75, 1].map(riskBand)).toEqual([
      'low',
      'low',
      'guarded',
      'elevated',
      'high',
      'high',
      'critical',
      'critical',
    ]);
  });
  it('writes percentages, with tiny ones as <1 % and none as a dash', () => {
    expect([0, 0.001, 0.37, 0.999, 1].map(formatRisk)).toEqual(['0 %', '<1 %', '37 %', '100 %', '100 %']);
    expect(formatRisk(null)).toBe('—');
  });
  it('says why a risk is missing', () => {
    expect(describeRisk(null, { reason: 'no_data', detail: "no sample in the model's 24 h context window" })).toMatch(
      /No risk score: no sample/,
    );
    expect(describeRisk(0.62, null)).toMatch(/62 % \(high\)/);
    expect(formatFailureMode('none')).toBe('—');
    expect(formatFailureMode('memory')).toBe('memory');
  });
});
