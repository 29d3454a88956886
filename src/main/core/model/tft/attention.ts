import type { Ops } from '../ops';
import { dense } from './dense';
import { denseParams, type ParamSpec } from './params';

/**
 * Interpretable multi-head attention (Lim et al. 2019, eq. 14-16):
 *   A_h = softmax(Q W_Q^h (K W_K^h)^T / sqrt(d) + causal mask)     per head h
 *   A   = mean_h A_h                                               (B, Tq, T)  the interpretation
 *   out = (A V W_V) W_H                                            (B, Tq, H)
 * Heads have their own queries and keys but share one value projection, so averaging the
 * attention matrices loses nothing and their mean is what the model actually used.
 *
 * Queries are the positions [queryStart, T) (the decoder steps, in the TFT); keys and values all
 * T positions. The causal mask lets query position p see keys <= p only.
 */
export interface AttentionArgs {
  /** Model width H. */
  hidden: number;
  /** Heads; d = H / heads is the width of each head's queries and keys, and of the shared values. */
  heads: number;
}

export function attentionParams(name: string, args: AttentionArgs): ParamSpec[] {
  const d = args.hidden / args.heads;
  return [
    ...denseParams(`${name}.query`, args.hidden, args.heads * d),
    ...denseParams(`${name}.key`, args.hidden, args.heads * d),
    ...denseParams(`${name}.value`, args.hidden, d),
    ...denseParams(`${name}.out`, d, args.hidden),
  ];
}

/** Additive mask (Tq, T): 0 where key j <= queryStart + i, else -1e9 (exp underflows to exactly 0). */
export function causalMask(queries: number, keys: number, queryStart: number): Float32Array {
  const m = new Float32Array(queries * keys);
  for (let i = 0; i < queries; i++) for (let j = queryStart + i + 1; j < keys; j++) m[i * keys + j] = -1e9;
  return m;
}

export interface AttentionOutput<T> {
  /** (B, Tq, H). */
  output: T;
  /** (B, Tq, T): attention averaged over heads; rows sum to 1, zero above the causal diagonal. */
  weights: T;
}

/** x (B, T, H) -> output (B, T - queryStart, H), weights (B, T - queryStart, T). */
export function interpretableAttention<T>(ops: Ops<T>, name: string, args: AttentionArgs, x: T, queryStart: number): AttentionOutput<T> {
  const shape = ops.shape(x);
  const steps = shape[1]!;
  const heads = args.heads;
  const d = args.hidden / heads;
  const tq = steps - queryStart;
  const xq = queryStart === 0 ? x : ops.slice(x, [0, queryStart, 0], [-1, tq, -1]);

  // Scale the queries rather than the (larger) score tensor.
  const q = ops.mul(dense(ops, `${name}.query`, xq), ops.constant([1 / Math.sqrt(d)], [1])); // (B, Tq, heads*d)
  const qh = ops.transpose(ops.reshape(q, [-1, tq, heads, d]), [0, 2, 1, 3]); // (B, heads, Tq, d)
  const k = dense(ops, `${name}.key`, x); // (B, T, heads*d)
  const kh = ops.transpose(ops.reshape(k, [-1, steps, heads, d]), [0, 2, 3, 1]); // (B, heads, d, T)
  const scores = ops.add(ops.matMul(qh, kh), ops.constant(causalMask(tq, steps, queryStart), [tq, steps])); // (B, heads, Tq, T)
  const weights = ops.mean(ops.softmax(scores, 3), 1, false); // (B, Tq, T)

  const v = dense(ops, `${name}.value`, x); // (B, T, d)
  const attended = ops.matMul(weights, v); // (B, Tq, d)
  return { output: dense(ops, `${name}.out`, attended), weights };
}
