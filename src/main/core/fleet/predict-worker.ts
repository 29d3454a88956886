import type { Worker } from 'node:worker_threads';
import type { ProviderReport } from '../model/infer';
import { closeWithin, waitUntilReady } from '../util/worker-lifecycle';
import type { StoreOptions } from '../store';
import type { Logger } from '../util/logger';
import type { ChunkResult } from './predict-chunks';
import type {
  CycleRequest,
  PredictWireError,
  PredictWorkerInit,
  PredictWorkerRequest,
  PredictWorkerResponse,
  WorkerModelSpec,
} from './predict-worker-protocol';

/**
 * Starts the thread running `predict-worker-entry`. The app passes electron-vite's `?nodeWorker`
 * import (predict-worker-bundled.ts); tests pass `new Worker(bundledFile, { workerData })`. The
 * init object must become the worker's `workerData`.
 */
export type PredictWorkerFactory = (init: PredictWorkerInit) => Worker;

/** A chunk as the main thread receives it: written to the store by the worker, in `storeMs`. */
export interface WorkerChunk {
  chunk: ChunkResult;
  storeMs: number;
  storeError?: string;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onChunk?: (chunk: WorkerChunk) => void;
}

/**
 * The main thread's side of the prediction worker: one call per request, answered in order.
 * Every promise settles: if the thread dies, pending calls reject with the reason, and so does
 * every later call.
 */
export class PredictWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | null = null;
  readonly exited: Promise<number>;

  private constructor(
    private readonly worker: Worker,
    private readonly logger: Logger,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.on('message', (message: PredictWorkerResponse) => this.onMessage(message));
    worker.on('error', (error) => this.fail(new Error(`prediction worker crashed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => this.fail(new Error(`prediction worker exited (code ${code})`)));
  }

  /** True once the thread has died or been closed: every call rejects from then on. */
  get failed(): boolean {
    return this.dead !== null;
  }

  /** Resolves once the worker has opened its store connection; rejects with the reason it could not. */
  static start(factory: PredictWorkerFactory, storePath: string, storeOptions: StoreOptions, logger: Logger): Promise<PredictWorker> {
    const worker = factory({ storePath, storeOptions });
    return waitUntilReady(worker, 'prediction worker', (error) => fromWireError(error as PredictWireError)).then(
      () => new PredictWorker(worker, logger),
    );
  }

  /** Opens a session for the model on the worker; resolves with its id (for `cycle`) and the provider report. */
  async load(model: WorkerModelSpec): Promise<{ modelId: number; report: ProviderReport }> {
    // Transferred when the bytes own their buffer (the caller does not keep them), else copied.
    const bytes = model.modelBytes;
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    const id = this.nextId;
    const report = await this.call<ProviderReport>({ id: 0, type: 'load', model }, whole ? [bytes.buffer] : []);
    return { modelId: id, report };
  }

  unload(modelId: number): Promise<void> {
    return this.call<void>({ id: 0, type: 'unload', modelId });
  }

  /**
   * Runs the compute part of a cycle on the worker: `onChunk` gets each chunk's predictions as it
   * arrives (one message each, so the main thread never deserialises a whole fleet at once); the
   * promise resolves with the window read's duration once every chunk has arrived.
   */
  cycle(request: CycleRequest, onChunk: (chunk: WorkerChunk) => void): Promise<{ readMs: number }> {
    return this.call<{ readMs: number }>({ id: 0, type: 'cycle', ...request }, [], onChunk);
  }

  /** Closes the sessions and the store connection and waits for the thread to end (terminates it after `timeoutMs`). */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.dead) {
      await this.exited;
      return;
    }
    await closeWithin(this.worker, this.exited, this.call<void>({ id: 0, type: 'close' }), timeoutMs);
  }

  /** Stops the thread now (tests: a worker that dies mid-cycle); pending calls reject. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }

  private call<T>(request: PredictWorkerRequest, transferList: ArrayBuffer[] = [], onChunk?: (chunk: WorkerChunk) => void): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, ...(onChunk ? { onChunk } : {}) });
      this.worker.postMessage({ ...request, id }, transferList);
    });
  }

  private onMessage(message: PredictWorkerResponse): void {
    if (message.type === 'log') {
      this.logger[message.level](message.message, message.fields);
      return;
    }
    if (!('id' in message)) return;
    const pending = this.pending.get(message.id);
    if (message.type === 'chunk') {
      try {
        const { chunk, storeMs, storeError } = message;
        pending?.onChunk?.({ chunk, storeMs, ...(storeError === undefined ? {} : { storeError }) });
      } catch (error) {
        // The cycle's own bookkeeping failed: end the call with it (later chunks are dropped).
        this.pending.delete(message.id);
        pending?.reject(error instanceof Error ? error : new Error(String(error)));
      }
      // Always, even for a dropped cycle: the worker waits for it before the next chunk (and so
      // does every later request).
      if (!this.dead) this.worker.postMessage({ id: message.id, type: 'ack' } satisfies PredictWorkerRequest);
      return;
    }
    if (!pending) return;
    switch (message.type) {
      case 'loaded':
        this.pending.delete(message.id);
        pending.resolve(message.report);
        return;
      case 'done':
        this.pending.delete(message.id);
        pending.resolve({ readMs: message.readMs });
        return;
      case 'result':
        this.pending.delete(message.id);
        pending.resolve(undefined);
        return;
      case 'error':
        this.pending.delete(message.id);
        pending.reject(fromWireError(message.error));
        return;
    }
  }

  private fail(error: Error): void {
    this.dead ??= error;
    for (const pending of this.pending.values()) pending.reject(this.dead);
    this.pending.clear();
  }
}

function fromWireError(wire: PredictWireError): Error {
  const error = new Error(wire.message);
  error.name = wire.name;
  if (wire.code !== undefined) (error as Error & { code?: string }).code = wire.code;
  return error;
}
