/// <reference types="electron-vite/node" />
import createTrainWorker from './train-worker-entry?nodeWorker';
import type { TrainWorkerFactory } from './train-worker';

/**
 * The app's training worker: electron-vite bundles `train-worker-entry.ts` into its own chunk
 * beside the main bundle (the CLI, Electron main and the daemon alike) and `?nodeWorker`
 * returns a function that starts it. Only entry points that electron-vite builds import this
 * file (src/main/cli/main.ts); vitest cannot resolve `?nodeWorker`, so tests start the same
 * entry through testing/train-worker-bundle.ts.
 */
export const bundledTrainWorker: TrainWorkerFactory = (init) => createTrainWorker({ workerData: init });
