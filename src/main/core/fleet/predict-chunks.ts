import type { Profile } from '@shared/contract';
import type { SampleColumns, ServerPrediction } from '@shared/domain';
import { selectRows, viewColumns } from '../metrics/columns';
import { tftFeeds } from '../model/export/feeds';
import { buildInferenceBatch, type FeatureSpec, type InferenceSkip } from '../model/features';
import type { InferenceSession, OutputTensor } from '../model/infer';
import { decodePredictions } from './decode-predictions';
import { decodeExplanations, type ServerExplanation } from './explain';
import { applyUpstreams, withUpstreamDriver, type UpstreamInput } from './upstream';

/**
 * Servers per inference chunk. Each stage of a chunk (features, inference, decoding) holds its
 * thread about 0.1-0.15 ms per server on a 2-core machine: 128 keep each stall near 20 ms when
 * the cycle runs on the main thread (the fallback), while a batch of 128 still amortises the
 * session call (bench:cycle).
 */
export const CHUNK_SERVERS = 128;

/** The three outputs every servable model has (fleet-predictor checks them before serving). */
export const PREDICTION_OUTPUTS = { quantiles: 'quantiles', risk: 'risk', failureMode: 'failure_mode' } as const;

/** What one chunk of a cycle produced, and how long each of its stages took (ms). */
export interface ChunkResult {
  servers: ServerPrediction[];
  skipped: InferenceSkip[];
  /** Per server, when the model has explanation outputs; empty otherwise. */
  explanations: [string, ServerExplanation][];
  ms: { features: number; infer: number; decode: number };
}

export interface PredictChunksInput {
  /** The cycle's window (every eligible server's rows, in the store's order). */
  columns: SampleColumns;
  /** The servers to predict, in order; the ones without rows come back skipped (no_data). */
  eligible: readonly string[];
  spec: FeatureSpec;
  /** The fleet time the cycle is for (ms). */
  at: number;
  knownServers: ReadonlySet<string>;
  profileOf: (server: string) => Profile;
  minCoverage: number;
  chunkServers: number;
  session: InferenceSession;
  /** The model exports variable selection weights and attention (explain.ts). */
  explains: boolean;
  /**
   * The fleet's topology and the model's cascade coefficient: each server with an upstream is
   * served its risk combined with the upstream's (upstream.ts), and its explanation says so.
   * Absent (no topology, or a model without `training.cascade`): the model's risks alone.
   */
  upstream?: UpstreamInput;
  /**
   * Called between stages. On the main thread (the fallback) it yields to the event loop, so a
   * 1,000-server cycle never holds the loop for more than one stage of one chunk; the
   * prediction worker passes none. Returns false to stop (the predictor is closing).
   */
  between?: () => Promise<boolean>;
}

/**
 * The compute part of a prediction cycle, one chunk of servers at a time: features from the
 * window, one batched inference, decoding of the forecasts, risk and failure modes (and the
 * explanations), then each server's upstream term where the topology is known (upstream.ts: the
 * upstream's risk of this cycle, its chunk decoded first, so the chunk yielded is what is served
 * and stored). The same code runs on the prediction worker (predict-worker-entry.ts) and, as
 * the fallback, on the main thread. Stops early, without a result for the rest, when `between`
 * says so.
 */
export async function* predictChunks(input: PredictChunksInput): AsyncGenerator<ChunkResult> {
  const { columns, eligible, spec, at, knownServers, profileOf, minCoverage, chunkServers, session, explains } = input;
  const rows = rowRanges(columns);
  const upstream = input.upstream;
  // This cycle's served risks so far, and each server's place in the cycle (an upstream in a later chunk is not predicted yet).
  const served = new Map<string, number>();
  const position = upstream ? new Map(eligible.map((name, i) => [name, i])) : null;
  const between = input.between ?? (() => Promise.resolve(true));
  let mark = performance.now();
  const lap = (): number => {
    const now = performance.now();
    const ms = now - mark;
    mark = now;
    return ms;
  };
  for (let from = 0; from < eligible.length; from += chunkServers) {
    const chunk = eligible.slice(from, from + chunkServers);
    const chunkColumns = chunkOf(columns, rows, chunk);
    lap();
    const built = buildInferenceBatch(chunkColumns, spec, at, { knownServers, servers: chunk, profileOf, minCoverage });
    const { batch } = built;
    const features = lap();
    if (batch.size === 0) {
      yield { servers: [], skipped: built.skipped, explanations: [], ms: { features, infer: 0, decode: 0 } };
      continue;
    }
    if (!(await between())) return;
    lap();
    const outputs = await session.run(tftFeeds(batch), batch.size);
    const infer = lap();
    if (!(await between())) return;
    lap();
    const decoded = decodePredictions(
      {
        spec,
        servers: batch.server,
        profiles: batch.server.map(profileOf),
        coverage: built.coverage,
        knownServers,
      },
      {
        quantiles: floats(outputs, PREDICTION_OUTPUTS.quantiles),
        risk: floats(outputs, PREDICTION_OUTPUTS.risk),
        failureMode: floats(outputs, PREDICTION_OUTPUTS.failureMode),
      },
    );
    const next = from + chunkServers;
    const servers = upstream
      ? applyUpstreams(decoded, upstream, served, (name) => (position?.get(name) ?? -1) >= next)
      : decoded;
    const explained = explains
      ? (decodeExplanations({ spec, servers: batch.server, time: built.time, columns: chunkColumns }, outputs) ?? [])
      : [];
    const byServer = upstream ? new Map(servers.map((p) => [p.server, p])) : null;
    const explanations = [...explained].map(([server, e]): [string, ServerExplanation] => {
      const p = byServer?.get(server);
      return [server, p ? withUpstreamDriver(e, p) : e];
    });
    const decode = lap();
    yield { servers, skipped: built.skipped, explanations, ms: { features, infer, decode } };
    if (!(await between())) return;
  }
}

function floats(outputs: Record<string, OutputTensor>, name: string): Float32Array {
  const data = outputs[name]?.data;
  if (!(data instanceof Float32Array)) throw new Error(`output "${name}" is not float32`);
  return data;
}

/** A server's rows in a window read: one run [start, end) (the store's order), or their indices when split. */
type ServerRows = { start: number; end: number } | { indices: number[] };

function rowRanges(columns: SampleColumns): Map<string, ServerRows> {
  const out = new Map<string, ServerRows>();
  let i = 0;
  while (i < columns.length) {
    const name = columns.server[i]!;
    let j = i + 1;
    while (j < columns.length && columns.server[j] === name) j++;
    const seen = out.get(name);
    if (seen === undefined) out.set(name, { start: i, end: j });
    else out.set(name, { indices: [...indicesOf(seen), ...indicesOf({ start: i, end: j })] });
    i = j;
  }
  return out;
}

function indicesOf(rows: ServerRows): number[] {
  return 'indices' in rows ? rows.indices : Array.from({ length: rows.end - rows.start }, (_, k) => rows.start + k);
}

/**
 * The chunk's rows. When they are one contiguous run of the window (the usual case: servers in
 * name order, none left out in between), a view that shares the window's typed arrays: copying
 * the metric columns of every chunk allocated ~30 MB of buffers per 1,000-server cycle, and the
 * collections that followed stalled the event loop. Otherwise a copy of the rows.
 */
function chunkOf(columns: SampleColumns, rows: ReadonlyMap<string, ServerRows>, chunk: readonly string[]): SampleColumns {
  const runs = chunk.map((name) => rows.get(name)).filter((r): r is ServerRows => r !== undefined);
  if (runs.length === 0) return viewColumns(columns, 0, 0);
  const contiguous = runs.every((r, k) => 'start' in r && (k === 0 || r.start === (runs[k - 1] as { end: number }).end));
  if (contiguous) return viewColumns(columns, (runs[0] as { start: number }).start, (runs.at(-1) as { end: number }).end);
  return selectRows(columns, runs.flatMap(indicesOf));
}
