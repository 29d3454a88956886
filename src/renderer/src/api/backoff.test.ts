import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff';

const opts = (r: number) => ({ initialMs: 500, maxMs: 10_000, random: () => r });

describe('backoffDelay', () => {
  it('doubles from the initial delay and stops at the cap', () => {
    const upper = [0, 1, 2, 3, 4, 5, 6, 20].map((n) => backoffDelay(n, opts(1)));
    expect(upper).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('jitters within [base/2, base]', () => {
    expect(backoffDelay(0, opts(0))).toBe(250);
    expect(backoffDelay(3, opts(0))).toBe(2000);
    expect(backoffDelay(3, opts(0.5))).toBe(3000);
    expect(backoffDelay(50, opts(0))).toBe(5000);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(i % 10, { initialMs: 500, maxMs: 10_000, random: Math.random });
      const base = Math.min(10_000, 500 * 2 ** (i % 10));
      expect(d).toBeGreaterThanOrEqual(base / 2);
      expect(d).toBeLessThanOrEqual(base);
    }
  });

  it('survives absurd attempts and random values', () => {
    expect(backoffDelay(1e9, opts(1))).toBe(10_000);
    expect(backoffDelay(-3, opts(1))).toBe(500);
    expect(backoffDelay(2, opts(7))).toBe(2000);
  });
});
