import type { Profile } from '@shared/contract';
import type { FeatureSpec } from '../model/features';
import type { ProviderReport, ProviderSetting, TensorSpec } from '../model/infer';
import type { StoreOptions } from '../store';
import type { ChunkResult } from './predict-chunks';

/**
 * The messages between the fleet predictor (main thread) and its prediction worker
 * (predict-worker-entry.ts). Plain data only: it is all structured-cloned, and the model's
 * bytes are transferred.
 */

/** `workerData`: the store the worker opens its own connection to. */
export interface PredictWorkerInit {
  storePath: string;
  storeOptions: StoreOptions;
}

/** A model to open a session for on the worker (the main thread has loaded and checked its folder). */
export interface WorkerModelSpec {
  modelBytes: Uint8Array;
  expectedInputs: readonly TensorSpec[];
  expectedOutputs: readonly TensorSpec[];
  provider: ProviderSetting;
  intraOpThreads?: number;
  spec: FeatureSpec;
  knownServers: string[];
  explains: boolean;
}

export interface CycleRequest {
  /** The model (a `load` request's id) to predict with. */
  modelId: number;
  /** Context steps to read, and the window's end (ms). */
  steps: number;
  endMs: number;
  /** The fleet time the cycle is for (ms). */
  at: number;
  /** Servers to predict, in order, with their profiles. */
  eligible: [server: string, profile: Profile][];
  minCoverage: number;
  chunkServers: number;
  /**
   * Write each chunk's risk and failure mode to the store's predictions table from the worker
   * (its own connection): `model` is "name@version", `stepMinutes` the model's step. Null: do not.
   */
  log: { model: string; time: number; stepMinutes: number } | null;
  /**
   * The upstream terms (PredictChunksInput.upstream) as plain arrays: server -> upstream, the
   * previous cycle's served risks, the model's cascade coefficient. Null: the model's risks alone.
   */
  upstream: {
    dependencyOf: [server: string, upstream: string][];
    previous: [server: string, risk: number][];
    coefficient: number;
  } | null;
}

export type PredictWorkerRequest =
  | { id: number; type: 'load'; model: WorkerModelSpec }
  | { id: number; type: 'unload'; modelId: number }
  | ({ id: number; type: 'cycle' } & CycleRequest)
  /**
   * The main thread has taken in a chunk of cycle `id`: the worker posts the next one only then,
   * so each chunk is its own turn of the main thread's event loop (a port delivers every queued
   * message in one go, deserialising them back to back).
   */
  | { id: number; type: 'ack' }
  | { id: number; type: 'close' };

export interface PredictWireError {
  name: string;
  message: string;
  code?: string;
}

export type PredictWorkerResponse =
  | { type: 'ready' }
  | { type: 'failed'; error: PredictWireError }
  /** A log record of the worker's (session creation, provider attempts), for the main thread's logger. */
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> }
  | { id: number; type: 'loaded'; report: ProviderReport }
  /**
   * One chunk of a cycle; a cycle sends one per chunk (each after the previous one's `ack`), then
   * `done`. `storeMs`: writing it to the predictions table; `storeError`: why that failed.
   */
  | { id: number; type: 'chunk'; chunk: ChunkResult; storeMs: number; storeError?: string }
  | { id: number; type: 'done'; readMs: number }
  | { id: number; type: 'result' }
  | { id: number; type: 'error'; error: PredictWireError };

export function toPredictWireError(error: unknown): PredictWireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as Error & { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}
