import { describe, expect, it } from 'vitest';
import { auprc } from './ranking';
import {
  expectedCalibrationError,
  ForecastAccumulator,
  mase,
  pinball,
  prCurve,
  reliabilityBins,
} from './forecast-metrics';

describe('calibration', () => {
  it('a perfectly calibrated risk has ECE 0', () => {
    // Bin [0.2, 0.3): risk 0.25 on 4 points, one positive; bin [0.7, 0.8): 0.75, three of four.
    const p = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75];
    const y = [1, 0, 0, 0, 1, 1, 1, 0];
    expect(expectedCalibrationError(p, y)).toBeCloseTo(0, 12);
  });

  it('weights each bin by its share of the points', () => {
    // 3 points at 0.05 (none positive: gap 0.05), 1 point at 0.95 (positive: gap 0.05) -> 0.05;
    // then 1 at 0.55 negative (gap 0.55) among 5 points: (3*0.05 + 0.05 + 0.55) / 5.
    expect(expectedCalibrationError([0.05, 0.05, 0.05, 0.95], [0, 0, 0, 1])).toBeCloseTo(0.05, 12);
    expect(expectedCalibrationError([0.05, 0.05, 0.05, 0.95, 0.55], [0, 0, 0, 1, 0])).toBeCloseTo(
      (0.15 + 0.05 + 0.55) / 5,
      12,
    );
  });

  it('puts 1.0 in the last bin and refuses values outside [0, 1]', () => {
    const bins = reliabilityBins([0, 1, 0.1], [0, 1, 0]);
    expect(bins).toHaveLength(10);
    expect(bins[9]!.count).toBe(1);
    expect(bins[1]!.count).toBe(1);
    expect(() => reliabilityBins([1.2], [1])).toThrow(/outside/);
  });
});

describe('forecast losses', () => {
  it('pinball loss is q x under-forecast, (1 - q) x over-forecast', () => {
    expect(pinball(10, 8, 0.9)).toBeCloseTo(1.8, 12);
    expect(pinball(10, 12, 0.9)).toBeCloseTo(0.2, 12);
    expect(pinball(10, 12, 0.1)).toBeCloseTo(1.8, 12);
    expect(pinball(10, 10, 0.5)).toBe(0);
    // P50's pinball is half the absolute error.
    expect(pinball(3, 7, 0.5)).toBe(2);
  });

  it('MASE is the ratio of absolute errors against the reference, on the points both have', () => {
    const acc = new ForecastAccumulator([0.1, 0.5, 0.9]);
    acc.add(10, [8, 11, 14], 1, 12); // |10 - 11| = 1 vs |10 - 12| = 2
    acc.add(20, [18, 17, 22], 1, 21); // 3 vs 1
    acc.add(30, [29, 30, 31], 1, NaN); // no reference: pinball only
    const r = acc.result();
    expect(r.points).toBe(3);
    expect(r.mase).toBeCloseTo(4 / 3, 12);
    expect(r.maeMedian).toBeCloseTo(2, 12);
    expect(r.maeNaive).toBeCloseTo(1.5, 12);
    expect(r.pinball[1]).toBeCloseTo((0.5 + 1.5 + 0) / 3, 12);
    expect(r.pinball[0]).toBeCloseTo((0.1 * 2 + 0.1 * 2 + 0.1 * 1) / 3, 12);
    expect(mase(1, 0)).toBeNaN();
  });
});

describe('precision-recall curve', () => {
  it('ends at recall 1 and its step area is the average precision', () => {
    const s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
    const y = [1, 0, 1, 0, 0, 1];
    const c = prCurve(s, y);
    expect(c[c.length - 1]).toEqual({ recall: 1, precision: 0.5 });
    let area = 0;
    let prev = 0;
    for (const p of c) {
      area += (p.recall - prev) * p.precision;
      prev = p.recall;
    }
    expect(area).toBeCloseTo(auprc(s, y), 12);
    expect(
      prCurve(
        Array.from({ length: 1000 }, (_, i) => i),
        Array.from({ length: 1000 }, (_, i) => i % 2),
        50,
      ),
    ).toHaveLength(50);
  });
});
