/**
 * Replay: score every model step of a history as if it had been seen live (EVALUATION.md,
 * "Replay on real history"). For each server and each 30-minute grid point t with a full
 * context (contextSteps x stepMinutes after its first sample) and >= 50 % of the context's
 * sample slots reported (the training rule), the model's inputs are built from the steps
 * ending <= t only (buildDataset with the model's featureSpec, normalization included, never
 * refitted) and the model is run in batches.
 *
 * Each row also carries, for one chosen metric when it is a model target, the P10/P50/P90 of
 * the first horizon step (t, t + step] in metric units (decodePredictions), the actual mean of
 * that step when it has a sample, and the anomaly score: how far the actual falls outside
 * [P10, P90], in band widths (0 inside). The actual and the anomaly score of the row at t are
 * therefore known at t + step, not at t; everything else in the row is known at t.
 */
import { inferProfile, METRIC_BY_NAME, type MetricName, type Profile } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { tftFeeds } from '../model/export/feeds';
import { decodePredictions } from '../fleet/decode-predictions';
import { buildDataset, makeScaler, unscaleWith, type FeatureSpec } from '../model/features';
import { contextCoverage } from '../model/features/windows';
import type { InferenceSession } from '../model/infer';

/** Context coverage the training windows needed; replay uses the same rule. */
export const REPLAY_MIN_COVERAGE = 0.5;
export const REPLAY_BATCH_SIZE = 512;
/** A band narrower than this share of the metric's scaling scale counts as this wide (no division by ~0). */
export const MIN_BAND_SHARE = 0.01;

export interface ReplayRow {
  /** t, epoch ms: the end of the context. */
  time: number;
  server: string;
  risk: number;
  failureMode: string;
  /** Bands of the first horizon step for the replayed metric; null when it is not a model target. */
  p10: number | null;
  p50: number | null;
  p90: number | null;
  /** Mean of the metric over (t, t + step], null when unknown (no sample, or past the data). */
  actual: number | null;
  /** 0 inside [p10, p90], else the distance to the band in band widths; null when actual or the band is missing. */
  anomalyScore: number | null;
}

export interface ReplayOptions {
  columns: SampleColumns;
  spec: FeatureSpec;
  session: InferenceSession;
  /** Servers the model was trained on (others get bucket 0). */
  knownServers: ReadonlySet<string>;
  /** The metric whose bands, actual and anomaly score the rows carry (null: none). */
  metric: MetricName | null;
  /** Server -> profile where the file records one; else inferred from the name. */
  profiles?: ReadonlyMap<string, Profile>;
  batchSize?: number;
  signal?: AbortSignal;
  /** Called with each batch's rows, in order (server by server, time ascending); awaited. */
  onRows: (rows: ReplayRow[]) => void | Promise<void>;
  onProgress?: (done: number, total: number) => void;
}

export interface ReplaySummary {
  windows: number;
  servers: number;
  /** Grid points skipped for low context coverage. */
  skippedLowCoverage: number;
  /** Whether the replayed metric is a model target (bands present). */
  bands: boolean;
}

/** How far x lies outside [lo, hi], in band widths (width floored at `minWidth`). */
export function anomalyScore(x: number, lo: number, hi: number, minWidth: number): number {
  const width = Math.max(hi - lo, minWidth);
  if (x > hi) return (x - hi) / width;
  if (x < lo) return (lo - x) / width;
  return 0;
}

function floats(outputs: Record<string, { data: unknown }>, name: string): ArrayLike<number> {
  const out = outputs[name];
  if (!out) throw new Error(`the model has no output "${name}"`);
  return out.data as ArrayLike<number>;
}

export async function replayHistory(options: ReplayOptions): Promise<ReplaySummary> {
  const { spec, session, signal } = options;
  const profileOf = (name: string): Profile => options.profiles?.get(name) ?? inferProfile(name);
  signal?.throwIfAborted();
  const ds = buildDataset(options.columns, [], {
    spec,
    validationShare: 0,
    heldOutCount: 0,
    requireFullHorizon: false,
    knownServers: [...options.knownServers],
    minCoverage: REPLAY_MIN_COVERAGE,
    profileOf,
  });
  const n = ds.train.size;
  const metric = options.metric;
  const target = metric === null ? -1 : spec.targets.indexOf(metric);
  const bands = target >= 0;
  const scaler = bands ? makeScaler(metric!, spec.scaling[metric!]) : null;
  const minWidth = bands ? MIN_BAND_SHARE * spec.scaling[metric!].scale : 0;
  const range = metric === null ? null : METRIC_BY_NAME[metric];
  const G = spec.targets.length;
  const H = spec.horizonSteps;
  const size = options.batchSize ?? REPLAY_BATCH_SIZE;
  options.onProgress?.(0, n);
  for (let from = 0; from < n; from += size) {
    signal?.throwIfAborted();
    const rows = Int32Array.from({ length: Math.min(size, n - from) }, (_, k) => from + k);
    const batch = ds.materialize('train', rows);
    const outputs = await session.run(tftFeeds(batch), batch.size);
    signal?.throwIfAborted();
    const predictions = decodePredictions(
      {
        spec,
        servers: batch.server,
        profiles: batch.server.map(profileOf),
        coverage: Array.from(rows, (r) => contextCoverage(ds.servers[ds.train.slot[r]!]!, ds.train.time[r]!, spec)),
        knownServers: options.knownServers,
      },
      {
        quantiles: floats(outputs, 'quantiles'),
        risk: floats(outputs, 'risk'),
        failureMode: floats(outputs, 'failure_mode'),
      },
    );
    const out: ReplayRow[] = predictions.map((p, b) => {
      const row: ReplayRow = {
        time: batch.time[b]!,
        server: p.server,
        risk: p.risk,
        failureMode: p.failureMode,
        p10: null,
        p50: null,
        p90: null,
        actual: null,
        anomalyScore: null,
      };
      if (bands) {
        const band = p.forecast[target]!;
        row.p10 = band.p10[0]!;
        row.p50 = band.p50[0]!;
        row.p90 = band.p90[0]!;
        // First horizon step's target: the step mean, scaled; mask 0 = no sample (or past the data).
        const k = b * H * G + target;
        if (batch.targetMask[k]! > 0) {
          const v = unscaleWith(scaler!, batch.targets[k]!);
          row.actual = Number(Math.min(range!.max, Math.max(range!.min, v)).toPrecision(6));
          row.anomalyScore = Number(anomalyScore(row.actual, row.p10, row.p90, minWidth).toPrecision(5));
        }
      }
      return row;
    });
    await options.onRows(out);
    options.onProgress?.(from + batch.size, n);
  }
  return { windows: n, servers: ds.servers.length, skippedLowCoverage: ds.stats.skipped.low_coverage, bands };
}

export const REPLAY_CSV_HEADER = 'timestamp,server,risk,failure_mode,p10,p50,p90,actual,anomaly_score';

const cell = (x: number | null): string => (x === null ? '' : String(x));
const quote = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** CSV lines (with a trailing newline each) for rows. */
export function formatReplayRows(rows: readonly ReplayRow[]): string {
  let text = '';
  for (const r of rows)
    text += `${new Date(r.time).toISOString()},${quote(r.server)},${r.risk},${r.failureMode},${cell(r.p10)},${cell(r.p50)},${cell(r.p90)},${cell(r.actual)},${cell(r.anomalyScore)}\n`;
  return text;
}
