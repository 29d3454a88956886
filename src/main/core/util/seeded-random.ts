/**
 * mulberry32: a tiny, fast, seedable PRNG, the same on every platform (Math.random is neither
 * seedable nor portable). For weights, shuffles, sampling and test inputs; the simulator uses
 * its own 128-bit stream (metrics/simulator/prng.ts) because it draws far more numbers.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
