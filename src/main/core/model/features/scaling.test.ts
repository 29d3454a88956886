import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { METRICS } from '@shared/contract';
import { generateFleet } from '../../metrics/simulator/generate';
import { DEFAULT_FEATURE_SPEC as SPEC } from './feature-spec';
import { scaleValue, unscaleTargets, unscaleValue } from './scaling';
import { buildWindows } from './windows';
import { MONDAY } from './testing/series';

describe('fixed scaling', () => {
  it('puts thresholds where the spec says', () => {
    expect(scaleValue(SPEC, 'cpu_percent', 50)).toBe(0.5);
    expect(scaleValue(SPEC, 'latency_ms', 2_000)).toBeCloseTo(1, 12);
    expect(scaleValue(SPEC, 'error_rate', 0.05)).toBeCloseTo(1, 12);
    expect(scaleValue(SPEC, 'network_in_mbps', 10_000)).toBeCloseTo(1, 12);
    expect(scaleValue(SPEC, 'load_average', 0)).toBe(0);
    // Every contract value lands in a small range, so no channel dominates.
    for (const m of METRICS) expect(scaleValue(SPEC, m.name, m.max)).toBeLessThan(2.5);
  });

  it('clamps to the contract range instead of producing NaN', () => {
    expect(scaleValue(SPEC, 'latency_ms', -50)).toBe(0);
    expect(scaleValue(SPEC, 'cpu_percent', 130)).toBe(1);
  });

  it('round-trips every metric in float64 within 1e-6', () => {
    for (const m of METRICS) {
      fc.assert(
        fc.property(fc.double({ min: m.min, max: m.max, noNaN: true }), (x) => {
          expect(Math.abs(unscaleValue(SPEC, m.name, scaleValue(SPEC, m.name, x)) - x)).toBeLessThanOrEqual(1e-6);
        }),
        { numRuns: 300 },
      );
    }
  });

  it('unscales a (B, H, targets, quantiles) forecast target by target', () => {
    const G = SPEC.targets.length;
    const Q = 3;
    const raw = SPEC.targets.map((m, g) => [10, 20, 30].map((v) => (m === 'error_rate' ? v / 1000 : v * (g + 1))));
    const scaled = new Float32Array(2 * G * Q);
    for (let h = 0; h < 2; h++)
      for (let g = 0; g < G; g++)
        for (let q = 0; q < Q; q++) scaled[(h * G + g) * Q + q] = scaleValue(SPEC, SPEC.targets[g]!, raw[g]![q]!);
    const back = unscaleTargets(SPEC, scaled, Q);
    for (let h = 0; h < 2; h++)
      for (let g = 0; g < G; g++)
        for (let q = 0; q < Q; q++) expect(back[(h * G + g) * Q + q]).toBeCloseTo(raw[g]![q]!, 4);
    expect(() => unscaleTargets(SPEC, new Float32Array(7), Q)).toThrow(/multiple/);
  });

  it("a batch's targets unscale to the horizon steps' raw means (float32 precision)", () => {
    const fleet = generateFleet({ seed: 'scale', start: MONDAY, servers: [{ name: 'ppweb001' }], hours: 48 });
    const t = MONDAY + 30 * 3_600_000;
    const { batch } = buildWindows(fleet.columns, { incidents: [], times: [t], minCoverage: 0 });
    const back = unscaleTargets(SPEC, batch.targets);
    const G = SPEC.targets.length;
    for (let h = 0; h < SPEC.horizonSteps; h++) {
      const end = t + (h + 1) * 30 * 60_000;
      SPEC.targets.forEach((metric, g) => {
        const column = fleet.columns.metrics[metric];
        let sum = 0;
        let n = 0;
        for (let i = 0; i < fleet.columns.length; i++) {
          const ts = fleet.columns.timestamp[i]!;
          if (ts > end - 30 * 60_000 && ts <= end && column.present[i]) {
            sum += column.values[i]!;
            n++;
          }
        }
        expect(batch.targetMask[h * G + g]).toBe(n > 0 ? 1 : 0);
        if (n > 0) expect(Math.abs(back[h * G + g]! - sum / n)).toBeLessThanOrEqual(1e-6 * Math.max(1, sum / n) + 1e-9);
      });
    }
  });
});
