/**
 * One fleet's evaluation points (EVALUATION.md: every 30 min after each server's first 24 h,
 * positive when an incident begins in (t, t + 8 h], points inside an incident skipped), the
 * model's risk and quantile forecasts at each, and the data the baselines read. Everything a
 * score at t uses comes from data <= t: the model's window ends at t, the baselines read samples
 * with timestamp <= t (see baselines.ts), the seasonal-naive forecast reads the step 24 h before.
 */
import { STEP_MS } from '@shared/contract';
import type { Incident, SampleColumns } from '@shared/domain';
import {
  buildDataset,
  makeScaler,
  stepMs,
  unscaleTargets,
  unscaleWith,
  type FeatureSpec,
  type Scaler,
} from '../model/features';
import { tftFeeds } from '../model/export/feeds';
import type { InferenceSession } from '../model/infer';
import type { ScoredPoints } from './alerts';
import { ForecastAccumulator } from './forecast-metrics';

export interface ForecastExample {
  server: string;
  incidentType: string | null;
  metric: string;
  /** t, epoch ms (the end of the context). */
  time: number;
  stepMinutes: number;
  /** Step means of the metric over the context, oldest first (null = missing). */
  context: (number | null)[];
  /** What happened over the horizon (step means; null = missing). */
  actual: (number | null)[];
  p10: number[];
  p50: number[];
  p90: number[];
}

export interface FleetScores {
  points: ScoredPoints;
  /** (N) 1 when an incident begins in (t, t + horizon]. */
  labels: Uint8Array;
  /** (N) the model's risk. */
  risk: Float64Array;
  /** Profile name of each server (by slot). */
  profiles: string[];
  /** Per target metric, the forecast losses (metric units). */
  forecast: Record<string, ReturnType<ForecastAccumulator['result']>>;
  examples: ForecastExample[];
  /** Points per server: first and last t. */
  range: Map<string, { first: number; last: number }>;
}

export interface ScoreFleetOptions {
  columns: SampleColumns;
  incidents: readonly Incident[];
  spec: FeatureSpec;
  session: InferenceSession;
  knownServers: ReadonlySet<string>;
  batchSize?: number;
  /** Incidents whose windows become forecast examples (the point 2 h before onset). */
  exampleIncidents?: readonly Incident[];
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export async function scoreFleet(options: ScoreFleetOptions): Promise<FleetScores> {
  const { spec, columns, incidents, session } = options;
  const selection = { validationShare: 0, heldOutCount: 0, knownServers: options.knownServers };
  const ds = buildDataset(columns, [...incidents], { ...selection, spec });
  // The same windows on the contract scale (scaled, not standardised): targets and the naive forecast.
  const { normalization: _normalization, ...unnormalized } = spec;
  const raw = buildDataset(columns, [...incidents], { ...selection, spec: unnormalized, fitNormalization: false });
  const n = ds.train.size;
  if (raw.train.size !== n) throw new Error('the unnormalised windows differ from the model windows');

  // Points ordered by server, then time.
  const order = Int32Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => ds.train.slot[a]! - ds.train.slot[b]! || ds.train.time[a]! - ds.train.time[b]!,
  );
  const servers = ds.servers.map((s) => s.server);
  const slot = Int32Array.from(order, (r) => ds.train.slot[r]!);
  const time = Float64Array.from(order, (r) => ds.train.time[r]!);
  const labels = Uint8Array.from(order, (r) => ds.train.risk[r]!);
  const profiles = Array.from(ds.profiles, (p) => spec.profiles[p]!);
  const range = new Map<string, { first: number; last: number }>();
  for (let i = 0; i < n; i++) {
    const s = servers[slot[i]!]!;
    const r = range.get(s);
    if (r) r.last = time[i]!;
    else range.set(s, { first: time[i]!, last: time[i]! });
  }

  const T = spec.targets.length;
  const Q = spec.quantiles.length;
  const H = spec.horizonSteps;
  const step = stepMs(spec);
  const stepsPerDay = Math.round(86_400_000 / step);
  const medianIndex = spec.quantiles.reduce(
    (best, q, k) => (Math.abs(q - 0.5) < Math.abs(spec.quantiles[best]! - 0.5) ? k : best),
    0,
  );
  const acc = spec.targets.map(() => new ForecastAccumulator(spec.quantiles));

  const wanted = new Map<string, Incident>();
  for (const x of options.exampleIncidents ?? []) {
    const target = Math.floor((x.onset - 2 * 3_600_000) / step) * step;
    wanted.set(`${x.server}@${target}`, x);
  }
  const examples: ForecastExample[] = [];

  const risk = new Float64Array(n);
  const B = options.batchSize ?? 512;
  for (let from = 0; from < n; from += B) {
    if (options.signal?.aborted)
      throw options.signal.reason instanceof Error
        ? options.signal.reason
        : new Error(String(options.signal.reason ?? 'aborted'));
    const rows = order.subarray(from, Math.min(n, from + B));
    const batch = ds.materialize('train', rows);
    const base = raw.materialize('train', rows);
    const out = await session.run(
      tftFeeds(batch),
      batch.size,
    );
    const r = out.risk!.data as Float32Array;
    for (let b = 0; b < batch.size; b++) risk[from + b] = r[b]!;
    const q = unscaleTargets(spec, out.quantiles!.data as Float32Array, Q);
    const y = unscaleTargets(spec, base.targets, 1);
    for (let b = 0; b < batch.size; b++) {
      const steps = raw.servers[slot[from + b]!]!;
      const t = time[from + b]!;
      for (let h = 0; h < H; h++) {
        // The same step one day earlier: its end is t + (h + 1) step - 1 day <= t.
        const naiveStep = Math.round((t + (h + 1) * step - stepsPerDay * step - steps.firstStepEnd) / step);
        for (let k = 0; k < T; k++) {
          const o = (b * H + h) * T + k;
          if (!(base.targetMask[o]! > 0)) continue;
          let naive = NaN;
          if (naiveStep >= 0 && naiveStep < steps.steps && steps.targetMask[naiveStep * T + k]! > 0)
            naive = unscaleOne(spec, k, steps.targets[naiveStep * T + k]!);
          acc[k]!.add(y[o]!, q.subarray(o * Q, o * Q + Q), medianIndex, naive);
        }
      }
      const hit = wanted.get(`${servers[slot[from + b]!]}@${t}`);
      if (hit)
        examples.push(
          example(
            spec,
            hit,
            steps,
            t,
            q.subarray(b * H * T * Q, (b + 1) * H * T * Q),
            y.subarray(b * H * T, (b + 1) * H * T),
            base.targetMask.subarray(b * H * T, (b + 1) * H * T),
          ),
        );
    }
    options.onProgress?.(Math.min(n, from + B), n);
  }

  const forecast = Object.fromEntries(spec.targets.map((m, k) => [m, acc[k]!.result()]));
  return { points: { slot, time, servers }, labels, risk, profiles, forecast, examples, range };
}

const scalerCache = new WeakMap<FeatureSpec, Scaler[]>();

/** Target k's scaled value back in metric units. */
function unscaleOne(spec: FeatureSpec, k: number, value: number): number {
  let scalers = scalerCache.get(spec);
  if (!scalers) {
    scalers = spec.targets.map((m) => makeScaler(m, spec.scaling[m]));
    scalerCache.set(spec, scalers);
  }
  return unscaleWith(scalers[k]!, value);
}

function example(
  spec: FeatureSpec,
  incident: Incident,
  steps: { firstStepEnd: number; steps: number; targets: Float32Array; targetMask: Float32Array },
  t: number,
  q: Float64Array,
  y: Float64Array,
  mask: Float32Array,
): ForecastExample {
  const T = spec.targets.length;
  const Q = spec.quantiles.length;
  const k = Math.max(0, spec.targets.indexOf(incident.metric));
  const step = stepMs(spec);
  const context: (number | null)[] = [];
  for (let j = spec.contextSteps - 1; j >= 0; j--) {
    const s = Math.round((t - j * step - steps.firstStepEnd) / step);
    context.push(
      s >= 0 && s < steps.steps && steps.targetMask[s * T + k]! > 0
        ? unscaleOne(spec, k, steps.targets[s * T + k]!)
        : null,
    );
  }
  const pick = (qi: number): number[] => Array.from({ length: spec.horizonSteps }, (_, h) => q[(h * T + k) * Q + qi]!);
  const qIndex = (target: number): number =>
    spec.quantiles.reduce(
      (best, x, i) => (Math.abs(x - target) < Math.abs(spec.quantiles[best]! - target) ? i : best),
      0,
    );
  return {
    server: incident.server,
    incidentType: incident.type,
    metric: spec.targets[k]!,
    time: t,
    stepMinutes: spec.stepMinutes,
    context,
    actual: Array.from({ length: spec.horizonSteps }, (_, h) => (mask[h * T + k]! > 0 ? y[h * T + k]! : null)),
    p10: pick(qIndex(0.1)),
    p50: pick(qIndex(0.5)),
    p90: pick(qIndex(0.9)),
  };
}

/** Sample step (5 min), for callers that convert a horizon to samples. */
export const SAMPLE_MS = STEP_MS;
