import type { Worker } from 'node:worker_threads';
import type { SampleColumns } from '@shared/domain';
import { closeWithin, waitUntilReady } from '../util/worker-lifecycle';
import { IngestError, type IngestOptions, type IngestProgress, type IngestReport } from './ingest';
import {
  StoreError,
  type CheckpointResult,
  type RetentionReport,
  type StoreErrorCode,
  type StoreOptions,
} from './metrics-store';
import {
  fromWire,
  toWire,
  type StoreWorkerInit,
  type WireError,
  type WorkerRequest,
  type WorkerResponse,
} from './worker-protocol';

/**
 * Starts the worker thread running `store-worker-entry`. The app passes electron-vite's
 * `?nodeWorker` import (store-worker-bundled.ts); tests pass `new Worker(bundledFile, { workerData })`.
 * The init object must become the worker's `workerData`.
 */
export type StoreWorkerFactory = (init: StoreWorkerInit) => Worker;

export interface WorkerIngestOptions extends IngestOptions {
  /** Called in the main thread after each committed chunk. */
  onProgress?: (progress: IngestProgress) => void;
  /**
   * Move the batch's typed arrays to the worker instead of copying them (default true): the
   * batch's columns are detached (length 0) once `ingest` is called. Pass false to keep it usable.
   */
  transfer?: boolean;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (progress: IngestProgress) => void;
}

/** Off the main thread, bulk work can take bigger transactions and rarer checkpoints: fewer fsyncs per row. */
export const WORKER_DEFAULT_CHUNK_ROWS = 50_000;
export const WORKER_DEFAULT_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * Bulk store work on a worker thread with its own connection (WAL lets the main thread's
 * connection keep reading meanwhile). Calls are queued and run in order. Every promise settles:
 * if the thread dies, pending calls reject with the reason.
 */
export class StoreWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | null = null;
  /** Resolves with the thread's exit code once it has ended (0 after a clean close). */
  readonly exited: Promise<number>;

  private constructor(
    private readonly worker: Worker,
    readonly file: string,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.on('message', (message: WorkerResponse) => this.onMessage(message));
    worker.on('error', (error) =>
      this.fail(new Error(`${file}: store worker crashed: ${error.message}`, { cause: error })),
    );
    worker.on('exit', (code) => this.fail(new Error(`${file}: store worker exited (code ${code})`)));
  }

  /** Resolves once the worker has opened (and migrated) the store; rejects with the open error. */
  static start(factory: StoreWorkerFactory, path: string, options: StoreOptions = {}): Promise<StoreWorker> {
    const init: StoreWorkerInit = {
      path,
      options: { ...options, chunkRows: options.chunkRows ?? WORKER_DEFAULT_CHUNK_ROWS },
    };
    const worker = factory(init);
    return waitUntilReady(worker, `${path}: store worker`, (error) => fromWireError(error as WireError)).then(
      () => new StoreWorker(worker, path),
    );
  }

  /** Ingests on the worker; resolves when every accepted row is durable (same report as MetricsStore.ingest). */
  ingest(batch: SampleColumns, opts: WorkerIngestOptions): Promise<IngestReport> {
    const { wire, transferList } = toWire(batch, opts.transfer ?? true);
    const ingestOpts: IngestOptions = { now: opts.now };
    if (opts.profiles) ingestOpts.profiles = opts.profiles;
    return this.call<IngestReport>(
      { id: 0, type: 'ingest', batch: wire, opts: ingestOpts },
      transferList,
      opts.onProgress,
    );
  }

  /**
   * MetricsStore.latestWindow on the worker's connection (it keeps its own incremental window
   * cache); the columns come back transferred, so the main thread only pays for the message.
   */
  latestWindow(steps: number, endMs?: number, options: { dense?: boolean } = {}): Promise<SampleColumns> {
    return this.call<SampleColumns>({ id: 0, type: 'latestWindow', steps, endMs, dense: options.dense });
  }

  querySamples(server: string, fromMs: number, toMs: number): Promise<SampleColumns> {
    return this.call<SampleColumns>({ id: 0, type: 'querySamples', server, fromMs, toMs });
  }

  applyRetention(olderThanMs: number, options: { chunkRows?: number } = {}): Promise<RetentionReport> {
    return this.call<RetentionReport>({ id: 0, type: 'retention', olderThanMs, chunkRows: options.chunkRows });
  }

  checkpoint(mode: 'PASSIVE' | 'FULL' | 'RESTART' | 'TRUNCATE' = 'TRUNCATE'): Promise<CheckpointResult> {
    return this.call<CheckpointResult>({ id: 0, type: 'checkpoint', mode });
  }

  /** Finishes queued work, closes the connection and waits for the thread to end (terminates it after `timeoutMs`). */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.dead) {
      await this.exited;
      return;
    }
    await closeWithin(this.worker, this.exited, this.call<null>({ id: 0, type: 'close' }), timeoutMs);
  }

  /** Stops the thread now, abandoning queued work (its pending calls reject); committed chunks stay committed. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }

  private call<T>(
    request: WorkerRequest,
    transferList: ArrayBuffer[] = [],
    onProgress?: (p: IngestProgress) => void,
  ): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, onProgress });
      this.worker.postMessage({ ...request, id }, transferList);
    });
  }

  private onMessage(message: WorkerResponse): void {
    if (!('id' in message)) return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === 'progress') {
      pending.onProgress?.(message.progress);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === 'result') pending.resolve(message.value);
    else if (message.type === 'columns') pending.resolve(fromWire(message.value));
    else pending.reject(fromWireError(message.error));
  }

  private fail(error: Error): void {
    this.dead ??= error;
    for (const pending of this.pending.values()) pending.reject(this.dead);
    this.pending.clear();
  }
}

/** Rebuilds the error classes callers check for (instanceof IngestError / StoreError). */
function fromWireError(wire: WireError): Error {
  if (wire.name === 'IngestError' && wire.report && wire.failedChunk)
    return new IngestError(wire.message, wire.report, wire.failedChunk);
  if (wire.name === 'StoreError' && wire.code && wire.file) {
    const prefix = `${wire.file}: `;
    const message = wire.message.startsWith(prefix) ? wire.message.slice(prefix.length) : wire.message;
    return new StoreError(wire.code as StoreErrorCode, wire.file, message);
  }
  const error = new Error(wire.message);
  if (wire.name !== 'Error') error.name = wire.name;
  return error;
}
