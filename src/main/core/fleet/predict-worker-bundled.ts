/// <reference types="electron-vite/node" />
import createPredictWorker from './predict-worker-entry?nodeWorker';
import type { PredictWorkerFactory } from './predict-worker';

/**
 * The app's prediction worker: electron-vite bundles `predict-worker-entry.ts` into its own chunk
 * beside the main bundle (Electron main and the headless daemon alike) and `?nodeWorker` returns
 * a function that starts it. Only the bundled app imports this file; vitest cannot resolve
 * `?nodeWorker`, so tests start the same entry through store/testing/bundle.ts.
 */
export const bundledPredictWorker: PredictWorkerFactory = (init) => createPredictWorker({ workerData: init });
