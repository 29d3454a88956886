import { METRIC_NAMES, type MetricName, type ServerState } from '@shared/contract';
import type { MetricColumn, SampleColumns } from '@shared/domain';
import type { IngestOptions, IngestProgress, IngestReport } from './ingest';
import type { CheckpointResult, RetentionReport, StoreOptions } from './metrics-store';

/**
 * SampleColumns as they cross to the store worker: numbers stay in typed arrays (transferred,
 * not copied), and the two string columns are dictionary-encoded so a million rows clone as a
 * few hundred names plus one Uint32Array each.
 */
export interface WireColumns {
  length: number;
  serverNames: unknown[];
  serverIndex: Uint32Array;
  timestamp: Float64Array;
  stateNames: unknown[];
  stateIndex: Uint32Array;
  metrics: Record<MetricName, MetricColumn>;
}

/** What the worker is started with (`workerData`): plain data, so it survives structured cloning. */
export interface StoreWorkerInit {
  path: string;
  options: StoreOptions;
}

export type WorkerRequest =
  | { id: number; type: 'ingest'; batch: WireColumns; opts: IngestOptions }
  | { id: number; type: 'latestWindow'; steps: number; endMs?: number; dense?: boolean }
  | { id: number; type: 'querySamples'; server: string; fromMs: number; toMs: number }
  | { id: number; type: 'retention'; olderThanMs: number; chunkRows?: number }
  | { id: number; type: 'checkpoint'; mode: 'PASSIVE' | 'FULL' | 'RESTART' | 'TRUNCATE' }
  | { id: number; type: 'close' };

/** An error as data: class identity does not survive postMessage, so the fields that matter are carried. */
export interface WireError {
  name: string;
  message: string;
  /** StoreError.code */
  code?: string;
  file?: string;
  /** IngestError: the committed part and the failed chunk. */
  report?: IngestReport;
  failedChunk?: { start: number; end: number };
}

export type WorkerResponse =
  | { type: 'ready' }
  | { type: 'failed'; error: WireError }
  | { id: number; type: 'progress'; progress: IngestProgress }
  | { id: number; type: 'result'; value: IngestReport | RetentionReport | CheckpointResult | null }
  | { id: number; type: 'columns'; value: WireColumns }
  | { id: number; type: 'error'; error: WireError };

function dictionary(values: readonly unknown[], length: number): { names: unknown[]; index: Uint32Array } {
  const names: unknown[] = [];
  const seen = new Map<unknown, number>();
  const index = new Uint32Array(length);
  for (let i = 0; i < length; i++) {
    const v = values[i];
    let k = seen.get(v);
    if (k === undefined) {
      k = names.length;
      names.push(v);
      seen.set(v, k);
    }
    index[i] = k;
  }
  return { names, index };
}

/**
 * Encodes a batch for postMessage and lists the buffers to transfer. With `transfer`, a column
 * that owns its whole ArrayBuffer is moved (the caller's batch is detached afterwards); a view
 * into a larger buffer (an Arrow body, say) is copied, so no unrelated memory is taken away.
 */
export function toWire(batch: SampleColumns, transfer: boolean): { wire: WireColumns; transferList: ArrayBuffer[] } {
  const n = batch.length;
  const transferList = new Set<ArrayBuffer>();
  const take = <T extends Float64Array | Uint8Array>(a: T): T => {
    const whole = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.length === n;
    if (transfer && whole && a.buffer instanceof ArrayBuffer && !transferList.has(a.buffer)) {
      transferList.add(a.buffer);
      return a;
    }
    return a.slice(0, n) as T;
  };
  const servers = dictionary(batch.server, n);
  const states = dictionary(batch.state, n);
  const metrics = {} as Record<MetricName, MetricColumn>;
  for (const name of METRIC_NAMES) {
    const column = batch.metrics[name];
    metrics[name] = { values: take(column.values), present: take(column.present) };
  }
  const wire: WireColumns = {
    length: n,
    serverNames: servers.names,
    serverIndex: servers.index,
    timestamp: take(batch.timestamp),
    stateNames: states.names,
    stateIndex: states.index,
    metrics,
  };
  transferList.add(servers.index.buffer as ArrayBuffer);
  transferList.add(states.index.buffer as ArrayBuffer);
  return { wire, transferList: [...transferList] };
}

export function fromWire(wire: WireColumns): SampleColumns {
  const n = wire.length;
  const server = new Array<string>(n);
  const state = new Array<ServerState | null>(n);
  for (let i = 0; i < n; i++) {
    // Unchecked on purpose: ingest validates every row and rejects bad names/states with their row index.
    server[i] = wire.serverNames[wire.serverIndex[i]!] as string;
    state[i] = wire.stateNames[wire.stateIndex[i]!] as ServerState | null;
  }
  return { length: n, server, timestamp: wire.timestamp, state, metrics: wire.metrics };
}

export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const out: WireError = { name: error.name, message: error.message };
  const fields = error as Error & Partial<Pick<WireError, 'code' | 'file' | 'report' | 'failedChunk'>>;
  if (typeof fields.code === 'string') out.code = fields.code;
  if (typeof fields.file === 'string') out.file = fields.file;
  if (fields.report) out.report = fields.report;
  if (fields.failedChunk) out.failedChunk = fields.failedChunk;
  return out;
}
