import { parentPort, workerData } from 'node:worker_threads';
import { openStore, type MetricsStore } from './metrics-store';
import {
  fromWire,
  toWire,
  toWireError,
  type StoreWorkerInit,
  type WorkerRequest,
  type WorkerResponse,
} from './worker-protocol';

/**
 * The store worker's thread: a second connection to the same file that does the bulk work
 * (ingest, retention, checkpoints, and the big reads: a cold fleet window materialises ~300k
 * rows) so the main thread's event loop never waits on it. Requests
 * are handled one at a time, in order; each answers with a result or an error, and an ingest
 * posts progress after every committed chunk.
 */
function main(): void {
  const port = parentPort;
  if (!port) throw new Error('store-worker-entry must run in a worker thread (new Worker(...)), not as a main module');
  const post = (message: WorkerResponse): void => port.postMessage(message);
  const init = workerData as StoreWorkerInit;

  let store: MetricsStore;
  try {
    store = openStore(init.path, init.options);
  } catch (error) {
    post({ type: 'failed', error: toWireError(error) });
    port.close();
    return;
  }
  post({ type: 'ready' });

  port.on('message', (request: WorkerRequest) => {
    try {
      switch (request.type) {
        case 'ingest': {
          const steps = store.ingestSteps(fromWire(request.batch), request.opts);
          for (;;) {
            const step = steps.next();
            if (step.done) {
              post({ id: request.id, type: 'result', value: step.value });
              break;
            }
            post({ id: request.id, type: 'progress', progress: step.value });
          }
          break;
        }
        case 'latestWindow':
        case 'querySamples': {
          const columns =
            request.type === 'latestWindow'
              ? store.latestWindow(request.steps, request.endMs, { dense: request.dense ?? false })
              : store.querySamples(request.server, request.fromMs, request.toMs);
          // Freshly allocated and owned by nobody else here: move them, do not copy.
          const { wire, transferList } = toWire(columns, true);
          port.postMessage({ id: request.id, type: 'columns', value: wire } satisfies WorkerResponse, transferList);
          break;
        }
        case 'retention':
          post({
            id: request.id,
            type: 'result',
            value: store.applyRetention(request.olderThanMs, { chunkRows: request.chunkRows }),
          });
          break;
        case 'checkpoint':
          post({ id: request.id, type: 'result', value: store.checkpoint(request.mode) });
          break;
        case 'close':
          store.close();
          post({ id: request.id, type: 'result', value: null });
          // Closing the port lets the thread end by itself once the reply is flushed: a clean exit, code 0.
          port.close();
          break;
      }
    } catch (error) {
      post({ id: request.id, type: 'error', error: toWireError(error) });
    }
  });
}

main();
