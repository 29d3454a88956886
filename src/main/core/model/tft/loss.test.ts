import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { failureLoss, quantileLoss, riskLoss, tftLoss, DEFAULT_QUANTILE_WEIGHT } from './loss';
import { leakedTensors, useBackend } from './testing/fixtures';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('losses', () => {
  it('pinball loss: q (y - yq) above the quantile, (1 - q) (yq - y) below, masked entries ignored', () => {
    tf.tidy(() => {
      // One window, one step, two targets, quantiles [0.1, 0.9]; target 1 is masked out.
      const pred = tf.tensor4d([0, 0, 5, 5], [1, 1, 2, 2]);
      const y = tf.tensor3d([1, 100], [1, 1, 2]);
      const mask = tf.tensor3d([1, 0], [1, 1, 2]);
      // y = 1 vs yq = 0: q=0.1 -> 0.1; q=0.9 -> 0.9; mean over 2 quantiles = 0.5.
      expect(quantileLoss(pred, y, mask, [0.1, 0.9]).dataSync()[0]).toBeCloseTo(0.5, 6);
      // Over-prediction: y = 1 vs yq = 3 -> (1 - q) * 2: 1.8 and 0.2, mean 1.0.
      expect(quantileLoss(tf.tensor4d([3, 3], [1, 1, 1, 2]), tf.tensor3d([1], [1, 1, 1]), tf.ones([1, 1, 1]), [0.1, 0.9]).dataSync()[0]).toBeCloseTo(1.0, 6);
      // Nothing observed: 0, not NaN.
      expect(quantileLoss(pred, y, tf.zeros([1, 1, 2]), [0.1, 0.9]).dataSync()[0]).toBe(0);
    });
  });

  it('risk loss is binary cross-entropy on logits, positives weighted', () => {
    tf.tidy(() => {
      const z = tf.tensor1d([-2, 0.5, 3]);
      const y = tf.tensor1d([0, 1, 1]);
      const p = tf.sigmoid(z).dataSync();
      const bce = (w: number): number => -((Math.log(1 - p[0]!) + w * Math.log(p[1]!) + w * Math.log(p[2]!)) / 3);
      expect(riskLoss(z, y).dataSync()[0]).toBeCloseTo(bce(1), 5);
      expect(riskLoss(z, y, 5).dataSync()[0]).toBeCloseTo(bce(5), 5);
      // Stable for large logits.
      expect(Number.isFinite(riskLoss(tf.tensor1d([-80, 80]), tf.tensor1d([1, 0])).dataSync()[0]!)).toBe(true);
    });
  });

  it('failure loss: cross-entropy over positive windows only, 0 without positives', () => {
    tf.tidy(() => {
      const logits = tf.tensor2d([[2, 0, 0], [0, 3, 0], [0, 0, 0]]);
      const classes = tf.tensor1d([0, 1, 2], 'int32');
      const ls = tf.logSoftmax(logits).arraySync();
      // Windows 1 and 2 positive.
      expect(failureLoss(logits, classes, tf.tensor1d([0, 1, 1])).dataSync()[0]).toBeCloseTo(-(ls[1]![1]! + ls[2]![2]!) / 2, 5);
      expect(failureLoss(logits, classes, tf.tensor1d([0, 0, 0])).dataSync()[0]).toBe(0);
    });
  });

  it('the total combines the parts with the documented weights', () => {
    tf.tidy(() => {
      const out = { quantiles: tf.randomNormal([2, 3, 2, 3]), riskLogit: tf.randomNormal([2]), failureLogits: tf.randomNormal([2, 4]) };
      const y = { targets: tf.randomNormal([2, 3, 2]), targetMask: tf.ones([2, 3, 2]), risk: tf.tensor1d([1, 0]), failureMode: tf.tensor1d([2, 0], 'int32') };
      const l = tftLoss(out, y, { quantiles: [0.1, 0.5, 0.9], quantileWeight: 2, riskWeight: 3, failureWeight: 0.25 });
      const [t, q, r, f] = [l.total, l.quantile, l.risk, l.failure].map((s) => s.dataSync()[0]!);
      expect(t).toBeCloseTo(2 * q! + 3 * r! + 0.25 * f!, 5);
      const d = tftLoss(out, y, { quantiles: [0.1, 0.5, 0.9] });
      expect(d.total.dataSync()[0]).toBeCloseTo(DEFAULT_QUANTILE_WEIGHT * d.quantile.dataSync()[0]! + d.risk.dataSync()[0]! + 0.5 * d.failure.dataSync()[0]!, 5);
    });
  });

  it('does not leak tensors', () => {
    expect(
      leakedTensors(() =>
        tf.tidy(() => {
          const out = { quantiles: tf.randomNormal([2, 3, 2, 3]), riskLogit: tf.randomNormal([2]), failureLogits: tf.randomNormal([2, 4]) };
          const y = { targets: tf.randomNormal([2, 3, 2]), targetMask: tf.ones([2, 3, 2]), risk: tf.tensor1d([1, 0]), failureMode: tf.tensor1d([2, 0], 'int32') };
          tftLoss(out, y, { quantiles: [0.1, 0.5, 0.9] });
        }),
      ),
    ).toBe(0);
  });
});
