/// <reference types="electron-vite/node" />
import createStoreWorker from './store-worker-entry?nodeWorker';
import type { StoreWorkerFactory } from './store-worker';

/**
 * The app's store worker: electron-vite bundles `store-worker-entry.ts` into its own chunk
 * beside the main bundle (Electron main and the headless daemon alike) and `?nodeWorker`
 * returns a function that starts it. Only the bundled app imports this file; vitest cannot
 * resolve `?nodeWorker`, so tests start the same entry through testing/bundle.ts.
 */
export const bundledStoreWorker: StoreWorkerFactory = (init) => createStoreWorker({ workerData: init });
