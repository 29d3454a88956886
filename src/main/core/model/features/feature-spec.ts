import { METRIC_NAMES, PROFILES, STEP_MS, isMetricName, type MetricName, type Profile } from '@shared/contract';
import { INCIDENT_TYPES, type IncidentType } from '@shared/domain';

/**
 * How one metric is mapped to the model's scale. FIXED from the data contract, never fitted to
 * data: an unseen server or a whole new fleet is scaled exactly like the training fleet, and
 * model.json carries these numbers so training and inference cannot disagree.
 *
 * - `linear`: y = x / scale (percentages: /100, so 0..1).
 * - `log1p`:  y = log1p(x / scale) / log1p(reference / scale). Heavy-tailed metrics (latency,
 *   throughput, load, error ratio) span four or more decades; the log keeps a 30 s latency spike
 *   from dwarfing the 40 ms that is normal, `scale` sets where the curve turns from linear to
 *   logarithmic (about the metric's "quiet" level) and `reference` is the value that maps to 1
 *   (the contract's critical threshold where it has one).
 *
 * Values are clamped to the contract range first (the store never holds anything outside it;
 * the clamp only keeps a bad in-memory batch from producing NaN).
 */
export type MetricScaling = { kind: 'linear'; scale: number } | { kind: 'log1p'; scale: number; reference: number };

/** Per-step aggregates of one metric that can become an observed channel. */
export const AGGREGATES = ['mean', 'max', 'slope'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** Calendar channels the pipeline knows how to compute (known for context and horizon alike). */
export const KNOWN_CHANNELS = ['hour_sin', 'hour_cos', 'dow_sin', 'dow_cos', 'weekend'] as const;
export type KnownChannel = (typeof KNOWN_CHANNELS)[number];

/**
 * What the model sees and predicts: the contract between the feature pipeline (which builds
 * windows from samples), the TFT (which consumes them) and the model folder (model.json records
 * it so inference builds the same inputs). Changing it means retraining.
 *
 * Time layout. The model works on steps of `stepMinutes` on an epoch-aligned grid; a step is
 * named by its END e and holds the samples with e - step < ts <= e. A window "at t" (t on the
 * grid) has context steps ending t - (contextSteps - 1) * step ... t (so data with ts <= t and
 * nothing later) and horizon steps ending t + step ... t + horizonSteps * step.
 */
export interface FeatureSpec {
  /** Version of the pipeline's semantics (aggregation, masks, calendar); a model trained under another is refused. */
  pipelineVersion: number;
  /** The model works on a coarser grid than the 5-minute samples (see README): minutes per model step. */
  stepMinutes: number;
  /** Model steps of history (24 h) and of forecast (8 h). */
  contextSteps: number;
  horizonSteps: number;
  /**
   * Observed channels, in order, "metric:aggregate" (metric-major), e.g. "cpu_percent:mean",
   * "cpu_percent:max", "cpu_percent:slope". mean = scale(mean of the step's valid samples);
   * max = scale(max) (spikes survive the aggregation); slope = least-squares slope of the scaled
   * samples within the step, in scaled units per hour (needs 2 valid samples).
   */
  observed: string[];
  /**
   * Known-future channels (calendar), in order, from the step's START (e - step) in UTC shifted
   * by `utcOffsetMinutes`: hour_sin/hour_cos (time of day), dow_sin/dow_cos (time of week,
   * Monday 00:00 = angle 0, continuous through the week), weekend (1 on Saturday and Sunday).
   */
  known: string[];
  /** Fixed offset applied before the calendar is computed (0 = UTC, like the simulator). */
  utcOffsetMinutes: number;
  /** Metrics forecast, in order: each horizon step's target is scale(mean of the step's valid samples). */
  targets: MetricName[];
  quantiles: number[];
  /** Failure-mode classes, index 0 = "none". */
  failureModes: string[];
  /** Incident types mapped to their failure-mode class (every IncidentType must be mapped). */
  failureModeOf: Partial<Record<IncidentType, string>>;
  profiles: Profile[];
  /** Hash buckets for server identity; bucket 0 = unknown server. */
  serverBuckets: number;
  /** Scaling of every contract metric (observed channels and targets share it). */
  scaling: Record<MetricName, MetricScaling>;
  /**
   * Standardisation of the observed channels after scaling: channel f's model input is
   * (scaled - center[f]) / scale[f] where valid (missing stays 0 with mask 0). Fitted once on the
   * training split (buildDataset) and frozen in model.json, so an unseen server or a new fleet is
   * standardised exactly like the training fleet. Why: the contract scaling leaves the informative
   * channels tiny (a memory slope's spread is ~0.04, a level's ~0.15), and the network then
   * learns nothing from them in the training budget (measured: risk AUROC 0.52 without, 0.65
   * with, same steps). Absent = identity (a spec not fitted yet).
   */
  normalization?: ObservedNormalization;
}

export interface ObservedNormalization {
  /** One per observed channel. */
  center: number[];
  /** One per observed channel, > 0. */
  scale: number[];
}

/**
 * A batch of training or inference windows, flat row-major Float32/Int32 arrays (what both
 * TF.js and onnxruntime take without copying). Missing observations are 0 with mask 0.
 */
export interface WindowBatch {
  size: number;
  /** (B, contextSteps, observed.length), scaled. */
  observed: Float32Array;
  /**
   * (B, contextSteps, observed.length): the share of the step's sample slots (stepMinutes / 5)
   * that held a valid (present, finite) value for the channel's metric, in [0, 1]; 0 means the
   * channel value is a placeholder 0. Slope channels are 0 unless 2 or more samples were valid.
   */
  observedMask: Float32Array;
  /** (B, contextSteps + horizonSteps, known.length). */
  known: Float32Array;
  /** (B): index into `profiles`. */
  profile: Int32Array;
  /** (B): 0 = unknown server, else 1..serverBuckets-1. */
  serverBucket: Int32Array;
  /** (B, horizonSteps, targets.length), scaled; training only (zeros at inference). */
  targets: Float32Array;
  /** (B, horizonSteps, targets.length): 1 where the step had at least one valid sample, else 0 (a loss weight). */
  targetMask: Float32Array;
  /** (B): 1 when an incident begins in (t, t + horizon]; training only. */
  risk: Float32Array;
  /** (B): failure-mode class of that incident, 0 when none; training only. */
  failureMode: Int32Array;
  /** Which server and which time t (epoch ms, the end of the context) each window is. */
  server: string[];
  time: Float64Array;
}

/** 2: observed channels standardised by `normalization`. */
export const FEATURE_PIPELINE_VERSION = 2;

/** "metric:aggregate" names for every metric x aggregate, metric-major. */
export function observedChannels(metrics: readonly MetricName[], aggregates: readonly Aggregate[]): string[] {
  return metrics.flatMap((m) => aggregates.map((a) => `${m}:${a}`));
}

export interface ObservedChannel {
  metric: MetricName;
  aggregate: Aggregate;
}

export function parseObservedChannel(name: string): ObservedChannel {
  const [metric, aggregate, ...rest] = name.split(':');
  if (rest.length > 0 || !isMetricName(metric) || !(AGGREGATES as readonly string[]).includes(aggregate ?? ''))
    throw new Error(
      `Observed channel "${name}" is not "metric:aggregate" with a contract metric and one of ${AGGREGATES.join(', ')}`,
    );
  return { metric, aggregate: aggregate as Aggregate };
}

/**
 * Scaling per contract metric. Percentages /100. Heavy-tailed metrics in log1p with the
 * reference at 1: latency 2,000 ms (critical) with the knee at 10 ms, error ratio 0.05 (critical)
 * with the knee at 0.1 %, load 64 with the knee at 1, network 10 Gbit/s (a common NIC) with the
 * knee at 10 Mbit/s. The contract maxima then land at about 2.4, 1.8, 2.2 and 1.5.
 */
export const DEFAULT_SCALING: Readonly<Record<MetricName, MetricScaling>> = {
  cpu_percent: { kind: 'linear', scale: 100 },
  memory_percent: { kind: 'linear', scale: 100 },
  disk_percent: { kind: 'linear', scale: 100 },
  iowait_percent: { kind: 'linear', scale: 100 },
  swap_percent: { kind: 'linear', scale: 100 },
  load_average: { kind: 'log1p', scale: 1, reference: 64 },
  network_in_mbps: { kind: 'log1p', scale: 10, reference: 10_000 },
  network_out_mbps: { kind: 'log1p', scale: 10, reference: 10_000 },
  latency_ms: { kind: 'log1p', scale: 10, reference: 2_000 },
  error_rate: { kind: 'log1p', scale: 0.001, reference: 0.05 },
};

/**
 * Every IncidentType to its failure-mode class. Cascading failures are "dependency": what the
 * SRE must look at is upstream, not this server's resources.
 */
export const DEFAULT_FAILURE_MODE_OF: Readonly<Record<IncidentType, string>> = {
  memory_leak: 'memory',
  disk_fill: 'disk',
  cpu_runaway: 'cpu',
  network_saturation: 'network',
  cascading_failure: 'dependency',
  hardware_fault: 'hardware',
};

/**
 * The default: 30-minute steps (6 samples; the issue's calibration shows TF.js is dispatch-bound,
 * and T=64 instead of 384 is what makes training fit in minutes), 48 steps of context (24 h),
 * 16 of horizon (8 h). Targets: the five metrics that carry an incident's onset in the contract
 * (each has a critical threshold an SRE pages on); network and load have no universal threshold,
 * so their forecast would feed no alert, and iowait/swap are precursors rather than outcomes.
 */
export const DEFAULT_FEATURE_SPEC: Readonly<FeatureSpec> = deepFreeze({
  pipelineVersion: FEATURE_PIPELINE_VERSION,
  stepMinutes: 30,
  contextSteps: 48,
  horizonSteps: 16,
  observed: observedChannels(METRIC_NAMES, AGGREGATES),
  known: [...KNOWN_CHANNELS],
  utcOffsetMinutes: 0,
  targets: ['cpu_percent', 'memory_percent', 'disk_percent', 'latency_ms', 'error_rate'] satisfies MetricName[],
  quantiles: [0.1, 0.5, 0.9],
  failureModes: ['none', 'memory', 'disk', 'cpu', 'network', 'dependency', 'hardware'],
  failureModeOf: { ...DEFAULT_FAILURE_MODE_OF },
  profiles: [...PROFILES],
  serverBuckets: 64,
  scaling: { ...DEFAULT_SCALING },
});

/** Frozen all the way down: a caller that edits the default (rather than a copy) fails loudly. */
function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value))
    if (typeof inner === 'object' && inner !== null) deepFreeze(inner as object);
  return Object.freeze(value);
}

/** Model steps in ms. */
export function stepMs(spec: Pick<FeatureSpec, 'stepMinutes'>): number {
  return spec.stepMinutes * 60_000;
}

/** Sample slots per model step (6 for 30-minute steps of 5-minute samples). */
export function samplesPerStep(spec: Pick<FeatureSpec, 'stepMinutes'>): number {
  return (spec.stepMinutes * 60_000) / STEP_MS;
}

const WEEK_MS = 7 * 24 * 3_600_000;

/**
 * Throws a message naming the first inconsistency. Called at every entry point: a spec read back
 * from model.json must describe something this pipeline can build.
 */
export function validateFeatureSpec(spec: FeatureSpec): void {
  const fail = (why: string): never => {
    throw new Error(`Invalid feature spec: ${why}`);
  };
  if (spec.pipelineVersion !== FEATURE_PIPELINE_VERSION)
    fail(`pipelineVersion ${spec.pipelineVersion}, this build implements ${FEATURE_PIPELINE_VERSION}`);
  const ms = stepMs(spec);
  if (!Number.isInteger(spec.stepMinutes) || spec.stepMinutes < 5 || ms % STEP_MS !== 0 || WEEK_MS % ms !== 0)
    fail(`stepMinutes ${spec.stepMinutes} must be a multiple of 5 that divides a week`);
  for (const key of ['contextSteps', 'horizonSteps'] as const)
    if (!Number.isInteger(spec[key]) || spec[key] < 1) fail(`${key} must be a positive integer, got ${spec[key]}`);
  if (spec.observed.length === 0) fail('no observed channels');
  spec.observed.forEach((c) => parseObservedChannel(c));
  if (new Set(spec.observed).size !== spec.observed.length) fail('duplicate observed channels');
  for (const k of spec.known)
    if (!(KNOWN_CHANNELS as readonly string[]).includes(k))
      fail(`unknown known channel "${k}" (have ${KNOWN_CHANNELS.join(', ')})`);
  if (!Number.isInteger(spec.utcOffsetMinutes) || Math.abs(spec.utcOffsetMinutes) > 14 * 60)
    fail(`utcOffsetMinutes ${spec.utcOffsetMinutes} is not a whole-minute offset within +-14 h`);
  if (spec.targets.length === 0) fail('no targets');
  for (const t of spec.targets) if (!isMetricName(t)) fail(`target "${String(t)}" is not a contract metric`);
  if (
    spec.quantiles.length === 0 ||
    spec.quantiles.some((q, i) => !(q > 0 && q < 1) || (i > 0 && q <= spec.quantiles[i - 1]!))
  )
    fail('quantiles must be increasing values in (0, 1)');
  if (spec.failureModes[0] !== 'none') fail('failureModes[0] must be "none"');
  for (const type of INCIDENT_TYPES) {
    const mode = spec.failureModeOf[type];
    if (mode === undefined || mode === 'none' || !spec.failureModes.includes(mode))
      fail(
        `incident type ${type} maps to ${mode === undefined ? 'nothing' : `"${mode}"`}, not a failure mode other than "none"`,
      );
  }
  if (spec.profiles.length === 0) fail('no profiles');
  if (!Number.isInteger(spec.serverBuckets) || spec.serverBuckets < 2) fail(`serverBuckets must be an integer >= 2`);
  for (const metric of METRIC_NAMES) {
    const s = spec.scaling[metric] as MetricScaling | undefined;
    if (!s) fail(`no scaling for ${metric}`);
    else if (!(s.scale > 0) || !Number.isFinite(s.scale)) fail(`scaling of ${metric}: scale must be positive`);
    else if (s.kind === 'log1p' && !(s.reference > 0 && Number.isFinite(s.reference)))
      fail(`scaling of ${metric}: reference must be positive`);
    else if (s.kind !== 'linear' && s.kind !== 'log1p') fail(`scaling of ${metric}: unknown kind`);
  }
  const n = spec.normalization;
  if (n) {
    if (n.center.length !== spec.observed.length || n.scale.length !== spec.observed.length)
      fail(`normalization needs one center and one scale per observed channel (${spec.observed.length})`);
    n.center.forEach((c, f) => {
      if (!Number.isFinite(c)) fail(`normalization.center[${f}] (${spec.observed[f]}) is not finite`);
    });
    n.scale.forEach((x, f) => {
      if (!(x > 0 && Number.isFinite(x))) fail(`normalization.scale[${f}] (${spec.observed[f]}) must be positive`);
    });
  }
}

/** Smallest standardisation scale: a channel that never moves in training is not blown up by 1/0. */
export const MIN_NORMALIZATION_SCALE = 1e-3;

/** A zeroed batch of `size` windows laid out for `spec`. */
export function allocateWindowBatch(spec: FeatureSpec, size: number): WindowBatch {
  const F = spec.observed.length;
  const T = spec.contextSteps;
  const H = spec.horizonSteps;
  return {
    size,
    observed: new Float32Array(size * T * F),
    observedMask: new Float32Array(size * T * F),
    known: new Float32Array(size * (T + H) * spec.known.length),
    profile: new Int32Array(size),
    serverBucket: new Int32Array(size),
    targets: new Float32Array(size * H * spec.targets.length),
    targetMask: new Float32Array(size * H * spec.targets.length),
    risk: new Float32Array(size),
    failureMode: new Int32Array(size),
    server: new Array<string>(size).fill(''),
    time: new Float64Array(size),
  };
}
