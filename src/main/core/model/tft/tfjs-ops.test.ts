import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { leakedTensors, maxAbsDiff, useBackend } from './testing/fixtures';
import { TfjsOps } from './tfjs-ops';
import { WeightStore } from './weight-store';

/**
 * TfjsOps against stock TF.js: same values, same gradients (the custom backward passes exist
 * only for speed), and no leaked tensors.
 */
let ops: TfjsOps;
let store: WeightStore;

beforeAll(async () => {
  await useBackend('wasm');
  store = WeightStore.create([], 1);
  ops = new TfjsOps(store);
});

const rnd = (shape: number[], seed: number): tf.Tensor => tf.randomUniform(shape, -1, 1, 'float32', seed);

/** Values and gradients (w.r.t. every input) of sum(f(...) * probe) for both implementations. */
function compare(fast: (...x: tf.Tensor[]) => tf.Tensor, stock: (...x: tf.Tensor[]) => tf.Tensor, shapes: number[][], tol = 1e-5): void {
  tf.tidy(() => {
    const xs = shapes.map((s, i) => rnd(s, 11 + i));
    const yFast = fast(...xs);
    const yStock = stock(...xs);
    expect(yFast.shape).toEqual(yStock.shape);
    expect(maxAbsDiff(yFast.dataSync(), yStock.dataSync())).toBeLessThan(tol);
    const probe = rnd(yStock.shape, 99);
    const gFast = tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(fast(...x), probe)))(xs);
    const gStock = tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(stock(...x), probe)))(xs);
    gFast.forEach((g, i) => {
      expect(g.shape).toEqual(xs[i]!.shape);
      expect(maxAbsDiff(g.dataSync(), gStock[i]!.dataSync())).toBeLessThan(tol * 10);
    });
  });
}

describe('TfjsOps products', () => {
  it('matMul 2-D, rank-3 x 2-D, batched and broadcast batched match tf.matMul', () => {
    compare((a, b) => ops.matMul(a, b), (a, b) => tf.matMul(a, b), [[5, 4], [4, 3]]);
    compare((a, b) => ops.matMul(a, b), (a, b) => tf.matMul(tf.reshape(a, [-1, 4]), b).reshape([2, 5, 3]), [[2, 5, 4], [4, 3]]);
    compare((a, b) => ops.matMul(a, b), (a, b) => tf.matMul(a, b), [[2, 3, 5, 4], [2, 3, 4, 6]]);
    compare((a, b) => ops.matMul(a, b), (a, b) => tf.matMul(tf.tile(a, [3, 1, 1]), b), [[1, 5, 4], [3, 4, 2]]);
  });

  it('a reshaped weight used as another right-hand shape is still multiplied correctly (wasm caches operators by buffer)', () => {
    tf.tidy(() => {
      const w = rnd([4, 3], 31);
      const x = rnd([2, 4], 32);
      const y = rnd([2, 12], 33);
      ops.matMul(x, w); // caches an XNNPACK operator for w's buffer as (4, 3)
      const viaView = ops.matMul(y, tf.reshape(w, [12, 1]));
      const expected = tf.sum(tf.mul(y, tf.reshape(w, [1, 12])), 1, true);
      expect(maxAbsDiff(viaView.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    });
  });

  it('linear equals matMul + bias, with the same gradients', () => {
    compare((x, w, b) => ops.linear(x, w, b), (x, w, b) => tf.add(tf.matMul(x, w), b), [[7, 4], [4, 3], [3]]);
    compare((x, w, b) => ops.linear(x, w, b), (x, w, b) => tf.add(tf.matMul(tf.reshape(x, [-1, 4]), w), b).reshape([2, 3, 3]), [[2, 3, 4], [4, 3], [3]]);
  });

  it('a data left operand gets no gradient work but the weight gradient is unchanged', () => {
    tf.tidy(() => {
      const x = ops.markData(rnd([6, 4], 1));
      const w = rnd([4, 3], 2);
      const b = rnd([3], 3);
      const g1 = tf.grads((ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(ops.linear(x, ww, bb))))([w, b]);
      const g2 = tf.grads((ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(tf.add(tf.matMul(x, ww), bb))))([w, b]);
      expect(maxAbsDiff(g1[0]!.dataSync(), g2[0]!.dataSync())).toBeLessThan(1e-4);
      expect(maxAbsDiff(g1[1]!.dataSync(), g2[1]!.dataSync())).toBeLessThan(1e-4);
      const g3 = tf.grad((ww: tf.Tensor) => tf.sum(tf.square(ops.matMul(x, ww))))(w);
      const g4 = tf.grad((ww: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, ww))))(w);
      expect(maxAbsDiff(g3.dataSync(), g4.dataSync())).toBeLessThan(1e-4);
    });
  });
});

describe('TfjsOps broadcasting', () => {
  const cases: [number[], number[]][] = [
    [[6, 8], [8]],
    [[8], [6, 8]],
    [[2, 3, 8], [3, 8]],
    [[4, 5, 1], [5, 4]],
    [[3, 4, 2], [3, 4, 1]],
    [[1, 4, 3], [2, 4, 3]],
    [[2, 1, 3], [2, 4, 3]],
  ];
  for (const [a, b] of cases) {
    it(`add, sub and mul of [${a.join(',')}] and [${b.join(',')}] match stock TF.js`, () => {
      compare((x, y) => ops.add(x, y), (x, y) => tf.add(x, y), [a, b]);
      compare((x, y) => ops.sub(x, y), (x, y) => tf.sub(x, y), [a, b]);
      compare((x, y) => ops.mul(x, y), (x, y) => tf.mul(x, y), [a, b]);
    });
  }
});

describe('TfjsOps layerNorm, softmax, gather, embedding', () => {
  const reference = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  };
  it('layerNorm matches the formula, narrow (H = 4) and wide (H = 32) rows', () => {
    compare((x, g, b) => ops.layerNorm(x, g, b, 1e-5), (x, g, b) => reference(x, g, b), [[3, 5, 4], [4], [4]], 1e-4);
    compare((x, g, b) => ops.layerNorm(x, g, b, 1e-5), (x, g, b) => reference(x, g, b), [[7, 32], [32], [32]], 1e-4);
  });

  it('softmax over a non-last axis', () => {
    compare((x) => ops.softmax(x, 1), (x) => tf.transpose(tf.softmax(tf.transpose(x, [0, 2, 1])), [0, 2, 1]), [[2, 5, 3]]);
  });

  it('gather picks rows and scatters gradients (repeated indices accumulate)', () => {
    tf.tidy(() => {
      const table = rnd([4, 3], 5);
      const idx = tf.tensor1d([2, 0, 2, 3], 'int32');
      expect(ops.gather(table, idx).arraySync()).toEqual(tf.gather(table, idx).arraySync());
      const probe = rnd([4, 3], 6);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(ops.gather(t, idx), probe)))(table);
      const ref = tf.matMul(tf.transpose(tf.oneHot(idx, 4).toFloat()), probe);
      expect(maxAbsDiff(g.dataSync(), ref.dataSync())).toBeLessThan(1e-6);
    });
  });

  it('embedVariables (host) equals the generic formula, channels grouped into variables, weight gradients too', () => {
    tf.tidy(() => {
      // 5 channels -> 3 variables (channels 0,1 -> 0; 2 -> 1; 3,4 -> 2); the first 3 have masks.
      const map = [0, 0, 1, 2, 2];
      const values = ops.markData(rnd([2, 3, 5], 7));
      const masks = ops.markData(tf.cast(tf.greater(rnd([2, 3, 3], 8), -0.5), 'float32'));
      const generic = (wv: tf.Tensor, wm: tf.Tensor, b: tf.Tensor): tf.Tensor => {
        const m = tf.concat([masks, tf.zeros([2, 3, 2])], 2);
        const w = tf.concat([wm, tf.zeros([2, 4])], 0);
        const perChannel = tf.add(tf.mul(tf.expandDims(values, 3), wv), tf.mul(tf.expandDims(m, 3), w)); // (2, 3, 5, 4)
        const toVariables = tf.oneHot(tf.tensor1d(map, 'int32'), 3).toFloat(); // (5, 3)
        const summed = tf.transpose(tf.matMul(tf.reshape(tf.transpose(perChannel, [0, 1, 3, 2]), [-1, 5]), toVariables).reshape([2, 3, 4, 3]), [0, 1, 3, 2]);
        return tf.add(summed, b);
      };
      compare((wv, wm, b) => ops.embedVariables(values, masks, wv, wm, b, map), (wv, wm, b) => generic(wv, wm, b), [[5, 4], [3, 4], [3, 4]]);
    });
  });
});

describe('TfjsOps memory', () => {
  it('leaks no tensors across forward and backward of every custom op', () => {
    const leaked = leakedTensors(() =>
      tf.tidy(() => {
        const x = rnd([6, 8], 1);
        const w = rnd([8, 8], 2);
        const g = rnd([8], 3);
        const data = ops.markData(rnd([6, 8], 4));
        const f = (xx: tf.Tensor, ww: tf.Tensor, gg: tf.Tensor): tf.Scalar =>
          tf.sum<tf.Scalar>(ops.layerNorm(ops.add(ops.linear(xx, ww, gg), ops.mul(data, gg)), gg, gg, 1e-5));
        tf.grads(f)([x, w, g]);
        ops.gather(w, tf.tensor1d([1, 2], 'int32'));
      }),
    );
    expect(leaked).toBe(0);
  });
});
