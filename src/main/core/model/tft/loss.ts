import * as tf from '@tensorflow/tfjs';

/**
 * The training objective: forecasts, incident risk and failure mode learned jointly.
 *
 *   total = quantileWeight * L_quantile + riskWeight * L_risk + failureWeight * L_failure
 *
 * - L_quantile: pinball loss averaged over (window, step, target, quantile) where the target was
 *   observed (targetMask = 1); missing targets teach nothing rather than "predict 0".
 * - L_risk: binary cross-entropy on the risk logit, positives weighted by `positiveWeight`
 *   (incidents are rare: ~ negatives / positives balances them).
 * - L_failure: softmax cross-entropy over failure modes, on positive windows only (a window
 *   with no incident has no failure mode to learn), averaged over them; 0 without positives.
 */
export const DEFAULT_QUANTILE_WEIGHT = 5;

export interface TftLossArgs {
  /** Quantile levels, ascending (the model's). */
  quantiles: readonly number[];
  /**
   * Default 5: the pinball loss is in scaled units (a percentage / 100), ~0.01-0.03 per target,
   * while the risk and failure terms are ~0.2-1; at 1 the forecasts barely trained before early
   * stopping (P50 MASE against yesterday's value 1.5-2 for CPU and memory).
   */
  quantileWeight?: number;
  /** Default 1. */
  riskWeight?: number;
  /** Default 0.5: the failure mode refines a positive, it should not dominate the risk. */
  failureWeight?: number;
  /** Weight of positive windows in the risk loss. Default 1. */
  positiveWeight?: number;
}

export interface TftLossTargets {
  /** (B, Td, targets), scaled. */
  targets: tf.Tensor;
  /** (B, Td, targets): 1 where the target was observed. */
  targetMask: tf.Tensor;
  /** (B): 1 when an incident begins within the horizon. */
  risk: tf.Tensor;
  /** (B) int32: failure-mode class (0 = none). */
  failureMode: tf.Tensor;
}

export interface TftLossParts {
  total: tf.Scalar;
  quantile: tf.Scalar;
  risk: tf.Scalar;
  failure: tf.Scalar;
}

/** quantiles (B, Td, targets, Q) vs targets (B, Td, targets) -> scalar. */
export function quantileLoss(pred: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor, quantiles: readonly number[]): tf.Scalar {
  return tf.tidy(() => {
    const q = tf.tensor1d([...quantiles]);
    const err = tf.sub(tf.expandDims(targets, 3), pred); // (B, Td, targets, Q): y - y_q
    const pinball = tf.maximum(tf.mul(err, q), tf.mul(err, tf.sub(q, 1)));
    const masked = tf.mul(pinball, tf.expandDims(mask, 3));
    const count = tf.maximum(tf.mul(tf.sum(mask), quantiles.length), 1);
    return tf.div<tf.Scalar>(tf.sum(masked), count);
  });
}

/** Weighted binary cross-entropy on logits (B) vs labels (B), numerically stable. */
export function riskLoss(logits: tf.Tensor, labels: tf.Tensor, positiveWeight = 1): tf.Scalar {
  return tf.tidy(() => {
    // -[w y log s(z) + (1 - y) log(1 - s(z))] = w y softplus(-z) + (1 - y) softplus(z)
    const pos = tf.mul(tf.mul(labels, positiveWeight), tf.softplus(tf.neg(logits)));
    const neg = tf.mul(tf.sub(1, labels), tf.softplus(logits));
    return tf.mean<tf.Scalar>(tf.add(pos, neg));
  });
}

/** Cross-entropy of failure logits (B, F) vs classes (B), on windows with risk label 1 only. */
export function failureLoss(logits: tf.Tensor, classes: tf.Tensor, riskLabels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const f = logits.shape[1]!;
    const oneHot = tf.oneHot(tf.cast(classes, 'int32'), f);
    const perWindow = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1)); // (B)
    const positives = tf.sum(riskLabels);
    return tf.div<tf.Scalar>(tf.sum(tf.mul(perWindow, riskLabels)), tf.maximum(positives, 1));
  });
}

export function tftLoss(
  out: { quantiles: tf.Tensor; riskLogit: tf.Tensor; failureLogits: tf.Tensor },
  y: TftLossTargets,
  args: TftLossArgs,
): TftLossParts {
  const quantile = quantileLoss(out.quantiles, y.targets, y.targetMask, args.quantiles);
  const risk = riskLoss(out.riskLogit, y.risk, args.positiveWeight ?? 1);
  const failure = failureLoss(out.failureLogits, y.failureMode, y.risk);
  const total = tf.addN([tf.mul(quantile, args.quantileWeight ?? DEFAULT_QUANTILE_WEIGHT), tf.mul(risk, args.riskWeight ?? 1), tf.mul(failure, args.failureWeight ?? 0.5)]) as tf.Scalar;
  return { total, quantile, risk, failure };
}
