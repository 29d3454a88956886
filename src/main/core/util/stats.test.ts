import { describe, expect, it } from 'vitest';
import { seededRandom } from './seeded-random';
import { median, quantile, round, roundSignificant } from './stats';

describe('stats', () => {
  it('median of odd and even counts, unsorted input left alone, NaN when empty', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('quantile interpolates between order statistics', () => {
    expect(quantile([10, 0, 20, 30], 0)).toBe(0);
    expect(quantile([10, 0, 20, 30], 1)).toBe(30);
    expect(quantile([0, 10], 0.1)).toBeCloseTo(1, 12);
    expect(quantile([], 0.5)).toBeNaN();
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.1)).toBe(2);
  });

  it('round to a number of decimals', () => {
    expect(round(1.26)).toBe(1.3);
    expect(round(0.123456, 3)).toBe(0.123);
    expect(round(7)).toBe(7);
  });
});

describe('roundSignificant', () => {
  it('is Number(x.toPrecision(d)) without the string, over a million values of every magnitude', () => {
    const random = seededRandom(20261127);
    let mismatches = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const x = (random() * 2 - 1) * 10 ** (Math.floor(random() * 16) - 8);
      const digits = 3 + (i % 4);
      if (roundSignificant(x, digits) !== Number(x.toPrecision(digits))) mismatches++;
    }
    expect(mismatches).toBe(0);
    for (const x of [0, -0, NaN, Infinity, -Infinity]) expect(Object.is(roundSignificant(x, 5), x)).toBe(true);
    expect(roundSignificant(123456789, 5)).toBe(123460000);
    expect(roundSignificant(0.000123456, 5)).toBe(0.00012346);
    expect(roundSignificant(0.30737915300974156, 4)).toBe(0.3074);
  });
});
