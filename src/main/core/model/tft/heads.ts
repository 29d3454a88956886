import type { Ops } from '../ops';
import { dense } from './dense';
import { denseParams, type ParamSpec } from './params';

/**
 * Output heads on the decoder's final features (B, Td, H):
 * - quantiles: one linear map per step to every (target, quantile) pair -> (B, Td, targets, Q);
 * - risk: P(an incident begins within the horizon), from the features averaged over the horizon
 *   and the temporal features of the last context step (the state "now", before any decoding),
 *   concatenated, through one ELU layer -> logit (B), probability sigmoid(logit) (B);
 * - failure mode: softmax over FeatureSpec.failureModes from the same hidden layer -> (B, F).
 * Risk and failure mode share their hidden layer: "something is coming" and "what" read the
 * same evidence, and the failure mode only learns from positive windows (few).
 */
export interface HeadsArgs {
  /** Feature width H. */
  hidden: number;
  /** Horizon steps Td. */
  horizonSteps: number;
  /** Forecast targets. */
  targets: number;
  /** Quantiles per target Q. */
  quantiles: number;
  /** Failure-mode classes F (index 0 = none). */
  failureModes: number;
}

export function headsParams(name: string, args: HeadsArgs): ParamSpec[] {
  return [
    // Zero kernel: with the forecast base (config.ts) the model starts from "as now" and learns the change.
    { name: `${name}.quantile.w`, shape: [args.hidden, args.targets * args.quantiles], init: 'zeros' },
    { name: `${name}.quantile.b`, shape: [args.targets * args.quantiles], init: 'zeros' },
    ...denseParams(`${name}.risk_hidden`, 2 * args.hidden, args.hidden),
    ...denseParams(`${name}.risk`, args.hidden, 1),
    ...denseParams(`${name}.failure`, args.hidden, args.failureModes),
  ];
}

export interface HeadsOutput<T> {
  /** (B, Td, targets, Q). */
  quantiles: T;
  /** (B): risk logit, and its probability. */
  riskLogit: T;
  risk: T;
  /** (B, F): failure-mode logits, and their softmax. */
  failureLogits: T;
  failureMode: T;
}

/** features (B, Td, H) and now (B, H), the last context step's temporal features -> heads. */
export function outputHeads<T>(ops: Ops<T>, name: string, args: HeadsArgs, features: T, now: T): HeadsOutput<T> {
  const quantiles = ops.reshape(dense(ops, `${name}.quantile`, features), [-1, args.horizonSteps, args.targets, args.quantiles]);
  const pooled = ops.concat([ops.mean(features, 1, false), now], 1); // (B, 2H)
  const hiddenRisk = ops.elu(dense(ops, `${name}.risk_hidden`, pooled));
  const riskLogit = ops.reshape(dense(ops, `${name}.risk`, hiddenRisk), [-1]);
  const failureLogits = dense(ops, `${name}.failure`, hiddenRisk);
  return { quantiles, riskLogit, risk: ops.sigmoid(riskLogit), failureLogits, failureMode: ops.softmax(failureLogits, 1) };
}
