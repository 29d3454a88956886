import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { columnsToRows } from '../metrics/columns';
import type { IngestProgress } from './ingest';
import { StoreError, openStore } from './metrics-store';
import { StoreWorker, type StoreWorkerFactory } from './store-worker';
import { bundleForNode, type NodeBundle } from './testing/bundle';
import { STEP, T0, tempDir } from './testing/fixtures';
import { fleetBatch } from './testing/fleet-batch';

// The worker runs the real store code, bundled the way the app bundles it (Vite/Rolldown).
let bundle: NodeBundle;
let factory: StoreWorkerFactory;
beforeAll(async () => {
  bundle = await bundleForNode(resolve(fileURLToPath(new URL('.', import.meta.url)), 'store-worker-entry.ts'));
  factory = (init) => new Worker(bundle.file, { workerData: init });
}, 60_000);
afterAll(() => bundle.dispose());

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('tftmp-store-worker-');
});
afterEach(() => tmp.remove());

describe('StoreWorker', () => {
  it('ingests off the main thread with the same report and content as an in-thread ingest', async () => {
    const now = T0 + 300 * STEP;
    const reference = openStore(tmp.file('reference.db'), { chunkRows: 2_000 });
    const expected = reference.ingest(fleetBatch({ servers: 20, steps: 288, start: T0 }), { now });

    const worker = await StoreWorker.start(factory, tmp.file(), { chunkRows: 2_000 });
    const reader = openStore(tmp.file());
    try {
      const batch = fleetBatch({ servers: 20, steps: 288, start: T0 });
      const progress: IngestProgress[] = [];
      const pending = worker.ingest(batch, { now, onProgress: (p) => progress.push(p) });
      // The typed arrays were transferred, not copied: the caller's batch is detached.
      expect(batch.timestamp.length).toBe(0);
      const report = await pending;
      expect({ ...report, file: '' }).toEqual({ ...expected, file: '' });
      expect(report.file).toBe(tmp.file());
      expect(progress.map((p) => p.rowsDone)).toEqual([2_000, 4_000, 5_760]);
      expect(reader.latestWindow(288).length).toBe(5_760);
      expect(reader.querySamples('ppweb0003', 0, Infinity).metrics.cpu_percent.values).toEqual(
        reference.querySamples('ppweb0003', 0, Infinity).metrics.cpu_percent.values,
      );
    } finally {
      reference.close();
      reader.close();
      await worker.close();
    }
  });

  it('copies instead of transferring when asked, and copies views into larger buffers', async () => {
    const worker = await StoreWorker.start(factory, tmp.file());
    try {
      const batch = fleetBatch({ servers: 2, steps: 10, start: T0 });
      const report = await worker.ingest(batch, { now: T0 + 10 * STEP, transfer: false });
      expect(report.accepted).toBe(20);
      expect(batch.timestamp.length).toBe(20);
      const shared = new Float64Array(100);
      const view = fleetBatch({ servers: 1, steps: 5, start: T0 + 20 * STEP });
      shared.set(view.timestamp, 10);
      view.timestamp = shared.subarray(10, 15);
      expect((await worker.ingest(view, { now: T0 + 30 * STEP })).accepted).toBe(5);
      expect(shared.length).toBe(100);
    } finally {
      await worker.close();
    }
  });

  it('answers window and range reads from its own connection, with the same columns', async () => {
    const store = openStore(tmp.file());
    store.ingest(fleetBatch({ servers: 4, steps: 30, start: T0 }), { now: T0 + 30 * STEP });
    const worker = await StoreWorker.start(factory, tmp.file());
    try {
      expect(columnsToRows(await worker.latestWindow(12))).toEqual(columnsToRows(store.latestWindow(12)));
      expect(columnsToRows(await worker.latestWindow(12, T0 + 20 * STEP, { dense: true }))).toEqual(
        columnsToRows(store.latestWindow(12, T0 + 20 * STEP, { dense: true })),
      );
      expect(columnsToRows(await worker.querySamples('ppweb0002', T0, T0 + 10 * STEP))).toEqual(
        columnsToRows(store.querySamples('ppweb0002', T0, T0 + 10 * STEP)),
      );
    } finally {
      store.close();
      await worker.close();
    }
  });

  it('runs retention and checkpoints', async () => {
    const worker = await StoreWorker.start(factory, tmp.file());
    try {
      await worker.ingest(fleetBatch({ servers: 3, steps: 20, start: T0 }), { now: T0 + 20 * STEP });
      expect(await worker.applyRetention(T0 + 10 * STEP)).toMatchObject({ samplesDeleted: 30 });
      expect(await worker.checkpoint()).toMatchObject({ busy: false });
    } finally {
      await worker.close();
    }
  });

  it('rejects with the store error when the store cannot be opened', async () => {
    const store = openStore(tmp.file());
    store.db.prepare("UPDATE meta SET value = '9.0.0' WHERE key = 'data_contract_version'").run();
    store.close();
    const started = StoreWorker.start(factory, tmp.file());
    await expect(started).rejects.toBeInstanceOf(StoreError);
    await expect(started).rejects.toMatchObject({ code: 'contract_mismatch', file: tmp.file() });
  });

  it('passes errors back as errors naming the file, and keeps working', async () => {
    const worker = await StoreWorker.start(factory, tmp.file());
    try {
      const bad = fleetBatch({ servers: 1, steps: 2, start: T0 });
      bad.length = 5;
      await expect(worker.ingest(bad, { now: T0 })).rejects.toThrow(`${tmp.file()}: ingest batch is malformed`);
      expect((await worker.ingest(fleetBatch({ servers: 1, steps: 2, start: T0 }), { now: T0 + STEP })).accepted).toBe(
        2,
      );
    } finally {
      await worker.close();
    }
  });

  it('shuts down cleanly, and every later or pending call rejects instead of hanging', async () => {
    const worker = await StoreWorker.start(factory, tmp.file());
    const inFlight = worker.ingest(fleetBatch({ servers: 2, steps: 5, start: T0 }), { now: T0 + 5 * STEP });
    await worker.close();
    await expect(inFlight).resolves.toMatchObject({ accepted: 10 });
    expect(await worker.exited).toBe(0);
    await expect(worker.checkpoint()).rejects.toThrow(/store worker exited/);

    const killed = await StoreWorker.start(factory, tmp.file());
    const pending = killed.ingest(fleetBatch({ servers: 50, steps: 288, start: T0 + 100 * STEP }), {
      now: T0 + 400 * STEP,
    });
    await killed.terminate();
    await expect(pending).rejects.toThrow(`${tmp.file()}: store worker exited`);
  });
});
