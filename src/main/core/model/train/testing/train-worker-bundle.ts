import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { bundleForNode, REPO_ROOT, type NodeBundle } from '../../../store/testing/bundle';
import type { TrainWorkerFactory } from '../train-worker';

/**
 * The training worker entry bundled for plain Node (the same Vite/Rolldown build the app uses;
 * packages stay external), and a factory that starts it: what tests pass to startTraining and
 * trainCommand where the app passes the `?nodeWorker` import.
 */
export async function bundleTrainWorker(): Promise<{ factory: TrainWorkerFactory; bundle: NodeBundle }> {
  const bundle = await bundleForNode(join(REPO_ROOT, 'src/main/core/model/train/train-worker-entry.ts'));
  return { bundle, factory: (init) => new Worker(bundle.file, { workerData: init }) };
}
