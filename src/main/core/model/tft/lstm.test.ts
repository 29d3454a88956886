import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genericLstmScan, lstmEncoderDecoder, lstmParams } from './lstm';
import { leakedTensors, maxAbsDiff, useBackend } from './testing/fixtures';
import { fusedLstmScan } from './tfjs-lstm';
import { TfjsOps } from './tfjs-ops';
import { WeightStore } from './weight-store';

let store: WeightStore;
let ops: TfjsOps;
const H = 6;

beforeAll(async () => {
  await useBackend('wasm');
  store = WeightStore.create(lstmParams('lstm', { inputSize: 5, hidden: H }), 4);
  ops = new TfjsOps(store);
});
afterAll(() => store.dispose());

function data(): { enc: tf.Tensor; dec: tf.Tensor; h0: tf.Tensor; c0: tf.Tensor } {
  return {
    enc: tf.randomNormal([3, 7, 5], 0, 1, 'float32', 1),
    dec: tf.randomNormal([3, 4, 5], 0, 1, 'float32', 2),
    h0: tf.randomNormal([3, H], 0, 0.5, 'float32', 3),
    c0: tf.randomNormal([3, H], 0, 0.5, 'float32', 4),
  };
}

describe('LSTM encoder-decoder', () => {
  it('(B, Te, in) + (B, Td, in) -> (B, Te + Td, H); forget bias starts at 1', () => {
    tf.tidy(() => {
      const { enc, dec, h0, c0 } = data();
      expect(lstmEncoderDecoder(ops, 'lstm', { inputSize: 5, hidden: H }, enc, dec, h0, c0).shape).toEqual([3, 11, H]);
      expect(Array.from(store.get('lstm.encoder.b').dataSync().slice(H, 2 * H))).toEqual(new Array(H).fill(1));
    });
  });

  it('the fused recurrence equals the generic one: outputs and every gradient', () => {
    tf.tidy(() => {
      const { enc, dec, h0, c0 } = data();
      const probe = tf.randomNormal([3, 11, H], 0, 1, 'float32', 9);
      const run = (fused: boolean) => (e: tf.Tensor, d: tf.Tensor, h: tf.Tensor, c: tf.Tensor) =>
        lstmEncoderDecoder(ops, 'lstm', { inputSize: 5, hidden: H }, e, d, h, c, fused ? fusedLstmScan() : genericLstmScan(ops));
      expect(maxAbsDiff(run(true)(enc, dec, h0, c0).dataSync(), run(false)(enc, dec, h0, c0).dataSync())).toBeLessThan(2e-6);
      const weights = ['lstm.encoder.wx', 'lstm.encoder.wh', 'lstm.encoder.b', 'lstm.decoder.wx', 'lstm.decoder.wh', 'lstm.decoder.b'].map((n) => store.get(n));
      const grads = (fused: boolean) =>
        tf.variableGrads(() => tf.sum<tf.Scalar>(tf.mul(run(fused)(enc, dec, h0, c0), probe)), weights).grads;
      const gf = grads(true);
      const gg = grads(false);
      for (const w of weights) expect(maxAbsDiff(gf[w.name]!.dataSync(), gg[w.name]!.dataSync())).toBeLessThan(1e-4);
      // And w.r.t. the inputs and the initial state (the static contexts train through these).
      const inputGrads = (fused: boolean) => tf.grads((e: tf.Tensor, h: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(run(fused)(e, dec, h, c), probe)))([enc, h0, c0]);
      const a = inputGrads(true);
      const b = inputGrads(false);
      a.forEach((g, i) => expect(maxAbsDiff(g.dataSync(), b[i]!.dataSync())).toBeLessThan(1e-4));
    });
  });

  it('is causal: a change at step k leaves the outputs before k unchanged', () => {
    tf.tidy(() => {
      const { enc, dec, h0, c0 } = data();
      const y0 = lstmEncoderDecoder(ops, 'lstm', { inputSize: 5, hidden: H }, enc, dec, h0, c0, fusedLstmScan());
      const bumped = tf.add(dec, tf.oneHot(tf.tensor1d([2], 'int32'), 4).reshape([1, 4, 1]).mul(5));
      const y1 = lstmEncoderDecoder(ops, 'lstm', { inputSize: 5, hidden: H }, enc, bumped, h0, c0, fusedLstmScan());
      const before = (y: tf.Tensor) => tf.slice(y, [0, 0, 0], [-1, 7 + 2, -1]).dataSync();
      expect(Array.from(before(y1))).toEqual(Array.from(before(y0)));
      expect(maxAbsDiff(tf.slice(y1, [0, 9, 0], [-1, 1, -1]).dataSync(), tf.slice(y0, [0, 9, 0], [-1, 1, -1]).dataSync())).toBeGreaterThan(1e-3);
    });
  });

  it('does not leak tensors, fused or generic, forward or backward', () => {
    const leaked = leakedTensors(() =>
      tf.tidy(() => {
        const { enc, dec, h0, c0 } = data();
        for (const scan of [fusedLstmScan(), genericLstmScan(ops)]) {
          tf.variableGrads(() => tf.sum<tf.Scalar>(lstmEncoderDecoder(ops, 'lstm', { inputSize: 5, hidden: H }, enc, dec, h0, c0, scan)), store.variables());
        }
      }),
    );
    expect(leaked).toBe(0);
  });
});
