import { parentPort, workerData } from 'node:worker_threads';
import { inferProfile, type Profile } from '@shared/contract';
import { createInferenceSession, type InferenceSession } from '../model/infer';
import { openStore, type MetricsStore } from '../store';
import { serialiseFields, type Logger } from '../util/logger';
import { predictChunks } from './predict-chunks';
import { PredictionLog } from './prediction-log';
import {
  toPredictWireError,
  type PredictWorkerInit,
  type PredictWorkerRequest,
  type PredictWorkerResponse,
  type WorkerModelSpec,
} from './predict-worker-protocol';

/**
 * The prediction worker's thread: the whole compute part of a fleet cycle off the main thread.
 * It holds its own connection to the store (and so its own incremental window cache) and the
 * inference sessions; for each cycle it reads the window, then builds features, runs the model
 * and decodes chunk by chunk, posting each chunk's predictions as soon as they are ready, so the
 * main thread receives small messages instead of one big one. Requests run one at a time, in
 * order.
 */
function main(): void {
  const port = parentPort;
  if (!port) throw new Error('predict-worker-entry must run in a worker thread (new Worker(...)), not as a main module');
  const post = (message: PredictWorkerResponse): void => port.postMessage(message);
  const init = workerData as PredictWorkerInit;
  const logger: Logger = {
    info: (message, fields) => post({ type: 'log', level: 'info', message, ...withFields(fields) }),
    warn: (message, fields) => post({ type: 'log', level: 'warn', message, ...withFields(fields) }),
    error: (message, fields) => post({ type: 'log', level: 'error', message, ...withFields(fields) }),
  };

  let store: MetricsStore;
  try {
    store = openStore(init.storePath, init.storeOptions);
  } catch (error) {
    post({ type: 'failed', error: toPredictWireError(error) });
    port.close();
    return;
  }
  const models = new Map<number, { spec: WorkerModelSpec; session: InferenceSession; known: ReadonlySet<string> }>();
  const log = new PredictionLog(store);
  /** The main thread's `ack` of the chunk a cycle posted last, by cycle id. */
  const acks = new Map<number, () => void>();
  const ackOf = (id: number): Promise<void> => new Promise((resolve) => acks.set(id, resolve));

  const handle = async (request: PredictWorkerRequest): Promise<void> => {
    switch (request.type) {
      case 'load': {
        const { model } = request;
        const session = await createInferenceSession({
          modelBytes: model.modelBytes,
          expectedInputs: model.expectedInputs,
          expectedOutputs: model.expectedOutputs,
          provider: model.provider,
          ...(model.intraOpThreads === undefined ? {} : { intraOpThreads: model.intraOpThreads }),
          logger,
        });
        // The session holds its own copy of the weights.
        models.set(request.id, { spec: { ...model, modelBytes: new Uint8Array(0) }, session, known: new Set(model.knownServers) });
        post({ id: request.id, type: 'loaded', report: session.report });
        return;
      }
      case 'unload': {
        const found = models.get(request.modelId);
        models.delete(request.modelId);
        await found?.session.close();
        post({ id: request.id, type: 'result' });
        return;
      }
      case 'cycle': {
        const model = models.get(request.modelId);
        if (!model) throw new Error(`prediction worker: no model ${request.modelId} is loaded`);
        const t0 = performance.now();
        const columns = store.latestWindow(request.steps, request.endMs);
        const readMs = performance.now() - t0;
        const profiles = new Map<string, Profile>(request.eligible);
        const serverIds = request.log ? new Map(store.listServers().map((s) => [s.name, s.id])) : null;
        let acked = Promise.resolve();
        // While the main thread takes in chunk k, this thread computes chunk k + 1.
        for await (const chunk of predictChunks({
          columns,
          eligible: request.eligible.map(([server]) => server),
          spec: model.spec.spec,
          at: request.at,
          knownServers: model.known,
          profileOf: (name) => profiles.get(name) ?? inferProfile(name),
          minCoverage: request.minCoverage,
          chunkServers: request.chunkServers,
          session: model.session,
          explains: model.spec.explains,
          upstream: request.upstream
            ? {
                dependencyOf: new Map(request.upstream.dependencyOf),
                previous: new Map(request.upstream.previous),
                coefficient: request.upstream.coefficient,
              }
            : undefined,
        })) {
          let storeMs = 0;
          let storeError: string | undefined;
          if (request.log && serverIds && chunk.servers.length > 0) {
            const s0 = performance.now();
            try {
              log.write(request.log.time, request.log.model, chunk.servers, serverIds, { stepMinutes: request.log.stepMinutes });
            } catch (error) {
              storeError = error instanceof Error ? error.message : String(error);
            }
            storeMs = performance.now() - s0;
          }
          await acked;
          acked = ackOf(request.id);
          post({ id: request.id, type: 'chunk', chunk, storeMs, ...(storeError === undefined ? {} : { storeError }) });
        }
        await acked;
        acks.delete(request.id);
        post({ id: request.id, type: 'done', readMs });
        return;
      }
      case 'close': {
        for (const { session } of models.values()) await session.close();
        models.clear();
        store.close();
        post({ id: request.id, type: 'result' });
        // Closing the port lets the thread end by itself once the reply is flushed: a clean exit, code 0.
        port.close();
        return;
      }
    }
  };

  // One request at a time, in order: a cycle never overlaps a model swap or the close.
  let queue = Promise.resolve();
  port.on('message', (request: PredictWorkerRequest) => {
    if (request.type === 'ack') {
      // Not queued: the cycle it unblocks is the request running now.
      acks.get(request.id)?.();
      return;
    }
    queue = queue.then(() =>
      handle(request).catch((error: unknown) => post({ id: request.id, type: 'error', error: toPredictWireError(error) })),
    );
  });
  post({ type: 'ready' });
}

function withFields(fields: Record<string, unknown> | undefined): { fields?: Record<string, unknown> } {
  // Errors and other class instances become plain data that survives postMessage.
  const plain = serialiseFields(fields);
  return plain ? { fields: plain } : {};
}

main();
