import type { Worker } from 'node:worker_threads';
import type { TrainRunEvent, TrainRunSummary } from './run-training';
import { TrainingCancelled } from './train-model';
import type { TrainJob } from './train-request';
import { fromWireError, type TrainWorkerInit, type TrainWorkerMessage, type TrainWorkerRequest } from './train-worker-protocol';

/**
 * Starts the worker thread running `train-worker-entry`. The app passes electron-vite's
 * `?nodeWorker` import (train-worker-bundled.ts); tests pass `new Worker(bundledFile, { workerData })`.
 * The init object must become the worker's `workerData`.
 */
export type TrainWorkerFactory = (init: TrainWorkerInit) => Worker;

export interface StartTrainingOptions {
  /** The run's events, on the main thread: dataset, run (checkpoint folder), progress, checkpoint. */
  onEvent?: (event: TrainRunEvent) => void;
  /** How long cancel() lets the worker stop by itself before terminating it. Default 10 s. */
  cancelGraceMs?: number;
}

export interface TrainingHandle {
  /**
   * Resolves with the summary once the model folder is written. Rejects with the worker's error
   * rebuilt as its class: DatasetError (the dataset folder, before any training),
   * CheckpointError (a --resume that cannot be read), TrainingCancelled (cancel()),
   * ModelFolderError, or an Error with the worker's message and stack.
   */
  readonly done: Promise<TrainRunSummary>;
  /**
   * Stops the run: the worker aborts between two training steps, writes nothing more (the
   * checkpoints of finished epochs stay) and ends; it is terminated if it has not ended after
   * `cancelGraceMs` (every file it writes is written atomically, so that is safe too). Resolves
   * once the thread has ended; `done` then rejects with TrainingCancelled, unless the run had
   * already finished.
   */
  cancel(reason?: string): Promise<void>;
  /** The thread's exit code once it has ended. */
  readonly exited: Promise<number>;
}

/** How long a thread that has sent its result may take to end by itself. */
const EXIT_GRACE_MS = 5_000;

/** Runs a training job (a new run or a resumed one) on a worker thread. */
export function startTraining(factory: TrainWorkerFactory, job: TrainJob, options: StartTrainingOptions = {}): TrainingHandle {
  const worker = factory({ job });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  let resolveDone!: (summary: TrainRunSummary) => void;
  let rejectDone!: (error: Error) => void;
  const done = new Promise<TrainRunSummary>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // A caller that cancels and never awaits `done` must not get an unhandled rejection.
  done.catch(() => undefined);
  let settled = false;
  let cancelReason: string | null = null;
  const settle = (outcome: { summary: TrainRunSummary } | { error: Error }): void => {
    if (settled) return;
    settled = true;
    if ('summary' in outcome) resolveDone(outcome.summary);
    else rejectDone(outcome.error);
    // The thread ends by itself once its port closes; do not let a stuck one linger.
    const timer = setTimeout(() => void worker.terminate(), EXIT_GRACE_MS);
    timer.unref();
    void exited.then(() => clearTimeout(timer));
  };

  worker.on('message', (message: TrainWorkerMessage) => {
    if (message.type === 'done') settle({ summary: message.summary });
    else if (message.type === 'failed') settle({ error: fromWireError(message.error) });
    else if (!settled) options.onEvent?.(message);
  });
  worker.on('error', (error) => settle({ error: new Error(`training worker crashed: ${error.message}`, { cause: error }) }));
  worker.once('exit', (code) =>
    settle({
      error: cancelReason !== null ? new TrainingCancelled(cancelReason) : new Error(`training worker exited (code ${code}) before finishing`),
    }),
  );

  return {
    done,
    exited,
    async cancel(reason = 'training cancelled') {
      if (!settled && cancelReason === null) {
        cancelReason = reason;
        worker.postMessage({ type: 'cancel', reason } satisfies TrainWorkerRequest);
        const timer = setTimeout(() => void worker.terminate(), options.cancelGraceMs ?? 10_000);
        try {
          await exited;
        } finally {
          clearTimeout(timer);
        }
        return;
      }
      await exited;
    },
  };
}
