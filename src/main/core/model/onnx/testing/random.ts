/** Seeded pseudo-random numbers for tests and benchmarks: reproducible inputs and weights. */
export { seededRandom as rng } from '../../../util/seeded-random';

/** `n` floats uniform in [lo, hi). */
export function uniform(random: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * random();
  return out;
}

/** `n` integers uniform in [0, max). */
export function integers(random: () => number, n: number, max: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * max);
  return out;
}
