import type { WindowBatch } from '../../features/feature-spec';
import type { TftConfig } from '../config';
import { seededRandom } from '../weight-store';

/**
 * Synthetic windows with a planted, learnable signal, for tests and the benchmark.
 *
 * The risk label is "observed channel 0 rises steadily over the last `trendSteps` context
 * steps". Every window has noise, a random level, missing values, and negatives sometimes carry
 * a single spike (a distractor: a high last value without a trend). Targets continue each
 * channel (rising for positives), so the quantile head has something to learn too. The failure
 * mode of a positive depends on its profile.
 */
export interface SyntheticOptions {
  /** Windows in the batch. */
  count: number;
  /** Seed: the same seed gives the same windows. */
  seed: number;
  /** Fraction of positive windows. Default 0.3. */
  positiveRate?: number;
  /** Fraction of observed values reported missing (value 0, mask 0). Default 0.05. */
  missingRate?: number;
  /** Length of the planted trend. Default min(12, contextSteps). */
  trendSteps?: number;
}

export function syntheticBatch(c: TftConfig, o: SyntheticOptions): WindowBatch {
  const rand = seededRandom(o.seed);
  const normal = (): number => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const n = o.count;
  const te = c.contextSteps;
  const td = c.horizonSteps;
  const t = te + td;
  const ch = c.observedChannels;
  const k = c.knownChannels;
  const trend = Math.min(o.trendSteps ?? 12, te);
  const batch: WindowBatch = {
    size: n,
    observed: new Float32Array(n * te * ch),
    observedMask: new Float32Array(n * te * ch),
    known: new Float32Array(n * t * k),
    profile: new Int32Array(n),
    serverBucket: new Int32Array(n),
    targets: new Float32Array(n * td * c.targets),
    targetMask: new Float32Array(n * td * c.targets),
    risk: new Float32Array(n),
    failureMode: new Int32Array(n),
    server: new Array<string>(n),
    time: new Float64Array(n),
  };
  for (let w = 0; w < n; w++) {
    const positive = rand() < (o.positiveRate ?? 0.3);
    const profile = Math.floor(rand() * c.profiles);
    const bucket = c.serverBuckets > 1 ? 1 + Math.floor(rand() * (c.serverBuckets - 1)) : 0;
    batch.profile[w] = profile;
    batch.serverBucket[w] = bucket;
    batch.server[w] = `synthetic-${bucket}`;
    batch.time[w] = 1_700_000_000_000 + w * 1_800_000;
    batch.risk[w] = positive ? 1 : 0;
    batch.failureMode[w] = positive ? 1 + (profile % (c.failureModes - 1)) : 0;
    const slope = positive ? 0.08 + 0.08 * rand() : 0;
    const spikeAt = !positive && rand() < 0.3 ? te - 1 - Math.floor(rand() * 3) : -1;
    const phase = rand() * 2 * Math.PI;
    for (let j = 0; j < ch; j++) {
      const level = rand() - 0.5;
      const series = new Float32Array(t);
      for (let s = 0; s < t; s++) {
        let v = level + 0.1 * normal() + 0.2 * Math.sin(phase + (2 * Math.PI * s) / 48);
        if (j === 0) {
          const ramp = s - (te - trend);
          if (ramp > 0) v += slope * ramp;
          if (s === spikeAt) v += 1.2;
        }
        series[s] = v;
      }
      for (let s = 0; s < te; s++) {
        const idx = (w * te + s) * ch + j;
        const missing = rand() < (o.missingRate ?? 0.05);
        batch.observed[idx] = missing ? 0 : series[s]!;
        batch.observedMask[idx] = missing ? 0 : 1;
      }
      if (j < c.targets) {
        for (let s = 0; s < td; s++) {
          const idx = (w * td + s) * c.targets + j;
          batch.targets[idx] = series[te + s]!;
          batch.targetMask[idx] = 1;
        }
      }
    }
    for (let s = 0; s < t; s++) {
      for (let q = 0; q < k; q++) {
        const angle = phase + (2 * Math.PI * s) / 48;
        batch.known[(w * t + s) * k + q] = q % 2 === 0 ? Math.sin(angle * (1 + (q >> 1))) : Math.cos(angle * (1 + (q >> 1)));
      }
    }
  }
  return batch;
}

/** Windows [from, to) of a batch, as a new batch (copies). */
export function sliceBatch(b: WindowBatch, from: number, to: number): WindowBatch {
  const n = to - from;
  const per = (a: { length: number }): number => a.length / b.size;
  const cut = <A extends Float32Array | Int32Array | Float64Array>(a: A): A => a.slice(from * per(a), to * per(a)) as A;
  return {
    size: n,
    observed: cut(b.observed),
    observedMask: cut(b.observedMask),
    known: cut(b.known),
    profile: cut(b.profile),
    serverBucket: cut(b.serverBucket),
    targets: cut(b.targets),
    targetMask: cut(b.targetMask),
    risk: cut(b.risk),
    failureMode: cut(b.failureMode),
    server: b.server.slice(from, to),
    time: cut(b.time),
  };
}

/** Area under the ROC curve (ties count half): P(score of a positive > score of a negative). */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSum = 0;
  let positives = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const rank = (i + j) / 2 + 1; // average rank of the tie group, 1-based
    for (let m = i; m <= j; m++) {
      if (labels[idx[m]!]! > 0.5) {
        rankSum += rank;
        positives++;
      }
    }
    i = j + 1;
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
