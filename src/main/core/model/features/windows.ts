import { inferProfile, STEP_MS, type Profile } from '@shared/contract';
import type { Incident, SampleColumns } from '@shared/domain';
import { serverBucket } from '../../metrics/server-encoding';
import { CalendarTable } from './calendar';
import {
  allocateWindowBatch,
  stepMs,
  validateFeatureSpec,
  DEFAULT_FEATURE_SPEC,
  type FeatureSpec,
  type WindowBatch,
} from './feature-spec';
import { aggregateSteps, type ServerSteps } from './step-series';

/**
 * Why an evaluation point produced no window:
 * - incident_ongoing: the server is inside an incident (onset <= t < end); EVALUATION.md skips
 *   these, since "will it fail?" is moot while it is failing;
 * - incomplete_horizon: t + horizon runs past the data, so the label could miss an incident
 *   nobody recorded yet and the targets are cut short;
 * - low_coverage: under `minCoverage` of the context's sample slots were reported;
 * - split_gap: a training server's window whose horizon straddles the time cut, so it belongs to
 *   neither side (its labels would overlap the validation period).
 */
export const SKIP_REASONS = ['incident_ongoing', 'incomplete_horizon', 'low_coverage', 'split_gap'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface WindowSelectionOptions {
  /** Minutes between evaluation points; a multiple of the spec's stepMinutes. Default 30. */
  strideMinutes?: number;
  /** Minimum share of the context's 5-minute slots in which the server reported. Default 0.5. */
  minCoverage?: number;
  /**
   * Time (epoch ms) up to which samples and incident labels are complete: points with
   * t + horizon > dataEnd are skipped when `requireFullHorizon`. Default: the newest sample.
   */
  dataEnd?: number;
  /** Default true (training and evaluation); false keeps the last points with partial targets. */
  requireFullHorizon?: boolean;
  /** Profile of each server; default inferred from the name (contract's prefix rules). */
  profileOf?: (server: string) => Profile;
  /**
   * Servers the model knows (was trained on): any other gets serverBucket 0 (unknown) and is
   * predicted through its profile. Default: every server gets its hash bucket.
   */
  knownServers?: Iterable<string>;
}

/** A set of windows as row references into ServerSteps: a few bytes per window until materialised. */
export interface WindowIndex {
  size: number;
  /** (N): index into the server list. */
  slot: Int32Array;
  /** (N): t, the end of the context (epoch ms). */
  time: Float64Array;
  /** (N): serverBucket fed to the model (0 for a server it must treat as unseen). */
  bucket: Int32Array;
  risk: Uint8Array;
  failureMode: Int32Array;
  /**
   * (N): how far the labelled incident's precursor had run at t, in [0, 1] (0 when the window is
   * negative, the incident is sudden or its precursor had not begun). Training only: it picks the
   * positives whose warning signs were already visible for extra sampling (epochOrder).
   */
  precursor?: Float32Array;
}

export interface Label {
  /** Inside an incident: onset <= t < end. */
  ongoing: boolean;
  risk: 0 | 1;
  /** Failure-mode class of the earliest incident with onset in (t, t + horizon]; 0 when none. */
  failureMode: number;
  /** Progress of that incident's precursor at t in [0, 1]; 0 when none (sudden, not begun, negative). */
  precursor?: number;
}

/** Incidents by server, each list sorted by onset. */
export function incidentsByServer(incidents: readonly Incident[]): Map<string, Incident[]> {
  const map = new Map<string, Incident[]>();
  for (const incident of incidents) {
    const list = map.get(incident.server);
    if (list) list.push(incident);
    else map.set(incident.server, [incident]);
  }
  for (const list of map.values()) list.sort((a, b) => a.onset - b.onset);
  return map;
}

/**
 * The label at t from one server's incidents (sorted by onset). Reads only incidents with
 * onset <= t (to know whether one is ongoing) and onset in (t, t + horizon]; nothing later.
 */
export function labelAt(
  t: number,
  incidents: readonly Incident[],
  horizonMs: number,
  modeIndex: ReadonlyMap<string, number>,
): Label {
  let ongoing = false;
  for (const incident of incidents) {
    if (incident.onset > t) {
      if (incident.onset <= t + horizonMs) {
        const start = incident.precursor ? incident.precursorStart : null;
        const precursor =
          start !== null && start < t && incident.onset > start ? Math.min(1, (t - start) / (incident.onset - start)) : 0;
        return { ongoing, risk: 1, failureMode: modeIndex.get(incident.type) ?? 0, precursor };
      }
      break;
    }
    if (t < incident.end) ongoing = true;
  }
  return { ongoing, risk: 0, failureMode: 0 };
}

/** IncidentType -> failure-mode class index, from the spec. */
export function failureModeIndex(spec: FeatureSpec): Map<string, number> {
  const map = new Map<string, number>();
  for (const [type, mode] of Object.entries(spec.failureModeOf))
    if (mode !== undefined) map.set(type, spec.failureModes.indexOf(mode));
  return map;
}

export function profileIndex(spec: FeatureSpec, profile: Profile): number {
  const i = spec.profiles.indexOf(profile);
  if (i >= 0) return i;
  const generic = spec.profiles.indexOf('generic');
  if (generic >= 0) return generic;
  throw new Error(
    `Profile "${profile}" is not in the model's profiles (${spec.profiles.join(', ')}) and there is no "generic"`,
  );
}

/** Hash bucket, or 0 when `known` is given and lacks the server. */
export function bucketOf(spec: FeatureSpec, server: string, known: ReadonlySet<string> | null): number {
  return known && !known.has(server) ? 0 : serverBucket(server, spec.serverBuckets);
}

/** Growable WindowIndex builder. */
export class WindowIndexBuilder {
  private n = 0;
  private slot = new Int32Array(1024);
  private time = new Float64Array(1024);
  private bucket = new Int32Array(1024);
  private risk = new Uint8Array(1024);
  private mode = new Int32Array(1024);
  private precursor = new Float32Array(1024);

  push(slot: number, time: number, bucket: number, label: Label): void {
    if (this.n === this.slot.length) {
      const grow = <A extends Int32Array | Float64Array | Uint8Array>(a: A, make: (n: number) => A): A => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.slot = grow(this.slot, (n) => new Int32Array(n));
      this.time = grow(this.time, (n) => new Float64Array(n));
      this.bucket = grow(this.bucket, (n) => new Int32Array(n));
      this.risk = grow(this.risk, (n) => new Uint8Array(n));
      this.mode = grow(this.mode, (n) => new Int32Array(n));
      const p = new Float32Array(this.precursor.length * 2);
      p.set(this.precursor);
      this.precursor = p;
    }
    this.slot[this.n] = slot;
    this.time[this.n] = time;
    this.bucket[this.n] = bucket;
    this.risk[this.n] = label.risk;
    this.mode[this.n] = label.failureMode;
    this.precursor[this.n] = label.precursor ?? 0;
    this.n++;
  }

  build(): WindowIndex {
    return {
      size: this.n,
      slot: this.slot.slice(0, this.n),
      time: this.time.slice(0, this.n),
      bucket: this.bucket.slice(0, this.n),
      risk: this.risk.slice(0, this.n),
      failureMode: this.mode.slice(0, this.n),
      precursor: this.precursor.slice(0, this.n),
    };
  }
}

/**
 * Share of the context's sample slots (contextSteps x stepMinutes / 5) in which the server
 * reported, for the window at t; reads only steps ending <= t.
 */
export function contextCoverage(steps: ServerSteps, t: number, spec: FeatureSpec): number {
  const ms = stepMs(spec);
  const e = Math.round((t - steps.firstStepEnd) / ms);
  let sum = 0;
  for (let s = Math.max(0, e - spec.contextSteps + 1); s <= Math.min(e, steps.steps - 1); s++)
    sum += steps.coverage[s]!;
  return sum / spec.contextSteps;
}

/**
 * The evaluation points of one server: every `stride` on the epoch-aligned grid, from the first
 * t whose whole context lies in the server's history (t - context + 5 min >= first sample) to
 * its last sample.
 */
export function pointsOf(steps: ServerSteps, spec: FeatureSpec, strideMs: number): number[] {
  const first = Math.ceil((steps.firstTs + spec.contextSteps * stepMs(spec) - STEP_MS) / strideMs) * strideMs;
  const last = Math.floor(steps.lastTs / strideMs) * strideMs;
  const points: number[] = [];
  for (let t = first; t <= last; t += strideMs) points.push(t);
  return points;
}

export function strideMsOf(spec: FeatureSpec, strideMinutes = 30): number {
  const stride = strideMinutes * 60_000;
  if (!(strideMinutes > 0) || stride % stepMs(spec) !== 0)
    throw new Error(
      `strideMinutes ${strideMinutes} must be a positive multiple of the model step (${spec.stepMinutes} min)`,
    );
  return stride;
}

export function emptySkipCounts(): Record<SkipReason, number> {
  return { incident_ongoing: 0, incomplete_horizon: 0, low_coverage: 0, split_gap: 0 };
}

/**
 * Copies windows into a WindowBatch. `rows` picks entries of `index` (default: all, in order);
 * `bucketOverride` replaces the bucket of row r when its entry is >= 0 (training's
 * unknown-server dropout). Steps before a server's first or after its last step stay 0 with
 * mask 0.
 *
 * Shapes: observed/observedMask (B, contextSteps, F), known (B, contextSteps + horizonSteps, K),
 * targets/targetMask (B, horizonSteps, G), the rest (B).
 */
export function materializeWindows(
  spec: FeatureSpec,
  servers: readonly ServerSteps[],
  profiles: Int32Array,
  index: WindowIndex,
  rows?: ArrayLike<number>,
  calendar: CalendarTable = new CalendarTable(spec),
  bucketOverride?: Int32Array,
): WindowBatch {
  const B = rows ? rows.length : index.size;
  const batch = allocateWindowBatch(spec, B);
  const ms = stepMs(spec);
  const T = spec.contextSteps;
  const H = spec.horizonSteps;
  const F = spec.observed.length;
  const G = spec.targets.length;
  const K = spec.known.length;
  for (let b = 0; b < B; b++) {
    const r = rows ? rows[b]! : b;
    const steps = servers[index.slot[r]!]!;
    const t = index.time[r]!;
    const e = Math.round((t - steps.firstStepEnd) / ms);
    // Context steps e - T + 1 .. e, clipped to the series.
    const c0 = Math.max(0, e - T + 1);
    const c1 = Math.min(e, steps.steps - 1);
    if (c1 >= c0) {
      const dst = (b * T + (c0 - (e - T + 1))) * F;
      batch.observed.set(steps.observed.subarray(c0 * F, (c1 + 1) * F), dst);
      batch.observedMask.set(steps.observedMask.subarray(c0 * F, (c1 + 1) * F), dst);
    }
    // Horizon steps e + 1 .. e + H, clipped.
    const h0 = Math.max(0, e + 1);
    const h1 = Math.min(e + H, steps.steps - 1);
    if (h1 >= h0) {
      const dst = (b * H + (h0 - (e + 1))) * G;
      batch.targets.set(steps.targets.subarray(h0 * G, (h1 + 1) * G), dst);
      batch.targetMask.set(steps.targetMask.subarray(h0 * G, (h1 + 1) * G), dst);
    }
    calendar.writeWindow(t, T, batch.known, b * (T + H) * K);
    batch.profile[b] = profiles[index.slot[r]!]!;
    const override = bucketOverride ? bucketOverride[b]! : -1;
    batch.serverBucket[b] = override >= 0 ? override : index.bucket[r]!;
    batch.risk[b] = index.risk[r]!;
    batch.failureMode[b] = index.failureMode[r]!;
    batch.server[b] = steps.server;
    batch.time[b] = t;
  }
  return batch;
}

export interface WindowStats {
  points: number;
  windows: number;
  positives: number;
  skipped: Record<SkipReason, number>;
  /** Values present but NaN/Inf, treated as missing. */
  nonFiniteValues: number;
}

export interface BuildWindowsOptions extends WindowSelectionOptions {
  spec?: FeatureSpec;
  /** Incidents; only the series' server's are read. */
  incidents: readonly Incident[];
  /** Explicit window times (on the model grid) instead of every stride over the history. */
  times?: readonly number[];
}

/**
 * One server's windows: its samples (any order, gaps allowed), its incidents, and either explicit
 * times or every `strideMinutes` over its history. Returns the materialised batch (windows in
 * the order of `times`, else in time order) and what was skipped. For a whole fleet use
 * buildDataset, which keeps windows as references until a mini-batch asks for them.
 */
export function buildWindows(
  series: SampleColumns,
  options: BuildWindowsOptions,
): { batch: WindowBatch; stats: WindowStats } {
  const spec = options.spec ?? DEFAULT_FEATURE_SPEC;
  validateFeatureSpec(spec);
  const ms = stepMs(spec);
  const { servers, nonFiniteValues } = aggregateSteps(series, spec);
  if (servers.length > 1)
    throw new Error(`buildWindows takes one server's samples, got ${servers.length} servers; use buildDataset`);
  const stats: WindowStats = { points: 0, windows: 0, positives: 0, skipped: emptySkipCounts(), nonFiniteValues };
  const steps = servers[0];
  if (!steps) return { batch: allocateWindowBatch(spec, 0), stats };
  if (options.times)
    for (const t of options.times)
      if (t % ms !== 0) throw new Error(`window time ${t} is not on the ${spec.stepMinutes}-minute grid`);
  const points = options.times ? [...options.times] : pointsOf(steps, spec, strideMsOf(spec, options.strideMinutes));
  const incidents = incidentsByServer(options.incidents).get(steps.server) ?? [];
  const known = options.knownServers ? new Set(options.knownServers) : null;
  const bucket = bucketOf(spec, steps.server, known);
  const profile = new Int32Array([profileIndex(spec, (options.profileOf ?? inferProfile)(steps.server))]);
  const index = new WindowIndexBuilder();
  const select = selector(spec, options, steps.lastTs);
  for (const t of points) {
    stats.points++;
    const verdict = select(steps, t, incidents);
    if (typeof verdict === 'string') stats.skipped[verdict]++;
    else {
      index.push(0, t, bucket, verdict);
      stats.windows++;
      stats.positives += verdict.risk;
    }
  }
  return { batch: materializeWindows(spec, servers, profile, index.build()), stats };
}

/**
 * The per-point checks shared by buildWindows and buildDataset, in EVALUATION.md's order: inside
 * an incident, then a horizon past the data, then too little context.
 */
export function selector(
  spec: FeatureSpec,
  options: WindowSelectionOptions,
  defaultDataEnd: number,
): (steps: ServerSteps, t: number, incidents: readonly Incident[]) => Label | SkipReason {
  const horizonMs = spec.horizonSteps * stepMs(spec);
  const modes = failureModeIndex(spec);
  const minCoverage = options.minCoverage ?? 0.5;
  const dataEnd = options.dataEnd ?? defaultDataEnd;
  const full = options.requireFullHorizon ?? true;
  return (steps, t, incidents) => {
    const label = labelAt(t, incidents, horizonMs, modes);
    if (label.ongoing) return 'incident_ongoing';
    if (full && t + horizonMs > dataEnd) return 'incomplete_horizon';
    if (contextCoverage(steps, t, spec) < minCoverage) return 'low_coverage';
    return label;
  };
}
