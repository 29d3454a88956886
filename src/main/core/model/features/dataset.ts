import { inferProfile } from '@shared/contract';
import type { Incident, SampleColumns } from '@shared/domain';
import { Prng } from '../../metrics/simulator/prng';
import { CalendarTable } from './calendar';
import { stepMs, validateFeatureSpec, DEFAULT_FEATURE_SPEC, type FeatureSpec, type WindowBatch } from './feature-spec';
import { aggregateSteps, fitNormalization, normalizeObserved, type ServerSteps } from './step-series';
import {
  bucketOf,
  emptySkipCounts,
  incidentsByServer,
  materializeWindows,
  pointsOf,
  profileIndex,
  selector,
  strideMsOf,
  WindowIndexBuilder,
  type SkipReason,
  type WindowIndex,
  type WindowSelectionOptions,
} from './windows';

export interface DatasetOptions extends WindowSelectionOptions {
  spec?: FeatureSpec;
  /**
   * Share of the time range (newest part) whose points go to validation. Default 0.2; 0 puts
   * every point of the non-held-out servers in training.
   */
  validationShare?: number;
  /** Servers held out entirely (validation only, as unseen: bucket 0). Overrides heldOutCount. */
  validationServers?: readonly string[];
  /** How many servers to hold out, picked by `seed`. Default: 10 % of the fleet, at least 1 when it has 3 or more. */
  heldOutCount?: number;
  /** Seeds the held-out pick. Default 0. */
  seed?: string | number;
  /**
   * When the spec has no `normalization` yet: fit it on the training split's context steps
   * (default true) and return a dataset whose spec carries it. A spec that has one (a model's,
   * when fine-tuning or evaluating) is applied as it is.
   */
  fitNormalization?: boolean;
}

export interface SplitStats {
  windows: number;
  positives: number;
  positiveShare: number;
  /** Windows per failure-mode class (index 0 = "none"). */
  byFailureMode: Record<string, number>;
}

export interface DatasetStats {
  servers: number;
  rows: number;
  nonFiniteValues: number;
  /** Evaluation points considered (every stride after each server's first 24 h). */
  points: number;
  windows: number;
  positives: number;
  positiveShare: number;
  skipped: Record<SkipReason, number>;
  train: SplitStats;
  validation: SplitStats & {
    /** Windows of held-out servers (any time). */
    heldOutServerWindows: number;
    /** Windows of training servers at t >= timeCut. */
    lateWindows: number;
  };
  /** Epoch ms: training windows have t + horizon <= timeCut; validation windows of training servers t >= timeCut. */
  timeCut: number | null;
  heldOutServers: string[];
  buildMs: number;
}

export type SplitName = 'train' | 'validation';

export interface PrecursorOversample {
  /** failure-mode class index -> how many times as often as an ordinary positive (>= 1). */
  factors: Record<number, number>;
  /** Precursor progress at t from which a window counts as visible, in [0, 1). */
  minProgress: number;
}

export interface MiniBatchOptions {
  /** Default 64. */
  batchSize?: number;
  /** Shuffle seed; with `epoch`, fixes the order completely. Default 0. */
  seed?: string | number;
  epoch?: number;
  /** Default: true for train, false for validation (then windows come in index order). */
  shuffle?: boolean;
  /**
   * Each positive window appears this many times per epoch (fractional parts by chance).
   * Default 1 (no oversampling). The risk head then learns an inflated base rate: correct it
   * (prior shift) or calibrate on validation, which is never oversampled by default.
   */
  oversamplePositives?: number;
  /**
   * Extra sampling of the positives whose precursor was already under way at t (see
   * WindowIndex.precursor): such a window of a failure-mode class listed in `factors` (index into
   * spec.failureModes -> factor) with precursor progress >= `minProgress` appears `factor` times as
   * often as other positives. The rare, short precursors (CPU runaway, cascading latency) are
   * otherwise seen a handful of times per epoch. Default: none.
   */
  precursorOversample?: PrecursorOversample;
  /**
   * Chance that a window's serverBucket is replaced by 0 (unknown), so the unknown bucket is
   * trained and an unseen server is predicted through its profile. Default 0.1 for train, 0 else.
   */
  unknownServerRate?: number;
  /** Drop a last batch smaller than batchSize. Default false. */
  dropLast?: boolean;
}

/**
 * A fleet's training/validation windows, kept as references (server slot, t, labels) into the
 * per-server step series, so 27,000 windows cost about 20 bytes each until a mini-batch copies
 * them out (a materialised window is about 14 KB with the default spec).
 */
export class FeatureDataset {
  private readonly calendar: CalendarTable;

  constructor(
    readonly spec: FeatureSpec,
    readonly servers: readonly ServerSteps[],
    /** (servers): index into spec.profiles. */
    readonly profiles: Int32Array,
    readonly train: WindowIndex,
    readonly validation: WindowIndex,
    readonly stats: DatasetStats,
    /** Servers with windows in training: what model.json should list as known (others map to bucket 0). */
    readonly trainServers: readonly string[],
  ) {
    this.calendar = new CalendarTable(spec);
  }

  split(name: SplitName): WindowIndex {
    return name === 'train' ? this.train : this.validation;
  }

  /** Windows `rows` of a split (default all) as one batch, in order. 27k default windows ~ 370 MB: prefer batches(). */
  materialize(split: SplitName, rows?: ArrayLike<number>): WindowBatch {
    return materializeWindows(this.spec, this.servers, this.profiles, this.split(split), rows, this.calendar);
  }

  /** Batches per epoch for these options. */
  batchCount(split: SplitName, options: MiniBatchOptions = {}): number {
    const n = this.epochOrder(split, options).length;
    const size = options.batchSize ?? 64;
    return options.dropLast ? Math.floor(n / size) : Math.ceil(n / size);
  }

  /**
   * One epoch of mini-batches, each a fresh WindowBatch (B <= batchSize). Deterministic: the
   * same (seed, epoch, options) give the same batches, bucket dropout included.
   */
  *batches(split: SplitName, options: MiniBatchOptions = {}): Generator<WindowBatch, void, undefined> {
    const size = options.batchSize ?? 64;
    if (!Number.isInteger(size) || size < 1) throw new Error(`batchSize must be a positive integer, got ${size}`);
    const order = this.epochOrder(split, options);
    const rate = options.unknownServerRate ?? (split === 'train' ? 0.1 : 0);
    const rng = new Prng(`features:dropout:${options.seed ?? 0}:${options.epoch ?? 0}`);
    const index = this.split(split);
    for (let start = 0; start < order.length; start += size) {
      const rows = order.subarray(start, Math.min(order.length, start + size));
      if (options.dropLast && rows.length < size) return;
      let override: Int32Array | undefined;
      if (rate > 0) {
        override = new Int32Array(rows.length).fill(-1);
        for (let b = 0; b < rows.length; b++) if (rng.chance(rate)) override[b] = 0;
      }
      yield materializeWindows(this.spec, this.servers, this.profiles, index, rows, this.calendar, override);
    }
  }

  /** The rows of one epoch: every window once, positives repeated, shuffled when asked. */
  epochOrder(split: SplitName, options: MiniBatchOptions = {}): Int32Array {
    const index = this.split(split);
    const factor = options.oversamplePositives ?? 1;
    if (!(factor >= 1) || !Number.isFinite(factor)) throw new Error(`oversamplePositives must be >= 1, got ${factor}`);
    const rng = new Prng(`features:order:${options.seed ?? 0}:${options.epoch ?? 0}`);
    const boost = options.precursorOversample;
    const rows: number[] = [];
    for (let r = 0; r < index.size; r++) {
      rows.push(r);
      let copies = factor;
      if (boost && index.risk[r] === 1 && index.precursor && index.precursor[r]! > 0 && index.precursor[r]! >= boost.minProgress)
        copies *= boost.factors[index.failureMode[r]!] ?? 1;
      if (index.risk[r] === 1 && copies > 1) {
        const extra = Math.floor(copies - 1) + (rng.chance((copies - 1) % 1) ? 1 : 0);
        for (let k = 0; k < extra; k++) rows.push(r);
      }
    }
    const order = Int32Array.from(rows);
    if (options.shuffle ?? split === 'train') {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        const tmp = order[i]!;
        order[i] = order[j]!;
        order[j] = tmp;
      }
    }
    return order;
  }
}

/** The held-out servers: the explicit list, or `count` picked by a seeded shuffle of the sorted names. */
export function pickHeldOutServers(
  names: readonly string[],
  options: Pick<DatasetOptions, 'validationServers' | 'heldOutCount' | 'seed'>,
): string[] {
  if (options.validationServers) return [...options.validationServers].filter((s) => names.includes(s)).sort();
  const count = options.heldOutCount ?? (names.length >= 3 ? Math.max(1, Math.round(names.length * 0.1)) : 0);
  if (!Number.isInteger(count) || count < 0 || count >= Math.max(1, names.length))
    throw new Error(`heldOutCount ${count} must leave at least one training server (fleet of ${names.length})`);
  const sorted = [...names].sort();
  const rng = new Prng(`features:heldout:${options.seed ?? 0}`);
  for (let i = sorted.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [sorted[i], sorted[j]] = [sorted[j]!, sorted[i]!];
  }
  return sorted.slice(0, count).sort();
}

function splitStats(index: WindowIndex, spec: FeatureSpec): SplitStats {
  let positives = 0;
  const byFailureMode: Record<string, number> = Object.fromEntries(spec.failureModes.map((m) => [m, 0]));
  for (let r = 0; r < index.size; r++) {
    positives += index.risk[r]!;
    const mode = spec.failureModes[index.failureMode[r]!]!;
    byFailureMode[mode] = (byFailureMode[mode] ?? 0) + 1;
  }
  return { windows: index.size, positives, positiveShare: index.size ? positives / index.size : 0, byFailureMode };
}

/**
 * A whole fleet's windows, split by time AND by server:
 * - held-out servers (validationServers / heldOutCount): every window in validation, bucket 0;
 * - other servers: windows with t + horizon <= timeCut train, t >= timeCut validate, the rest
 *   (labels straddling the cut) are skipped as split_gap.
 * timeCut = the grid point `validationShare` of the fleet's time range before its newest sample.
 *
 * `columns` in any row order (generateFleet's or the store's); `incidents` of any servers.
 */
export function buildDataset(
  columns: SampleColumns,
  incidents: readonly Incident[],
  options: DatasetOptions = {},
): FeatureDataset {
  const started = performance.now();
  const spec = options.spec ?? DEFAULT_FEATURE_SPEC;
  validateFeatureSpec(spec);
  const strideMs = strideMsOf(spec, options.strideMinutes);
  const horizonMs = spec.horizonSteps * stepMs(spec);
  const { servers, nonFiniteValues, rows } = aggregateSteps(columns, spec);
  const names = servers.map((s) => s.server);
  const first = Math.min(...servers.map((s) => s.firstTs));
  const last = Math.max(...servers.map((s) => s.lastTs));

  const validationShare = options.validationShare ?? 0.2;
  if (!(validationShare >= 0 && validationShare < 1))
    throw new Error(`validationShare must be in [0, 1), got ${validationShare}`);
  const timeCut =
    validationShare > 0 && servers.length > 0
      ? Math.floor((last - validationShare * (last - first)) / strideMs) * strideMs
      : null;
  const heldOut = new Set(pickHeldOutServers(names, options));
  const known = options.knownServers ? new Set(options.knownServers) : null;
  const profileOf = options.profileOf ?? inferProfile;
  const profiles = Int32Array.from(names, (n) => profileIndex(spec, profileOf(n)));

  const byServer = incidentsByServer(incidents);
  const select = selector(spec, options, last);
  const train = new WindowIndexBuilder();
  const validation = new WindowIndexBuilder();
  const skipped = emptySkipCounts();
  let points = 0;
  let heldOutServerWindows = 0;
  let lateWindows = 0;
  servers.forEach((steps, slot) => {
    const list = byServer.get(steps.server) ?? [];
    const isHeldOut = heldOut.has(steps.server);
    const bucket = isHeldOut ? 0 : bucketOf(spec, steps.server, known);
    for (const t of pointsOf(steps, spec, strideMs)) {
      points++;
      const verdict = select(steps, t, list);
      if (typeof verdict === 'string') skipped[verdict]++;
      else if (isHeldOut) {
        validation.push(slot, t, bucket, verdict);
        heldOutServerWindows++;
      } else if (timeCut === null || t + horizonMs <= timeCut) train.push(slot, t, bucket, verdict);
      else if (t >= timeCut) {
        validation.push(slot, t, bucket, verdict);
        lateWindows++;
      } else skipped.split_gap++;
    }
  });
  const trainIndex = train.build();
  const validationIndex = validation.build();
  let datasetSpec = spec;
  if (!spec.normalization && (options.fitNormalization ?? true) && trainIndex.size > 0) {
    const normalization = fitNormalization(servers, trainStepRanges(trainIndex, servers, spec), spec.observed.length);
    datasetSpec = { ...spec, normalization };
    for (const s of servers) normalizeObserved(s.observed, s.observedMask, normalization, spec.observed.length);
  }
  const trainStats = splitStats(trainIndex, spec);
  const validationStats = splitStats(validationIndex, spec);
  const windows = trainIndex.size + validationIndex.size;
  const positives = trainStats.positives + validationStats.positives;
  const trainSlots = new Set(trainIndex.slot);
  const stats: DatasetStats = {
    servers: servers.length,
    rows,
    nonFiniteValues,
    points,
    windows,
    positives,
    positiveShare: windows ? positives / windows : 0,
    skipped,
    train: trainStats,
    validation: { ...validationStats, heldOutServerWindows, lateWindows },
    timeCut,
    heldOutServers: [...heldOut],
    buildMs: 0,
  };
  const dataset = new FeatureDataset(
    datasetSpec,
    servers,
    profiles,
    trainIndex,
    validationIndex,
    stats,
    names.filter((_, slot) => trainSlots.has(slot)),
  );
  stats.buildMs = performance.now() - started;
  return dataset;
}

/** Per server slot, the steps the training windows' contexts cover (first, end exclusive). */
function trainStepRanges(
  index: WindowIndex,
  servers: readonly ServerSteps[],
  spec: FeatureSpec,
): { slot: number; from: number; to: number }[] {
  const ms = stepMs(spec);
  const lo = new Map<number, number>();
  const hi = new Map<number, number>();
  for (let r = 0; r < index.size; r++) {
    const slot = index.slot[r]!;
    const e = Math.round((index.time[r]! - servers[slot]!.firstStepEnd) / ms);
    lo.set(slot, Math.min(lo.get(slot) ?? Infinity, e - spec.contextSteps + 1));
    hi.set(slot, Math.max(hi.get(slot) ?? -Infinity, e + 1));
  }
  return [...lo.keys()].map((slot) => ({ slot, from: lo.get(slot)!, to: hi.get(slot)! }));
}
