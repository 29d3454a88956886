import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFleet } from '../../metrics/simulator/fleet-sim';
import { generateFleet } from '../../metrics/simulator/generate';
import { buildDataset, type FeatureDataset } from '../features/dataset';
import { MONDAY } from '../features/testing/series';
import { nodeFolderFs } from '../folder/write-model-folder';
import { useBackend } from '../tft/testing/fixtures';
import type { TftModel } from '../tft/tft-tfjs';
import {
  CHECKPOINT_FILE,
  CheckpointError,
  createRunDir,
  decodeCheckpoint,
  encodeCheckpoint,
  readCheckpoint,
  removeRunDir,
  writeCheckpoint,
  type TrainCheckpoint,
} from './checkpoint-file';
import type { TrainCheckpointState } from './checkpoint-state';
import { TrainingCancelled, trainTft, type TrainTftOptions, type TrainTftResult } from './train-model';
import { resolveTrainRequest } from './train-request';

/** 3 servers x 60 hours: the smallest fleet with training and validation windows. */
let dataset: FeatureDataset;
let root: string;

beforeAll(async () => {
  await useBackend('wasm');
  const fleet = generateFleet({ seed: 'checkpoint', start: MONDAY, servers: defaultFleet(3), hours: 60 });
  dataset = buildDataset(fleet.columns, fleet.incidents, { seed: 1, heldOutCount: 1 });
  root = mkdtempSync(join(tmpdir(), 'tftmp-ckpt-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const small = (over: Partial<TrainTftOptions> = {}): TrainTftOptions => ({
  dataset,
  hyper: { hidden: 8, heads: 2, variableHidden: 4 },
  epochs: 3,
  batchSize: 8,
  seed: 11,
  patience: 0,
  maxWindowsPerEpoch: 16,
  maxValidationWindows: 16,
  // High, so that the augmentation stream's position visibly matters.
  unknownServerRate: 0.5,
  ...over,
});

/** A file's worth of checkpoint around a state (the run part is not what these tests are about). */
const wrap = (state: TrainCheckpointState): TrainCheckpoint => ({
  runName: 'tft_run_test',
  request: resolveTrainRequest({ dataset: '/data', output: '/models' }),
  dataset: { metricsFile: 'server_metrics.parquet', metricsSha256: '0'.repeat(64), metadataSha256: 'f'.repeat(64) },
  state,
});
/** Through the bytes of the file format and back, as a resume sees it. */
const roundTrip = (state: TrainCheckpointState): TrainCheckpointState => decodeCheckpoint(encodeCheckpoint(wrap(state)), 'mem').state;

function expectSameRun(a: TrainTftResult, b: TrainTftResult): void {
  expect(b.history.map((h) => [h.epoch, h.trainLoss, h.validationLoss])).toEqual(a.history.map((h) => [h.epoch, h.trainLoss, h.validationLoss]));
  expect(b.bestEpoch).toBe(a.bestEpoch);
  expectSameWeights(a.model, b.model);
}

function expectSameWeights(a: TftModel, b: TftModel): void {
  const wa = a.serialize();
  const wb = b.serialize();
  expect(Object.keys(wb).sort()).toEqual(Object.keys(wa).sort());
  for (const name of Object.keys(wa)) expect(wb[name]!.data, name).toEqual(wa[name]!.data);
}

describe('trainTft checkpoints and resume', () => {
  it('a run resumed from any epoch checkpoint ends with the weights of the uninterrupted run', { timeout: 60_000 }, async () => {
    const before = tf.memory().numTensors;
    const states: TrainCheckpointState[] = [];
    const full = await trainTft(small({ checkpoint: (s) => void states.push(roundTrip(s)) }));
    expect(states.map((s) => s.epoch)).toEqual([1, 2, 3]);
    expect(states[0]!.optimizer.step).toBe(2);
    expect(states[0]!.rngDraws.augmentation).toBe(16);
    expect(states[2]!.history).toHaveLength(3);

    for (const state of states.slice(0, 2)) {
      const resumed = await trainTft(small({ resumeFrom: state }));
      expectSameRun(full, resumed);
      resumed.model.dispose();
    }
    // From the last one there is nothing left to train: straight to the result.
    const atEnd = await trainTft(small({ resumeFrom: states[2]! }));
    expectSameRun(full, atEnd);
    atEnd.model.dispose();

    // The test can see the random stream: skipping it (resuming at draw 0) gives other weights.
    const forgetful = await trainTft(small({ resumeFrom: { ...states[0]!, rngDraws: { augmentation: 0 } } }));
    expect(forgetful.history[1]!.trainLoss).not.toBe(full.history[1]!.trainLoss);
    forgetful.model.dispose();
    full.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a run cancelled mid-epoch resumes from its last checkpoint to the same end', { timeout: 60_000 }, async () => {
    const full = await trainTft(small());
    const controller = new AbortController();
    let last: TrainCheckpointState | undefined;
    const interrupted = trainTft(
      small({
        signal: controller.signal,
        checkpoint: (s) => {
          last = roundTrip(s);
        },
        onProgress: (p) => {
          if (p.epoch === 2 && p.step === 1 && p.phase === 'train') controller.abort('test');
        },
      }),
    );
    await expect(interrupted).rejects.toBeInstanceOf(TrainingCancelled);
    expect(last?.epoch).toBe(1);
    const resumed = await trainTft(small({ resumeFrom: last! }));
    expectSameRun(full, resumed);
    full.model.dispose();
    resumed.model.dispose();
  });

  it('early stopping survives a resume: the stopped run stays stopped and keeps its best weights', { timeout: 60_000 }, async () => {
    // No epoch can beat the first by minDelta: patience 1 stops after epoch 2, keeping epoch 1.
    const options = small({ epochs: 5, patience: 1, minDelta: 1e9 });
    const states: TrainCheckpointState[] = [];
    const full = await trainTft({ ...options, checkpoint: (s) => void states.push(roundTrip(s)) });
    expect(full.history).toHaveLength(2);
    expect(states.map((s) => [s.epoch, s.sinceBest, s.stopped])).toEqual([
      [1, 0, false],
      [2, 1, true],
    ]);
    for (const state of states) {
      const resumed = await trainTft({ ...options, resumeFrom: state });
      expectSameRun(full, resumed);
      resumed.model.dispose();
    }
    full.model.dispose();
  });

  it('refuses a checkpoint taken with other settings', async () => {
    let first: TrainCheckpointState | undefined;
    const run = await trainTft(small({ epochs: 1, checkpoint: (s) => void (first = s) }));
    run.model.dispose();
    await expect(trainTft(small({ epochs: 1, batchSize: 4, resumeFrom: first! }))).rejects.toThrow(/cannot resume: .*batchSize 8 -> 4/);
    await expect(trainTft(small({ epochs: 1, seed: 12, resumeFrom: first! }))).rejects.toThrow(/seed 11 -> 12/);
    await expect(trainTft(small({ epochs: 1, hyper: { hidden: 12, heads: 2, variableHidden: 4 }, resumeFrom: first! }))).rejects.toThrow(/cannot load weights/);
  });
});

describe('checkpoint files', () => {
  let state: TrainCheckpointState;
  beforeAll(async () => {
    const run = await trainTft(small({ epochs: 1, checkpoint: (s) => void (state = s) }));
    run.model.dispose();
  });

  it('round-trip every number exactly', () => {
    const back = decodeCheckpoint(encodeCheckpoint(wrap(state)), 'mem');
    expect(back.runName).toBe('tft_run_test');
    expect(back.request.dataset).toBe('/data');
    expect(back.state).toEqual(state);
  });

  it("keep an ensemble member's index, and read a checkpoint of an older build (no seeds, no member) as member 0 of [seed]", () => {
    expect(decodeCheckpoint(encodeCheckpoint({ ...wrap(state), member: 2 }), 'mem').member).toBe(2);
    const { seeds: _seeds, ...older } = wrap(state).request;
    const back = decodeCheckpoint(encodeCheckpoint({ ...wrap(state), request: older }), 'mem');
    expect(back.member).toBeUndefined();
    expect(back.request.seeds).toBeUndefined();
    expect(back.request.seed).toBe(older.seed);
  });

  it('refuse what is not a whole checkpoint, naming the file', () => {
    const bytes = encodeCheckpoint(wrap(state));
    const flipped = bytes.slice();
    flipped[flipped.length - 3]! ^= 0xff;
    expect(() => decodeCheckpoint(flipped, '/x/checkpoint.bin')).toThrow(/^\/x\/checkpoint\.bin: .*sha256 \(corrupted\)/);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 100), 'f')).toThrow(/truncated/);
    expect(() => decodeCheckpoint(new TextEncoder().encode('PAR1 not a checkpoint at all'), 'f')).toThrow(/does not start with TFTCKPT1/);
    expect(() => decodeCheckpoint(bytes.subarray(0, 40), 'f')).toThrow(CheckpointError);
  });

  it('are replaced atomically: a failed write leaves the previous checkpoint and no temporary file', async () => {
    const { runName, dir } = await createRunDir(join(root, 'models'), new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
    expect(runName).toBe('tft_run_20260102_030405');
    expect(dir).toBe(join(root, 'models', '.checkpoints', runName));
    // The same second again: a suffix, not a clash.
    expect((await createRunDir(join(root, 'models'), new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).runName).toBe('tft_run_20260102_030405_2');

    const file = await writeCheckpoint(dir, wrap(state));
    expect(file).toBe(join(dir, CHECKPOINT_FILE));
    const good = readFileSync(file);
    // A stale temporary file of a killed writer is cleaned by the next write.
    writeFileSync(join(dir, `.${CHECKPOINT_FILE}.tmp-deadbeef0000`), 'half');
    const failing = { ...nodeFolderFs, rename: () => Promise.reject(new Error('disk full')) };
    await expect(writeCheckpoint(dir, wrap({ ...state, epoch: 2 }), failing)).rejects.toThrow(/checkpoint\.bin: renaming it into place failed: disk full/);
    expect(readdirSync(dir)).toEqual([CHECKPOINT_FILE]);
    expect(readFileSync(file).equals(good)).toBe(true);
    expect((await readCheckpoint(dir)).state.epoch).toBe(1);
    expect((await readCheckpoint(file)).dir).toBe(dir);

    await removeRunDir(dir);
    expect(existsSync(dir)).toBe(false);
    // Another run's folder is still there, so .checkpoints/ stays.
    expect(readdirSync(join(root, 'models', '.checkpoints'))).toEqual(['tft_run_20260102_030405_2']);
    await removeRunDir(join(root, 'models', '.checkpoints', 'tft_run_20260102_030405_2'));
    expect(readdirSync(join(root, 'models'))).toEqual([]);
  });

  it('say what is wrong with a --resume path', async () => {
    await expect(readCheckpoint(join(root, 'nope'))).rejects.toThrow(/nope: does not exist/);
    const empty = mkdtempSync(join(root, 'run-'));
    await expect(readCheckpoint(empty)).rejects.toThrow(/checkpoint\.bin: missing: no epoch of this run had finished/);
  });
});
