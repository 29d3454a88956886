import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultFleet } from '../../metrics/simulator/fleet-sim';
import { generateFleet } from '../../metrics/simulator/generate';
import { buildDataset, type FeatureDataset } from '../features/dataset';
import { MONDAY } from '../features/testing/series';
import { useBackend } from '../tft/testing/fixtures';
import { seededRandom } from '../tft/weight-store';
import { TrainingCancelled, evaluateLoss, sampleIndices, shiftRiskPrior, trainTft, type TrainProgress, type TrainTftOptions } from './train-model';

/** A small but real fleet: 4 servers x 3 days, the default feature spec. */
let dataset: FeatureDataset;

beforeAll(async () => {
  await useBackend('wasm');
  const fleet = generateFleet({ seed: 'train', start: MONDAY, servers: defaultFleet(4), hours: 72 });
  dataset = buildDataset(fleet.columns, fleet.incidents, { seed: 1, heldOutCount: 1 });
});

const small = (over: Partial<TrainTftOptions> = {}): TrainTftOptions => ({
  dataset,
  hyper: { hidden: 8, heads: 2, variableHidden: 4 },
  epochs: 2,
  batchSize: 16,
  seed: 5,
  maxWindowsPerEpoch: 32,
  maxValidationWindows: 32,
  ...over,
});

describe('trainTft', () => {
  it('trains on a tiny fleet, reports progress, and is reproducible with a seed', { timeout: 30_000 }, async () => {
    expect(dataset.stats.train.windows).toBeGreaterThan(32);
    expect(dataset.stats.validation.windows).toBeGreaterThan(0);
    const progress: TrainProgress[] = [];
    const before = tf.memory().numTensors;
    const a = await trainTft(small({ patience: 0, onProgress: (p) => progress.push(p) }));
    expect(a.history).toHaveLength(2);
    expect(a.backend.tfName).toBe('wasm');
    for (const h of a.history) {
      expect(Number.isFinite(h.trainLoss)).toBe(true);
      expect(Number.isFinite(h.validationLoss)).toBe(true);
    }
    // 2 steps of 16 per epoch, plus one validation event per epoch.
    expect(progress.filter((p) => p.phase === 'train')).toHaveLength(4);
    expect(progress.filter((p) => p.phase === 'validation').map((p) => p.epoch)).toEqual([1, 2]);
    expect(progress.at(-1)!.samplesPerSec).toBeGreaterThan(0);
    expect(progress.at(-1)!.etaSeconds).toBe(0);
    expect(a.samplesPerSecond).toBeGreaterThan(0);
    expect(a.bestEpoch).toBeGreaterThanOrEqual(1);
    expect(a.positiveWeight).toBeGreaterThanOrEqual(1);

    const b = await trainTft(small({ patience: 0 }));
    expect(b.history.map((h) => [h.trainLoss, h.validationLoss])).toEqual(a.history.map((h) => [h.trainLoss, h.validationLoss]));
    const wa = a.model.serialize();
    const wb = b.model.serialize();
    for (const name of Object.keys(wa)) expect(wb[name]!.data).toEqual(wa[name]!.data);
    a.model.dispose();
    b.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops early on a plateau and restores the best weights', { timeout: 30_000 }, async () => {
    // No later epoch can beat the first by minDelta: patience 1 stops after epoch 2.
    // No prior shift here, so that the returned model's loss is epoch 1's as measured.
    const r = await trainTft(small({ epochs: 5, patience: 1, minDelta: 1e9, oversamplePositives: 1 }));
    expect(r.history).toHaveLength(2);
    expect(r.bestEpoch).toBe(1);
    expect(r.history[1]!.validationLoss).not.toBe(r.history[0]!.validationLoss);
    // The returned weights are epoch 1's: the same validation subset gives epoch 1's loss.
    const rows = sampleIndices(dataset.validation.size, 32, seededRandom((5 ^ 0x7a11d) >>> 0)).sort();
    const loss = evaluateLoss(r.model, dataset, 'validation', rows, { batchSize: 16, positiveWeight: r.positiveWeight });
    expect(loss).toBeCloseTo(r.history[0]!.validationLoss!, 5);
    r.model.dispose();
  });

  it('cancels via AbortSignal with TrainingCancelled and leaves no tensors behind', { timeout: 30_000 }, async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let steps = 0;
    const run = trainTft(
      small({
        epochs: 3,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'train' && ++steps === 2) controller.abort();
        },
      }),
    );
    await expect(run).rejects.toBeInstanceOf(TrainingCancelled);
    expect(steps).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    // Already aborted: refused before anything is built.
    await expect(trainTft(small({ signal: AbortSignal.abort() }))).rejects.toBeInstanceOf(TrainingCancelled);
  });

  it('oversampling positives k times ends with the risk logit shifted by -ln k (prior shift)', { timeout: 30_000 }, async () => {
    const shifted = await trainTft(small({ epochs: 1, oversamplePositives: 4 }));
    const batch = dataset.materialize('validation', [0, 1, 2, 3]);
    const before = tf.tidy(() => Array.from(shifted.model.forward(shifted.model.inputsFromBatch(batch)).riskLogit.dataSync()));
    shiftRiskPrior(shifted.model, 1 / 4); // undo: + ln 4
    const undone = tf.tidy(() => Array.from(shifted.model.forward(shifted.model.inputsFromBatch(batch)).riskLogit.dataSync()));
    before.forEach((z, i) => expect(undone[i]! - z).toBeCloseTo(Math.log(4), 5));
    expect(shifted.settings.oversamplePositives).toBe(4);
    shifted.model.dispose();
  });

  it('sampleIndices draws distinct indices, seeded', () => {
    const a = sampleIndices(100, 10, seededRandom(3));
    expect(new Set(a).size).toBe(10);
    expect([...a].every((i) => i >= 0 && i < 100)).toBe(true);
    expect(sampleIndices(100, 10, seededRandom(3))).toEqual(a);
    expect(sampleIndices(5, 10, seededRandom(3))).toHaveLength(5);
  });
});
