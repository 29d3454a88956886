import { inferProfile, STEP_MS, type Profile } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { CalendarTable } from './calendar';
import { allocateWindowBatch, stepMs, validateFeatureSpec, type FeatureSpec, type WindowBatch } from './feature-spec';
import { aggregateSteps } from './step-series';
import { bucketOf, contextCoverage, materializeWindows, profileIndex, WindowIndexBuilder } from './windows';

/** The window time for a prediction made at `now`: the end of the last complete model step. */
export function inferenceTime(now: number, spec: Pick<FeatureSpec, 'stepMinutes'>): number {
  const ms = stepMs(spec);
  return Math.floor(now / ms) * ms;
}

/**
 * How many 5-minute grid points the context spans (288 by default): what to ask
 * `store.latestWindow(contextSamples(spec), inferenceTime(now, spec))` for.
 */
export function contextSamples(spec: Pick<FeatureSpec, 'stepMinutes' | 'contextSteps'>): number {
  return (spec.contextSteps * stepMs(spec)) / STEP_MS;
}

export interface InferenceOptions {
  /** Profile of each server; default inferred from the name. */
  profileOf?: (server: string) => Profile;
  /**
   * Servers the model was trained on (model.json): any other gets bucket 0 and is predicted
   * through its profile. Default: every server gets its hash bucket, which for a server the
   * model never saw is some other server's (or an untrained) embedding: pass this.
   */
  knownServers?: Iterable<string>;
  /** Servers expected in the fleet (e.g. store.listServers()); one absent from `columns` is reported as no_data. */
  servers?: Iterable<string>;
  /** Windows with a smaller share of reported context slots are left out and reported (default 0: any data). */
  minCoverage?: number;
}

export interface InferenceSkip {
  server: string;
  reason: 'no_data' | 'low_coverage';
  coverage: number;
}

export interface InferenceBatch {
  /** One window per server with data, in server-name order; targets, risk, failureMode are zero. */
  batch: WindowBatch;
  /** (B): share of the context's sample slots the server reported (training kept >= 0.5 by default). */
  coverage: Float32Array;
  /** t: the end of every window's context (epoch ms). */
  time: number;
  /** Servers with no window, and why: never silently fed zeros. */
  skipped: InferenceSkip[];
}

/**
 * The inference batch for every server at `now`: each window's context is the contextSteps model
 * steps ending at inferenceTime(now) (data with ts <= t only; later rows in `columns` are
 * ignored), built by the same aggregation as training. `columns` is store.latestWindow-shaped
 * (sorted by server then ts, though any order works); dense all-missing rows are fine.
 */
export function buildInferenceBatch(
  columns: SampleColumns,
  spec: FeatureSpec,
  now: number,
  options: InferenceOptions = {},
): InferenceBatch {
  validateFeatureSpec(spec);
  const t = inferenceTime(now, spec);
  const contextMs = spec.contextSteps * stepMs(spec);
  const { servers } = aggregateSteps(columns, spec, { from: t - contextMs, to: t });
  const known = options.knownServers ? new Set(options.knownServers) : null;
  const profileOf = options.profileOf ?? inferProfile;
  const minCoverage = options.minCoverage ?? 0;
  const skipped: InferenceSkip[] = [];
  const index = new WindowIndexBuilder();
  const coverage: number[] = [];
  const seen = new Set<string>();
  servers.forEach((steps, slot) => {
    seen.add(steps.server);
    const c = contextCoverage(steps, t, spec);
    if (c === 0) skipped.push({ server: steps.server, reason: 'no_data', coverage: 0 });
    else if (c < minCoverage) skipped.push({ server: steps.server, reason: 'low_coverage', coverage: c });
    else {
      index.push(slot, t, bucketOf(spec, steps.server, known), { ongoing: false, risk: 0, failureMode: 0 });
      coverage.push(c);
    }
  });
  for (const server of options.servers ?? []) {
    if (!seen.has(server)) {
      seen.add(server);
      skipped.push({ server, reason: 'no_data', coverage: 0 });
    }
  }
  skipped.sort((a, b) => (a.server < b.server ? -1 : a.server > b.server ? 1 : 0));
  const profiles = Int32Array.from(servers, (s) => profileIndex(spec, profileOf(s.server)));
  const built = index.build();
  const batch =
    built.size > 0
      ? materializeWindows(spec, servers, profiles, built, undefined, new CalendarTable(spec))
      : allocateWindowBatch(spec, 0);
  return { batch, coverage: Float32Array.from(coverage), time: t, skipped };
}
