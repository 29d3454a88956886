import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateAddNorm, gateAddNormParams, grn, grnParams, groupedGrn, groupedGrnParams } from './grn';
import { leakedTensors, useBackend } from './testing/fixtures';
import { TfjsOps } from './tfjs-ops';
import { WeightStore } from './weight-store';

let store: WeightStore;
let ops: TfjsOps;

beforeAll(async () => {
  await useBackend('wasm');
  store = WeightStore.create(
    [
      ...grnParams('same', { inputSize: 6, hiddenSize: 5, outputSize: 6 }),
      ...grnParams('proj', { inputSize: 6, hiddenSize: 5, outputSize: 3, contextSize: 4 }),
      ...gateAddNormParams('gan', { inputSize: 5, outputSize: 6 }),
      ...groupedGrnParams('grouped', { groups: 4, inputSize: 6, hiddenSize: 5, outputSize: 6 }),
    ],
    3,
  );
  ops = new TfjsOps(store);
});

afterAll(() => store.dispose());

describe('gated residual network', () => {
  it('maps (R, in) and (B, T, in) to the output width; a context broadcasts over time', () => {
    tf.tidy(() => {
      expect(grn(ops, 'same', { inputSize: 6, hiddenSize: 5, outputSize: 6 }, tf.ones([7, 6])).shape).toEqual([7, 6]);
      const y = grn(ops, 'proj', { inputSize: 6, hiddenSize: 5, outputSize: 3, contextSize: 4 }, tf.randomNormal([2, 5, 6]), tf.randomNormal([2, 4]));
      expect(y.shape).toEqual([2, 5, 3]);
      // Layer-normed output: zero mean over the last axis (gamma 1, beta 0 at init).
      const means = tf.mean(y, -1).dataSync();
      for (const m of means) expect(Math.abs(m)).toBeLessThan(1e-5);
    });
  });

  it('the context changes the output; a missing or unexpected context is an error', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 5, 6]);
      const args = { inputSize: 6, hiddenSize: 5, outputSize: 3, contextSize: 4 };
      const a = grn(ops, 'proj', args, x, tf.zeros([2, 4])).dataSync();
      const b = grn(ops, 'proj', args, x, tf.ones([2, 4])).dataSync();
      expect(Array.from(a)).not.toEqual(Array.from(b));
      expect(() => grn(ops, 'proj', args, x)).toThrow(/context missing/);
      expect(() => grn(ops, 'same', { inputSize: 6, hiddenSize: 5, outputSize: 6 }, tf.ones([3, 6]), tf.ones([3, 4]))).toThrow(/not expected/);
      expect(() => grn(ops, 'same', { inputSize: 6, hiddenSize: 5, outputSize: 6 }, tf.ones([3, 5]))).toThrow(/input width 5/);
    });
  });

  it('gate + add & norm: (..., in) with skip (..., out) -> (..., out)', () => {
    tf.tidy(() => {
      expect(gateAddNorm(ops, 'gan', { inputSize: 5, outputSize: 6 }, tf.ones([2, 3, 5]), tf.ones([2, 3, 6])).shape).toEqual([2, 3, 6]);
    });
  });

  it('grouped GRN: (G, N, in) or a shared (1, N, in) -> (G, N, out), groups independent', () => {
    tf.tidy(() => {
      const args = { groups: 4, inputSize: 6, hiddenSize: 5, outputSize: 6 };
      const x = tf.randomNormal([1, 3, 6]);
      const shared = groupedGrn(ops, 'grouped', args, x);
      expect(shared.shape).toEqual([4, 3, 6]);
      const tiled = groupedGrn(ops, 'grouped', args, tf.tile(x, [4, 1, 1]));
      expect(Math.max(...tf.abs(tf.sub(shared, tiled)).dataSync())).toBeLessThan(1e-6);
      // Group 0's output does not depend on group 1's input.
      const x2 = tf.concat([x, tf.randomNormal([3, 3, 6])], 0);
      const x3 = tf.concat([x, tf.randomNormal([3, 3, 6])], 0);
      const g0a = tf.slice(groupedGrn(ops, 'grouped', args, x2), [0, 0, 0], [1, -1, -1]).dataSync();
      const g0b = tf.slice(groupedGrn(ops, 'grouped', args, x3), [0, 0, 0], [1, -1, -1]).dataSync();
      expect(Array.from(g0a)).toEqual(Array.from(g0b));
    });
  });

  it('does not leak tensors, forward or backward', () => {
    const leaked = leakedTensors(() =>
      tf.tidy(() => {
        const x = tf.randomNormal([2, 5, 6]);
        const c = tf.randomNormal([2, 4]);
        tf.grads((xx: tf.Tensor, cc: tf.Tensor) => tf.sum(grn(ops, 'proj', { inputSize: 6, hiddenSize: 5, outputSize: 3, contextSize: 4 }, xx, cc)))([x, c]);
        tf.grad((xx: tf.Tensor) => tf.sum(groupedGrn(ops, 'grouped', { groups: 4, inputSize: 6, hiddenSize: 5, outputSize: 6 }, xx)))(tf.randomNormal([4, 3, 6]));
      }),
    );
    expect(leaked).toBe(0);
  });
});
