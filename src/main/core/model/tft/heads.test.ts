import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headsParams, outputHeads } from './heads';
import { leakedTensors, useBackend } from './testing/fixtures';
import { TfjsOps } from './tfjs-ops';
import { WeightStore } from './weight-store';

let store: WeightStore;
let ops: TfjsOps;
const args = { hidden: 8, horizonSteps: 4, targets: 3, quantiles: 5, failureModes: 6 };

beforeAll(async () => {
  await useBackend('wasm');
  store = WeightStore.create(headsParams('heads', args), 7);
  ops = new TfjsOps(store);
});
afterAll(() => store.dispose());

describe('output heads', () => {
  it('(B, Td, H) and now (B, H) -> quantiles (B, Td, targets, Q), risk (B) in (0, 1), failure mode (B, F) summing to 1', () => {
    tf.tidy(() => {
      const o = outputHeads(ops, 'heads', args, tf.randomNormal([2, 4, 8]), tf.randomNormal([2, 8]));
      expect(o.quantiles.shape).toEqual([2, 4, 3, 5]);
      expect(o.riskLogit.shape).toEqual([2]);
      expect(Array.from(o.risk.dataSync())).toEqual(Array.from(tf.sigmoid(o.riskLogit).dataSync()));
      expect(o.failureMode.shape).toEqual([2, 6]);
      for (const s of tf.sum(o.failureMode, 1).dataSync()) expect(s).toBeCloseTo(1, 5);
    });
  });

  it('does not leak tensors, forward or backward', () => {
    const leaked = leakedTensors(() =>
      tf.tidy(() => {
        tf.grad((x: tf.Tensor) => {
          const o = outputHeads(ops, 'heads', args, x, tf.mean(x, 1));
          return tf.addN([tf.sum(o.quantiles), tf.sum(o.risk), tf.sum(o.failureLogits)]);
        })(tf.randomNormal([2, 4, 8]));
      }),
    );
    expect(leaked).toBe(0);
  });
});
