import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auprc, auroc, brierScore } from './ranking';

/** The definition, O(P x N): pairs where the positive scores higher, ties half. */
function aurocByPairs(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((sp, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((sn, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      wins += sp > sn ? 1 : sp === sn ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

const scored = fc
  .array(fc.record({ s: fc.integer({ min: 0, max: 6 }), y: fc.integer({ min: 0, max: 1 }) }), { minLength: 2, maxLength: 60 })
  .filter((xs) => xs.some((x) => x.y === 1) && xs.some((x) => x.y === 0));

describe('ranking metrics', () => {
  it('AUROC equals the pairwise definition, ties included', () => {
    fc.assert(
      fc.property(scored, (xs) => {
        const s = xs.map((x) => x.s);
        const y = xs.map((x) => x.y);
        expect(auroc(s, y)).toBeCloseTo(aurocByPairs(s, y), 12);
      }),
    );
  });

  it('perfect, reversed and constant scores', () => {
    const y = [0, 0, 1, 1];
    expect(auroc([1, 2, 3, 4], y)).toBe(1);
    expect(auroc([4, 3, 2, 1], y)).toBe(0);
    expect(auroc([7, 7, 7, 7], y)).toBe(0.5);
    expect(auprc([1, 2, 3, 4], y)).toBe(1);
    // A constant score ranks nothing: precision is the positive share everywhere.
    expect(auprc([7, 7, 7, 7], y)).toBe(0.5);
    expect(auroc([1, 2], [1, 1])).toBeNaN();
  });

  it('AUPRC is average precision: hand-computed case', () => {
    // Ranked: +, -, +, - -> precision at the positives 1 and 2/3, each half the recall.
    expect(auprc([4, 3, 2, 1], [1, 0, 1, 0])).toBeCloseTo((1 + 2 / 3) / 2, 12);
  });

  it('AUPRC lies in [positive share, 1] for scores that rank positives first, and is invariant to monotone maps', () => {
    fc.assert(
      fc.property(scored, (xs) => {
        const s = xs.map((x) => x.s);
        const y = xs.map((x) => x.y);
        const a = auprc(s, y);
        expect(a).toBeGreaterThan(0);
        expect(a).toBeLessThanOrEqual(1 + 1e-12);
        expect(auprc(s.map((v) => Math.exp(v)), y)).toBeCloseTo(a, 12);
        expect(auroc(s.map((v) => 3 * v - 1), y)).toBeCloseTo(auroc(s, y), 12);
      }),
    );
  });

  it('Brier score, and bad input named', () => {
    expect(brierScore([1, 0, 0.5], [1, 0, 1])).toBeCloseTo(0.25 / 3, 12);
    expect(() => brierScore([1.5], [1])).toThrow(/probability 0 is 1.5/);
    expect(() => auroc([1, 2], [1, 2])).toThrow(/label 1 is 2/);
    expect(() => auroc([1], [1, 0])).toThrow(/1 scores for 2 labels/);
    expect(() => auroc([NaN, 1], [1, 0])).toThrow(/score 0 is NaN/);
  });
});
