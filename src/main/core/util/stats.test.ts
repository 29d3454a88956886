import { describe, expect, it } from 'vitest';
import { median, quantile, round } from './stats';

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
