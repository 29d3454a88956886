import type { MetricName } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import {
  MIN_NORMALIZATION_SCALE,
  parseObservedChannel,
  samplesPerStep,
  stepMs,
  type Aggregate,
  type FeatureSpec,
  type ObservedNormalization,
} from './feature-spec';
import { makeScaler, scaleWith, type Scaler } from './scaling';

/**
 * One server's samples aggregated onto the model's step grid, once. Windows overlap by all but
 * one step, so building each window from samples would redo the same work contextSteps times
 * over and hold contextSteps copies of every value; a window is instead a contiguous slice of
 * these arrays (one copy per array when a batch is materialised).
 *
 * Step s (0-based) ends at firstStepEnd + s * step and holds the samples with
 * end - step < ts <= end. Steps without any valid sample are 0 with mask 0: a gap stays a gap.
 * The arrays of all servers of one aggregateSteps call are views into shared buffers (copy one
 * before transferring it to a worker).
 */
export interface ServerSteps {
  server: string;
  /** End (epoch ms) of step 0: the step holding the server's first sample. */
  firstStepEnd: number;
  steps: number;
  /** (S, observed.length), scaled; 0 where the mask is 0. */
  observed: Float32Array;
  /** (S, observed.length): share of the step's sample slots with a valid value (see WindowBatch). */
  observedMask: Float32Array;
  /** (S, targets.length): scale(mean of the step's valid samples); 0 where the mask is 0. */
  targets: Float32Array;
  /** (S, targets.length): 1 where the step has a valid sample of the target metric. */
  targetMask: Float32Array;
  /** (S): share of the step's sample slots with at least one valid metric (the server reported). */
  coverage: Float32Array;
  /** Timestamps of the first and last row seen for this server (any metric, valid or not). */
  firstTs: number;
  lastTs: number;
}

export interface AggregateOptions {
  /** Only rows with from < ts <= to are read (inference reads exactly its context). */
  from?: number;
  to?: number;
}

export interface AggregateResult {
  /** One entry per server, sorted by name (the input's row order never matters). */
  servers: ServerSteps[];
  /** Values present but NaN or +-Inf: treated as missing (the store keeps them apart; the model cannot). */
  nonFiniteValues: number;
  /** Rows read (inside the from/to range). */
  rows: number;
}

/** Accumulator fields per (step, metric): sums over the step's valid samples. */
const N = 0; // count
const SUM = 1; // sum of raw values (mean in raw units, then scaled: the forecast target's meaning)
const MAX = 2; // max raw value
const SU = 3; // sum of u, the sample's position in the step, in (0, 1]
const SUU = 4; // sum of u^2
const SY = 5; // sum of scaled values
const SUY = 6; // sum of u * scaled value
const FIELDS = 7;

interface ChannelPlan {
  slot: number;
  aggregate: Aggregate;
}

/**
 * Samples -> per-server step series for `spec`. Rows may come in any order (generateFleet's
 * time-major batches, the store's server-major ones); every aggregate is a sum or a max, so the
 * result does not depend on the order. Each (server, ts) is assumed to appear once, as the store
 * guarantees; a duplicate would count twice (masks are clamped to 1).
 *
 * The `state` column is never read: it is the simulator's label (real sources have none) and
 * "critical_issue" would hand the model the answer.
 *
 * Cost: O(rows x metrics) with a Map lookup per change of server between consecutive rows; rows
 * out of ts order per server add a sort.
 */
export function aggregateSteps(
  columns: SampleColumns,
  spec: FeatureSpec,
  options: AggregateOptions = {},
): AggregateResult {
  const ms = stepMs(spec);
  const perStep = samplesPerStep(spec);
  const from = options.from ?? -Infinity;
  const to = options.to ?? Infinity;

  // Metrics the spec reads, each with a slot in the accumulators.
  const slotOf = new Map<MetricName, number>();
  const slot = (m: MetricName): number => {
    let s = slotOf.get(m);
    if (s === undefined) slotOf.set(m, (s = slotOf.size));
    return s;
  };
  const channels: ChannelPlan[] = spec.observed.map((name) => {
    const c = parseObservedChannel(name);
    return { slot: slot(c.metric), aggregate: c.aggregate };
  });
  const targetSlots = spec.targets.map(slot);
  const metrics = [...slotOf.keys()];
  const M = metrics.length;
  const scalers: Scaler[] = metrics.map((m) => makeScaler(m, spec.scaling[m]));
  const values = metrics.map((m) => columns.metrics[m].values);
  const present = metrics.map((m) => columns.metrics[m].present);

  const { names, minTs, maxTs, firstStep, base, rowStep, rowU, order, rows } = planRows(columns, from, to, ms);
  const totalSteps = base[names.length]!;
  const count = order ? order.length : columns.length;

  // Accumulate, metric by metric.
  let nonFiniteValues = 0;
  const rowValid = new Uint8Array(columns.length);
  const acc = metrics.map(() => new Float64Array(totalSteps * FIELDS));
  for (let m = 0; m < M; m++)
    nonFiniteValues += accumulate(acc[m]!, values[m]!, present[m]!, scalers[m]!, {
      rowStep,
      rowU,
      rowValid,
      order,
      count,
    });
  const reported = new Uint16Array(totalSteps);
  for (let i = 0; i < columns.length; i++) if (rowValid[i]) reported[rowStep[i]!]! += 1;

  // Finalise into the float32 layout the windows slice from, channel by channel over
  // every server's steps at once; each server then gets views of its rows.
  const F = channels.length;
  const G = targetSlots.length;
  const observedAll = new Float32Array(totalSteps * F);
  const observedMaskAll = new Float32Array(totalSteps * F);
  const targetsAll = new Float32Array(totalSteps * G);
  const targetMaskAll = new Float32Array(totalSteps * G);
  const finish = { perStep, perHour: 60 / spec.stepMinutes, steps: totalSteps };
  channels.forEach(({ slot: m, aggregate }, f) =>
    finalizeChannel(acc[m]!, scalers[m]!, aggregate, observedAll, observedMaskAll, f, F, finish),
  );
  targetSlots.forEach((m, g) =>
    finalizeChannel(acc[m]!, scalers[m]!, 'target', targetsAll, targetMaskAll, g, G, finish),
  );
  if (spec.normalization) normalizeObserved(observedAll, observedMaskAll, spec.normalization, F);
  const coverageAll = new Float32Array(totalSteps);
  for (let g = 0; g < totalSteps; g++) coverageAll[g] = Math.min(1, reported[g]! / perStep);

  const servers: ServerSteps[] = names.map((server, k) => {
    const g0 = base[k]!;
    const g1 = base[k + 1]!;
    return {
      server,
      firstStepEnd: firstStep[k]! * ms,
      steps: g1 - g0,
      observed: observedAll.subarray(g0 * F, g1 * F),
      observedMask: observedMaskAll.subarray(g0 * F, g1 * F),
      targets: targetsAll.subarray(g0 * G, g1 * G),
      targetMask: targetMaskAll.subarray(g0 * G, g1 * G),
      coverage: coverageAll.subarray(g0, g1),
      firstTs: minTs[k]!,
      lastTs: maxTs[k]!,
    };
  });
  servers.sort((x, y) => (x.server < y.server ? -1 : x.server > y.server ? 1 : 0));
  return { servers, nonFiniteValues, rows };
}

/** Rows with a step (rowStep >= 0), ordered by (global step, ts): the canonical summation order. */
function canonicalOrder(rowStep: Int32Array, timestamp: Float64Array): Int32Array {
  const rows: number[] = [];
  for (let i = 0; i < rowStep.length; i++) if (rowStep[i]! >= 0) rows.push(i);
  rows.sort((a, b) => rowStep[a]! - rowStep[b]! || timestamp[a]! - timestamp[b]! || a - b);
  return Int32Array.from(rows);
}

interface RowLayout {
  /** Server names in order of first appearance; index k. */
  names: string[];
  minTs: Float64Array;
  maxTs: Float64Array;
  /** (servers): the step number (end / step) of each server's step 0. */
  firstStep: Float64Array;
  /** (servers + 1): server k's steps are global steps base[k] .. base[k + 1] - 1. */
  base: Int32Array;
  /** (rows): global step of each row, -1 for rows outside (from, to]. */
  rowStep: Int32Array;
  /** (rows): the row's position in its step, in (0, 1]. */
  rowU: Float64Array;
  /** Summation order when rows are not in ts order per server; null when they are. */
  order: Int32Array | null;
  rows: number;
}

/**
 * The row plan: the servers, each one's step span (accumulators for every server's steps sit
 * back to back, server k's step s at global step base[k] + s, so the hot loop needs no per-row
 * lookups), and each row's global step.
 */
function planRows(columns: SampleColumns, from: number, to: number, ms: number): RowLayout {
  const n = columns.length;
  const timestamp = columns.timestamp;
  const index = new Map<string, number>();
  const names: string[] = [];
  const rowServer = new Int32Array(n).fill(-1);
  let rows = 0;
  let lastName: string | undefined;
  let lastIdx = -1;
  for (let i = 0; i < n; i++) {
    const ts = timestamp[i]!;
    if (!(ts > from && ts <= to)) continue;
    const name = columns.server[i]!;
    if (name !== lastName) {
      let idx = index.get(name);
      if (idx === undefined) {
        idx = names.length;
        index.set(name, idx);
        names.push(name);
      }
      lastName = name;
      lastIdx = idx;
    }
    rowServer[i] = lastIdx;
    rows++;
  }
  const K = names.length;
  const minTs = new Float64Array(K).fill(Infinity);
  const maxTs = new Float64Array(K).fill(-Infinity);
  let inOrder = true;
  for (let i = 0; i < n; i++) {
    const k = rowServer[i]!;
    if (k < 0) continue;
    const ts = timestamp[i]!;
    if (ts < minTs[k]!) minTs[k] = ts;
    if (ts < maxTs[k]!) inOrder = false;
    else maxTs[k] = ts;
  }
  const firstStep = new Float64Array(K);
  const base = new Int32Array(K + 1);
  for (let k = 0; k < K; k++) {
    firstStep[k] = Math.ceil(minTs[k]! / ms);
    base[k + 1] = base[k]! + Math.ceil(maxTs[k]! / ms) - firstStep[k]! + 1;
  }
  const rowStep = new Int32Array(n).fill(-1);
  const rowU = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = rowServer[i]!;
    if (k < 0) continue;
    const ts = timestamp[i]!;
    const stepNo = Math.ceil(ts / ms);
    rowStep[i] = base[k]! + stepNo - firstStep[k]!;
    rowU[i] = (ts - (stepNo - 1) * ms) / ms;
  }
  // Floating-point sums depend on their order, and a window's features must not depend on how
  // rows were batched (nor on rows after t): each step is summed in ts order. Rows already in ts
  // order per server (the store's, generateFleet's) are read as they are; others are sorted.
  const order = inOrder ? null : canonicalOrder(rowStep, timestamp);
  return { names, minTs, maxTs, firstStep, base, rowStep, rowU, order, rows };
}

interface RowPlan {
  rowStep: Int32Array;
  rowU: Float64Array;
  rowValid: Uint8Array;
  order: Int32Array | null;
  count: number;
}

/**
 * The hot loop, one metric over every row, kept small so V8 optimises it as a unit. Returns how
 * many values were present but not finite (left out: missing for the model).
 */
function accumulate(a: Float64Array, v: Float64Array, p: Uint8Array, s: Scaler, plan: RowPlan): number {
  const { rowStep, rowU, rowValid, order, count } = plan;
  const { log, invScale, invNorm, min, max } = s;
  for (let j = MAX; j < a.length; j += FIELDS) a[j] = -Infinity;
  let nonFinite = 0;
  for (let j = 0; j < count; j++) {
    const i = order ? order[j]! : j;
    const g = rowStep[i]!;
    if (g < 0 || p[i] === 0) continue;
    const x = v[i]!;
    if (!Number.isFinite(x)) {
      nonFinite++;
      continue;
    }
    rowValid[i] = 1;
    const o = g * FIELDS;
    a[o + N]! += 1;
    a[o + SUM]! += x;
    if (x > a[o + MAX]!) a[o + MAX] = x;
    // scaleWith, inlined.
    const c = x < min ? min : x > max ? max : x;
    const y = log ? Math.log1p(c * invScale) * invNorm : c * invScale;
    const u = rowU[i]!;
    a[o + SU]! += u;
    a[o + SUU]! += u * u;
    a[o + SY]! += y;
    a[o + SUY]! += u * y;
  }
  return nonFinite;
}

/**
 * One channel's column of the (steps, width) output from its metric's accumulator. `target`:
 * the step mean with mask 1/0 (a loss weight); the others: the aggregate with mask = share of
 * the step's slots. One loop per kind, so none branches on the kind per step.
 */
function finalizeChannel(
  a: Float64Array,
  s: Scaler,
  kind: Aggregate | 'target',
  out: Float32Array,
  mask: Float32Array,
  column: number,
  width: number,
  { perStep, perHour, steps }: { perStep: number; perHour: number; steps: number },
): void {
  if (kind === 'slope') {
    for (let g = 0, o = 0; g < steps; g++, o += FIELDS) {
      const n = a[o + N]!;
      const su = a[o + SU]!;
      const den = n * a[o + SUU]! - su * su;
      if (n < 2 || !(den > 1e-9 * n * n)) continue;
      // Least-squares slope of the scaled values against u (in steps), reported per hour.
      const slope = (n * a[o + SUY]! - su * a[o + SY]!) / den;
      // A flat step gives +-1e-15 from cancellation: report it as the 0 it is.
      out[g * width + column] = Math.abs(slope) < 1e-12 ? 0 : slope * perHour;
      mask[g * width + column] = Math.min(1, n / perStep);
    }
    return;
  }
  const field = kind === 'max' ? MAX : SUM;
  const divide = kind !== 'max';
  for (let g = 0, o = 0; g < steps; g++, o += FIELDS) {
    const n = a[o + N]!;
    if (n === 0) continue;
    out[g * width + column] = scaleWith(s, divide ? a[o + field]! / n : a[o + field]!);
    mask[g * width + column] = kind === 'target' ? 1 : Math.min(1, n / perStep);
  }
}

/**
 * Standardises observed channel values in place (rows of F channels): (x - center) / scale where
 * the mask is > 0; missing placeholders stay 0.
 */
export function normalizeObserved(
  observed: Float32Array,
  mask: Float32Array,
  normalization: ObservedNormalization,
  F: number,
): void {
  const { center, scale } = normalization;
  for (let k = 0; k < observed.length; k++) {
    if (mask[k]! > 0) {
      const f = k % F;
      observed[k] = (observed[k]! - center[f]!) / scale[f]!;
    }
  }
}

/**
 * The standardisation of each observed channel: mean and standard deviation (floored at
 * MIN_NORMALIZATION_SCALE) of its valid step values in `ranges` (slot, first step, end step),
 * the steps the training split covers. Channels never valid get center 0, scale 1.
 */
export function fitNormalization(
  servers: readonly ServerSteps[],
  ranges: readonly { slot: number; from: number; to: number }[],
  F: number,
): ObservedNormalization {
  const sum = new Float64Array(F);
  const sumSq = new Float64Array(F);
  const count = new Float64Array(F);
  for (const { slot, from, to } of ranges) {
    const s = servers[slot]!;
    for (let g = Math.max(0, from); g < Math.min(to, s.steps); g++) {
      for (let f = 0; f < F; f++) {
        const k = g * F + f;
        if (s.observedMask[k]! > 0) {
          const x = s.observed[k]!;
          sum[f]! += x;
          sumSq[f]! += x * x;
          count[f]! += 1;
        }
      }
    }
  }
  const center: number[] = [];
  const scale: number[] = [];
  for (let f = 0; f < F; f++) {
    if (count[f] === 0) {
      center.push(0);
      scale.push(1);
      continue;
    }
    const mean = sum[f]! / count[f]!;
    const variance = Math.max(0, sumSq[f]! / count[f]! - mean * mean);
    // Rounded so model.json stays readable; float32 inputs make the extra digits moot.
    center.push(Number(mean.toPrecision(6)));
    scale.push(Number(Math.max(MIN_NORMALIZATION_SCALE, Math.sqrt(variance)).toPrecision(6)));
  }
  return { center, scale };
}
