import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attentionParams, interpretableAttention } from './attention';
import { leakedTensors, useBackend } from './testing/fixtures';
import { TfjsOps } from './tfjs-ops';
import { WeightStore } from './weight-store';

let store: WeightStore;
let ops: TfjsOps;
const args = { hidden: 8, heads: 4 };

beforeAll(async () => {
  await useBackend('wasm');
  store = WeightStore.create(attentionParams('att', args), 6);
  ops = new TfjsOps(store);
});
afterAll(() => store.dispose());

describe('interpretable multi-head attention', () => {
  it('(B, T, H) with queries from step s -> output (B, T - s, H), weights (B, T - s, T)', () => {
    tf.tidy(() => {
      const r = interpretableAttention(ops, 'att', args, tf.randomNormal([2, 10, 8]), 6);
      expect(r.output.shape).toEqual([2, 4, 8]);
      expect(r.weights.shape).toEqual([2, 4, 10]);
      for (const s of tf.sum(r.weights, 2).dataSync()) expect(s).toBeCloseTo(1, 5);
    });
  });

  it('causal mask: no weight on later steps, and changing step k never changes outputs before k', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 10, 8], 0, 1, 'float32', 3);
      const base = interpretableAttention(ops, 'att', args, x, 0);
      const w = base.weights.arraySync() as number[][][];
      for (const row of w) row.forEach((r, i) => r.forEach((v, j) => (j > i ? expect(v).toBe(0) : undefined)));
      for (const k of [0, 3, 9]) {
        const bump = tf.mul(tf.oneHot(tf.tensor1d([k], 'int32'), 10).reshape([1, 10, 1]), 3);
        const moved = interpretableAttention(ops, 'att', args, tf.add(x, bump), 0);
        if (k > 0) {
          const before = (t: tf.Tensor) => Array.from(tf.slice(t, [0, 0, 0], [-1, k, -1]).dataSync());
          expect(before(moved.output)).toEqual(before(base.output));
          expect(before(moved.weights)).toEqual(before(base.weights));
        }
        const at = (t: tf.Tensor) => Array.from(tf.slice(t, [0, k, 0], [-1, 1, -1]).dataSync());
        expect(at(moved.output)).not.toEqual(at(base.output));
      }
    });
  });

  it('heads share the value projection: the output is the head-averaged attention times V', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([1, 5, 8]);
      const r = interpretableAttention(ops, 'att', args, x, 2);
      const v = tf.add(tf.matMul(tf.reshape(x, [5, 8]), store.get('att.value.w')), store.get('att.value.b'));
      const expected = tf.add(tf.matMul(tf.matMul(tf.reshape(r.weights, [3, 5]), v), store.get('att.out.w')), store.get('att.out.b'));
      const got = tf.reshape(r.output, [3, 8]);
      expect(Math.max(...tf.abs(tf.sub(got, expected)).dataSync())).toBeLessThan(1e-5);
    });
  });

  it('does not leak tensors, forward or backward', () => {
    const leaked = leakedTensors(() =>
      tf.tidy(() => {
        tf.grad((x: tf.Tensor) => tf.sum(interpretableAttention(ops, 'att', args, x, 3).output))(tf.randomNormal([2, 6, 8]));
      }),
    );
    expect(leaked).toBe(0);
  });
});
