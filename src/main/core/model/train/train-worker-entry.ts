import { parentPort, workerData } from 'node:worker_threads';
import { runTraining } from './run-training';
import { toWireError, type TrainWorkerInit, type TrainWorkerMessage, type TrainWorkerRequest } from './train-worker-protocol';

/**
 * The training worker's thread: runs one job (runTraining: dataset, training, checkpoints,
 * ONNX export, model folder) so the main thread's event loop never waits on it, posts its events,
 * then `done` or `failed`, and ends. A `cancel` message aborts the run between training steps
 * (trainTft yields to the event loop after each, so the message gets through).
 */
function main(): void {
  const port = parentPort;
  if (!port) throw new Error('train-worker-entry must run in a worker thread (new Worker(...)), not as a main module');
  const post = (message: TrainWorkerMessage): void => port.postMessage(message);
  const { job } = workerData as TrainWorkerInit;
  const controller = new AbortController();
  port.on('message', (request: TrainWorkerRequest) => {
    if (request.type === 'cancel' && !controller.signal.aborted) controller.abort(request.reason);
  });
  runTraining(job, { signal: controller.signal, onEvent: post })
    .then(
      (summary) => post({ type: 'done', summary }),
      (error: unknown) => post({ type: 'failed', error: toWireError(error) }),
    )
    // Closing the port lets the thread end by itself once the last message is flushed.
    .finally(() => port.close());
}

main();
