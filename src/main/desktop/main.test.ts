import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FakeElectron } from './testing/fake-electron';
import { quitAndWait, settle } from './testing/test-desktop';

const userData = mkdtempSync(join(tmpdir(), 'tftmp-main-'));
const fake = new FakeElectron(userData);
vi.mock('electron', () => fake.api);
// The app's `?nodeWorker` import only resolves in the electron-vite build: the same entry, bundled for Node.
vi.mock('../core/fleet/predict-worker-bundled', async () => {
  const { Worker } = await import('node:worker_threads');
  const { bundleForNode } = await import('../core/store/testing/bundle');
  const bundle = await bundleForNode(join(__dirname, '..', 'core', 'fleet', 'predict-worker-entry.ts'));
  return {
    bundledPredictWorker: (init: unknown) => new Worker(bundle.file, { workerData: init }),
  };
});

// The same for the training worker (model.train).
vi.mock('../core/model/train/train-worker-bundled', async () => {
  const { bundleTrainWorker } = await import('../core/model/train/testing/train-worker-bundle');
  const { factory } = await bundleTrainWorker();
  return { bundledTrainWorker: factory };
});

afterAll(async () => {
  await quitAndWait(fake);
  rmSync(userData, { recursive: true, force: true });
});

describe('main.ts', () => {
  it('hands the electron module to startDesktop, with the bundle folder as the base for its paths', async () => {
    await import('./main');
    expect(fake.app.sandboxEnabled).toBe(true);
    fake.app.ready();
    await settle();
    expect(fake.windows).toHaveLength(1);
    const prefs = fake.windows[0]!.options.webPreferences;
    expect(prefs?.preload).toBe(join(__dirname, '..', 'preload', 'index.js'));
  });
});
