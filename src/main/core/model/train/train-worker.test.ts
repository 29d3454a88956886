import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeBundle } from '../../store/testing/bundle';
import { loadModelFolder } from '../folder';
import { CHECKPOINT_FILE, CHECKPOINTS_DIR, CheckpointError } from './checkpoint-file';
import type { TrainRunEvent, TrainRunSummary } from './run-training';
import { bundleTrainWorker } from './testing/train-worker-bundle';
import { writeDatasetFolder } from './testing/dataset-folder';
import { TrainingCancelled } from './train-model';
import type { TrainJob, TrainRequestInput } from './train-request';
import { startTraining, type TrainWorkerFactory } from './train-worker';
import { DatasetError } from './training-data';

// The real thing: runTraining in a real worker thread (the entry bundled as the app bundles it),
// reading a real dataset folder and writing real model and checkpoint folders in a temp dir.
let bundle: NodeBundle;
let factory: TrainWorkerFactory;
let root: string;
let datasetDir: string;
const NOW = '2026-01-02T03:04:05.000Z';

beforeAll(async () => {
  ({ bundle, factory } = await bundleTrainWorker());
  root = mkdtempSync(join(tmpdir(), 'tftmp-train-worker-'));
  datasetDir = await writeDatasetFolder(join(root, 'ds'));
}, 60_000);
afterAll(() => {
  bundle?.dispose();
  rmSync(root, { recursive: true, force: true });
});

const request = (output: string, over: Partial<TrainRequestInput> = {}): TrainRequestInput => ({
  dataset: datasetDir,
  output,
  hyper: { hidden: 8, heads: 2, variableHidden: 4 },
  epochs: 4,
  batchSize: 8,
  seed: 5,
  patience: 0,
  maxWindowsPerEpoch: 16,
  maxValidationWindows: 16,
  ...over,
});

/** Runs a job to its end, collecting its events. */
async function run(job: TrainJob): Promise<{ summary: TrainRunSummary; events: TrainRunEvent[]; exit: number }> {
  const events: TrainRunEvent[] = [];
  const handle = startTraining(factory, job, { onEvent: (e) => events.push(e) });
  const summary = await handle.done;
  return { summary, events, exit: await handle.exited };
}

describe('training on a worker thread', () => {
  let uninterrupted: TrainRunSummary;

  it('trains, reports progress and checkpoints, writes the model folder and removes the checkpoints', { timeout: 90_000 }, async () => {
    const output = join(root, 'full');
    const { summary, events, exit } = await run({ kind: 'new', request: request(output), now: NOW });
    uninterrupted = summary;
    expect(exit).toBe(0);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('run');
    expect(types[1]).toBe('dataset');
    expect(types.at(-1)).toBe('member');
    const runEvent = events[0] as Extract<TrainRunEvent, { type: 'run' }>;
    expect(runEvent.runName).toBe('tft_run_20260102_030405');
    expect(runEvent.checkpointDir).toBe(join(output, CHECKPOINTS_DIR, 'tft_run_20260102_030405'));
    expect(runEvent.resumedFromEpoch).toBeNull();
    const progress = events.flatMap((e) => (e.type === 'progress' ? [e.progress] : []));
    // 2 steps of 8 and one validation event per epoch.
    expect(progress).toHaveLength(4 * 3);
    expect(progress.every((p) => p.backend === 'wasm' && p.samplesPerSec > 0 && Number.isFinite(p.trainLoss))).toBe(true);
    expect(progress.at(-1)).toMatchObject({ epoch: 4, phase: 'validation', etaSeconds: 0 });
    expect(events.flatMap((e) => (e.type === 'checkpoint' ? [e.epoch] : []))).toEqual([1, 2, 3, 4]);

    expect(summary.dir).toBe(join(output, 'tft_model_20260102_030405'));
    expect(summary.training.history).toHaveLength(4);
    expect(summary.resumedFromEpoch).toBeNull();
    expect(summary.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    // The model folder loads; the spent checkpoints are gone.
    expect(readdirSync(output)).toEqual(['tft_model_20260102_030405']);
    const loaded = await loadModelFolder(summary.dir);
    expect(loaded.manifest.training).toMatchObject({ epochsRun: 4, backend: 'wasm', seed: 5 });
    expect(loaded.manifest.hyperParameters).toMatchObject({ hidden: 8, batchSize: 8, epochs: 4 });
  });

  it('cancelled after a checkpoint, writes no model; resumed, ends with the same weights and model as the uninterrupted run', { timeout: 90_000 }, async () => {
    expect(uninterrupted).toBeDefined();
    const output = join(root, 'interrupted');
    let checkpointDir: string | null = null;
    const handle = startTraining(
      factory,
      { kind: 'new', request: request(output), now: NOW },
      {
        onEvent: (e) => {
          if (e.type === 'run') checkpointDir = e.checkpointDir;
          if (e.type === 'checkpoint' && e.epoch === 1) void handle.cancel('test says stop');
        },
      },
    );
    await expect(handle.done).rejects.toThrow(TrainingCancelled);
    await expect(handle.done).rejects.toThrow('test says stop');
    expect(await handle.exited).toBe(0);
    // Nothing but the run's checkpoint: no model folder, no temporary file.
    expect(readdirSync(output)).toEqual([CHECKPOINTS_DIR]);
    expect(readdirSync(checkpointDir!)).toEqual([CHECKPOINT_FILE]);

    // The dataset moved meanwhile: the resume is told where it is now.
    const moved = join(root, 'ds-moved');
    mkdirSync(moved);
    for (const f of readdirSync(datasetDir)) copyFileSync(join(datasetDir, f), join(moved, f));
    const { summary, events } = await run({ kind: 'resume', checkpoint: checkpointDir!, dataset: moved, now: NOW });
    const runEvent = events.find((e) => e.type === 'run') as Extract<TrainRunEvent, { type: 'run' }>;
    expect(runEvent.resumedFromEpoch).toBeGreaterThanOrEqual(1);
    expect(runEvent.request.dataset).toBe(moved);
    expect(summary.resumedFromEpoch).toBe(runEvent.resumedFromEpoch);
    expect(summary.weightsSha256).toBe(uninterrupted.weightsSha256);
    expect(summary.manifest.onnx.sha256).toBe(uninterrupted.manifest.onnx.sha256);
    expect(summary.training.history.map((h) => [h.trainLoss, h.validationLoss])).toEqual(
      uninterrupted.training.history.map((h) => [h.trainLoss, h.validationLoss]),
    );
    expect(readdirSync(output)).toEqual(['tft_model_20260102_030405']);
  });

  it('cancelled before its first checkpoint, leaves nothing behind', { timeout: 60_000 }, async () => {
    const output = join(root, 'early');
    const handle = startTraining(factory, { kind: 'new', request: request(output) }, {
      onEvent: (e) => {
        if (e.type === 'progress') void handle.cancel();
      },
    });
    await expect(handle.done).rejects.toBeInstanceOf(TrainingCancelled);
    await handle.exited;
    expect(existsSync(output) ? readdirSync(output) : []).toEqual([]);
  });

  it('a bad dataset folder fails as a DatasetError naming the file, before anything is written', async () => {
    const broken = join(root, 'no-meta');
    mkdirSync(broken);
    copyFileSync(join(datasetDir, 'server_metrics.parquet'), join(broken, 'server_metrics.parquet'));
    const output = join(root, 'never');
    const handle = startTraining(factory, { kind: 'new', request: request(output, { dataset: broken }) });
    await expect(handle.done).rejects.toBeInstanceOf(DatasetError);
    await expect(handle.done).rejects.toThrow(`${join(broken, 'metrics_metadata.json')}: missing`);
    expect(existsSync(output)).toBe(false);
  });

  it('a resume of a changed dataset is refused as a DatasetError; of a missing checkpoint, as a CheckpointError', async () => {
    const output = join(root, 'changed');
    const handle = startTraining(factory, { kind: 'new', request: request(output, { epochs: 2 }) }, {
      onEvent: (e) => {
        if (e.type === 'checkpoint') void handle.cancel();
      },
    });
    await expect(handle.done).rejects.toBeInstanceOf(TrainingCancelled);
    const [runDir] = readdirSync(join(output, CHECKPOINTS_DIR));
    const other = await writeDatasetFolder(join(root, 'ds-other'), { seed: 'another fleet' });
    const resumed = startTraining(factory, { kind: 'resume', checkpoint: join(output, CHECKPOINTS_DIR, runDir!), dataset: other });
    await expect(resumed.done).rejects.toBeInstanceOf(DatasetError);
    await expect(resumed.done).rejects.toThrow(/server_metrics\.parquet: not the data run tft_run_\w+ started on/);

    const missing = startTraining(factory, { kind: 'resume', checkpoint: join(root, 'no-such-run') });
    await expect(missing.done).rejects.toBeInstanceOf(CheckpointError);
    await expect(missing.done).rejects.toThrow(/no-such-run: does not exist/);
  });
});
