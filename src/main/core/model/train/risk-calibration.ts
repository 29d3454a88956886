import * as tf from '@tensorflow/tfjs';
import type { FeatureDataset } from '../features';
import type { TftModel } from '../tft/tft-tfjs';

export interface RiskCalibrationFit {
  /** risk' = sigmoid(a x logit + b), folded into the risk head (heads.risk.w x a, heads.risk.b x a + b). */
  a: number;
  b: number;
  /** Validation windows used, and the positives among them. */
  windows: number;
  positives: number;
  /** Mean log loss of the risk on those windows before and after. */
  logLossBefore: number;
  logLossAfter: number;
}

/**
 * Platt scaling of the risk on the training run's validation split (late time of the training
 * servers and the held-out servers: never an evaluation fleet), folded into the risk head's
 * weights so the exported graph is unchanged. Needed when positives were not all repeated equally
 * (precursor oversampling): the prior shift then leaves the windows with a visible precursor
 * over-confident. Monotone, so it changes no ranking (AUPRC, alerts at a re-chosen threshold).
 * Null when the split has no positives or no negatives.
 */
export function fitRiskCalibration(
  model: TftModel,
  dataset: FeatureDataset,
  options: { maxWindows?: number; batchSize?: number } = {},
): RiskCalibrationFit | null {
  const index = dataset.split('validation');
  const n = Math.min(index.size, options.maxWindows ?? 16_384);
  if (n === 0) return null;
  const rows = Int32Array.from({ length: n }, (_, i) => Math.floor((i * index.size) / n));
  const logit = new Float64Array(n);
  const y = new Float64Array(n);
  const batchSize = options.batchSize ?? 256;
  let positives = 0;
  for (let from = 0; from < n; from += batchSize) {
    const batch = dataset.materialize('validation', rows.subarray(from, Math.min(n, from + batchSize)));
    const risk = model.predict(batch).risk;
    for (let i = 0; i < batch.size; i++) {
      const p = Math.min(1 - 1e-7, Math.max(1e-7, risk[i]!));
      logit[from + i] = Math.log(p / (1 - p));
      y[from + i] = batch.risk[i]!;
      positives += batch.risk[i]!;
    }
  }
  if (positives === 0 || positives === n) return null;
  const loss = (a: number, b: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const z = a * logit[i]! + b;
      // log(1 + e^z) - y z, stably
      s += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y[i]! * z;
    }
    return s / n;
  };
  // Newton's method on the two parameters (a convex problem).
  let a = 1;
  let b = 0;
  const before = loss(a, b);
  for (let iter = 0; iter < 50; iter++) {
    let ga = 0;
    let gb = 0;
    let haa = 0;
    let hab = 0;
    let hbb = 0;
    for (let i = 0; i < n; i++) {
      const x = logit[i]!;
      const p = 1 / (1 + Math.exp(-(a * x + b)));
      const r = p - y[i]!;
      const w = p * (1 - p);
      ga += r * x;
      gb += r;
      haa += w * x * x;
      hab += w * x;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    let step = 1;
    const current = loss(a, b);
    while (step > 1e-4 && loss(a - step * da, b - step * db) > current) step /= 2;
    a -= step * da;
    b -= step * db;
    if (Math.abs(step * da) < 1e-7 && Math.abs(step * db) < 1e-7) break;
  }
  return { a, b, windows: n, positives, logLossBefore: before, logLossAfter: loss(a, b) };
}

/** Folds risk' = sigmoid(a x logit + b) into the risk head. */
export function applyRiskCalibration(model: TftModel, fit: Pick<RiskCalibrationFit, 'a' | 'b'>): void {
  const w = model.store.get('heads.risk.w');
  const bias = model.store.get('heads.risk.b');
  const nw = tf.tidy(() => tf.mul(w, fit.a));
  const nb = tf.tidy(() => tf.add(tf.mul(bias, fit.a), fit.b));
  w.assign(nw);
  bias.assign(nb);
  nw.dispose();
  nb.dispose();
}
