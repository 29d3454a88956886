import * as tf from '@tensorflow/tfjs';
import type { WindowBatch } from '../features/feature-spec';
import { tftLoss, type TftLossArgs } from './loss';
import { disposeInputs, type TftModel } from './tft-tfjs';

/** The losses of one step, read back to the host. */
export interface TrainLosses {
  total: number;
  quantile: number;
  risk: number;
  failure: number;
}

export interface TrainStepOptions extends Omit<TftLossArgs, 'quantiles'> {
  /**
   * Probability of training a window as an unknown server (bucket 0), so the unknown bucket
   * learns "a server of this profile". Default 0.1.
   */
  unknownServerRate?: number;
  /** Random stream for that augmentation. Default: the model's seeded stream 1. */
  random?: () => number;
}

const streams = new WeakMap<TftModel, () => number>();

/**
 * One optimisation step on a batch: forward, loss, gradients (tf.variableGrads through
 * optimizer.minimize) and the optimizer's update. Every intermediate tensor is released; the
 * tensor count is unchanged after the call (tested).
 */
export function trainStep(model: TftModel, batch: WindowBatch, optimizer: tf.Optimizer, options: TrainStepOptions = {}): TrainLosses {
  const c = model.config;
  const b = batch.size;
  let random = options.random ?? streams.get(model);
  if (!random) {
    random = model.random(1);
    streams.set(model, random);
  }
  const inputs = model.inputsFromBatch(batch, { rate: options.unknownServerRate ?? 0.1, random });
  const targets = {
    targets: tf.tensor3d(expect('targets', batch.targets, b * c.horizonSteps * c.targets), [b, c.horizonSteps, c.targets]),
    targetMask: tf.tensor3d(expect('targetMask', batch.targetMask, b * c.horizonSteps * c.targets), [b, c.horizonSteps, c.targets]),
    risk: tf.tensor1d(expect('risk', batch.risk, b)),
    failureMode: tf.tensor1d(expect('failureMode', batch.failureMode, b), 'int32'),
  };
  let parts: tf.Tensor | undefined;
  let cost: tf.Scalar | null = null;
  try {
    cost = optimizer.minimize(
      () => {
        const loss = tftLoss(model.forward(inputs), targets, { ...options, quantiles: c.quantiles });
        // Kept past minimize's tidy so all four can be read with one sync.
        parts = tf.keep(tf.stack([loss.total, loss.quantile, loss.risk, loss.failure]));
        return loss.total;
      },
      true,
      model.store.variables(),
    );
    const v = parts!.dataSync();
    return { total: v[0]!, quantile: v[1]!, risk: v[2]!, failure: v[3]! };
  } finally {
    tf.dispose([cost ?? [], parts ?? [], targets.targets, targets.targetMask, targets.risk, targets.failureMode]);
    disposeInputs(inputs);
  }
}

function expect<A extends ArrayLike<number>>(what: string, a: A, n: number): A {
  if (a.length !== n) throw new Error(`WindowBatch.${what}: ${a.length} values, expected ${n}`);
  return a;
}
