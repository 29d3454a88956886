import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HostAdam } from './host-adam';
import { tinyConfig, useBackend } from './testing/fixtures';
import { auroc, sliceBatch, syntheticBatch } from './testing/synthetic';
import { TftModel } from './tft-tfjs';
import { trainStep, type TrainLosses } from './train-step';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('training', () => {
  it('learns a planted signal: the loss falls and held-out risk AUROC exceeds 0.9, unknown servers included', { timeout: 120_000 }, () => {
    const c = tinyConfig({ contextSteps: 24, horizonSteps: 8, observedChannels: 4, knownChannels: 2, hidden: 16, heads: 2, variableHidden: 4 });
    const model = new TftModel(c, { seed: 3 });
    const train = syntheticBatch(c, { count: 1024, seed: 1 });
    const test = syntheticBatch(c, { count: 256, seed: 2 });
    const optimizer = new HostAdam({ learningRate: 3e-3, clipNorm: 1 });
    const losses: TrainLosses[] = [];
    const B = 32;
    for (let step = 0; step < 160; step++) {
      const from = (step * B) % train.size;
      losses.push(trainStep(model, sliceBatch(train, from, from + B), optimizer, { positiveWeight: 2 }));
    }
    const mean = (xs: TrainLosses[]): number => xs.reduce((s, l) => s + l.total, 0) / xs.length;
    expect(mean(losses.slice(-16))).toBeLessThan(0.5 * mean(losses.slice(0, 16)));
    const known = model.predict(test);
    expect(auroc(known.risk, test.risk)).toBeGreaterThan(0.9);
    // The same windows as servers never seen (bucket 0): predicted through their profile.
    const unknown = model.predict({ ...test, serverBucket: new Int32Array(test.size) });
    expect(auroc(unknown.risk, test.risk)).toBeGreaterThan(0.9);
    model.dispose();
  });

  it('a training step leaves the tensor count unchanged and returns finite losses', () => {
    const c = tinyConfig();
    const model = new TftModel(c, { seed: 4 });
    const batch = syntheticBatch(c, { count: 8, seed: 5 });
    const optimizer = new HostAdam();
    trainStep(model, batch, optimizer);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const l = trainStep(model, batch, optimizer);
      for (const v of Object.values(l)) expect(Number.isFinite(v)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('works with a stock TF.js optimizer too, and HostAdam matches tf.train.adam', () => {
    const c = tinyConfig();
    const batch = syntheticBatch(c, { count: 8, seed: 6 });
    const a = new TftModel(c, { seed: 7 });
    const b = new TftModel(c, { seed: 7 });
    const stock = tf.train.adam(1e-2);
    const host = new HostAdam({ learningRate: 1e-2 });
    for (let i = 0; i < 3; i++) {
      // Same augmentation draws for both (bucket masking off).
      trainStep(a, batch, stock, { unknownServerRate: 0 });
      trainStep(b, batch, host, { unknownServerRate: 0 });
    }
    const wa = a.serialize();
    const wb = b.serialize();
    let worst = 0;
    for (const name of Object.keys(wa)) {
      const x = wa[name]!.data;
      const y = wb[name]!.data;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
    }
    expect(worst).toBeLessThan(1e-4);
    stock.dispose();
    a.dispose();
    b.dispose();
  });

  it('HostAdam state round-trips (resume continues the same trajectory)', () => {
    const c = tinyConfig();
    const batch = syntheticBatch(c, { count: 8, seed: 8 });
    const a = new TftModel(c, { seed: 9 });
    const optA = new HostAdam({ learningRate: 1e-2 });
    trainStep(a, batch, optA, { unknownServerRate: 0 });
    const b = new TftModel(c, { seed: 10 });
    b.load(a.serialize());
    const optB = new HostAdam({ learningRate: 1e-2 });
    optB.setState(optA.getState());
    trainStep(a, batch, optA, { unknownServerRate: 0 });
    trainStep(b, batch, optB, { unknownServerRate: 0 });
    const wa = a.serialize();
    const wb = b.serialize();
    for (const name of Object.keys(wa)) expect(Array.from(wb[name]!.data), name).toEqual(Array.from(wa[name]!.data));
    a.dispose();
    b.dispose();
  });

  it('rejects a batch whose arrays do not match the configuration', () => {
    const c = tinyConfig();
    const model = new TftModel(c);
    const batch = syntheticBatch(c, { count: 4, seed: 1 });
    expect(() => trainStep(model, { ...batch, observed: batch.observed.slice(1) }, new HostAdam())).toThrow(/WindowBatch.observed/);
    expect(() => model.predict({ ...batch, profile: Int32Array.from([0, 0, 9, 0]) })).toThrow(/profile 9/);
    model.dispose();
  });
});
