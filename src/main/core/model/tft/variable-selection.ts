import type { Ops } from '../ops';
import { dense } from './dense';
import { grn, grnParams, groupedGrn, groupedGrnParams } from './grn';
import { composedEmbeddingDense, embeddingInputs, variableEmbedding, variableEmbeddingParams, type VariableEmbeddingArgs } from './input-embedding';
import { denseParams, type ParamSpec } from './params';

/**
 * Variable selection network (Lim et al. 2019, eq. 6-8), batched over variables.
 *
 * Every variable j is embedded, e_j (Hv). Then, with a handful of large ops whatever V is (never
 * a loop over variables — TF.js here is dispatch-bound):
 *   weights   v = softmax(GRN_flat([e_1 .. e_V], c_s))          (B, T, V)  the interpretation
 *   values    z_j = GRN_j(e_j)                                   (B, T, V, Hv)
 *   output    sum_j v_j P_j z_j + p                              (B, T, H)
 * P_j (Hv -> H, one slice of a (V*Hv, H) matrix) lifts each variable to the model width, so the
 * output is not confined to an Hv-dimensional subspace; with Hv = H there is no P and the output
 * is sum_j v_j z_j, exactly the paper's.
 *
 * Real-valued inputs ('real') are embedded here and the flattened GRN's first products are
 * composed with the (linear) embedding — same function, far fewer multiply-adds.
 */
export interface VsnArgs {
  /** Number of variables V. */
  variables: number;
  /** Width Hv of each variable's embedding and GRN (>= 2). */
  variableHidden: number;
  /** Output width H. */
  hidden: number;
  /** Width of the static selection context (B, contextSize); 0 = none (the static VSN). */
  contextSize: number;
  /**
   * 'shared': one GRN over all (row, variable) pairs, one 2-D product per layer (XNNPACK on wasm);
   * each variable still has its own embedding. 'per-variable': each variable its own GRN weights,
   * batched products (the paper; slower here). 'none': z_j = e_j, the embedding alone (no
   * per-variable non-linearity; the cheapest).
   */
  variableGrn: 'shared' | 'per-variable' | 'none';
  /**
   * 'embedded': the caller passes embeddings (B, T, V, Hv) (static categoricals).
   * 'real': the caller passes values (B, T, C) and masks (B, T, Cm), channels grouped into
   * variables and embedded here (`${name}.embedding`).
   */
  input: 'embedded' | 'real';
  /** For 'real': input channels C; default V (one channel per variable). */
  channels?: number;
  /** For 'real': the first Cm channels have a mask input. Default 0. */
  maskedChannels?: number;
  /** For 'real': the variable of each channel (length C); default channel c = variable c. */
  channelVariable?: readonly number[];
  /** Layer-norm epsilon. Default 1e-5. */
  epsilon?: number;
}

/** The caller's inputs, matching `VsnArgs.input`. */
export type VsnInput<T> = { embeddings: T } | { values: T; masks?: T };

/** The flattened GRN's width: pytorch-forecasting uses min(H, V), small for few variables. */
const flatHidden = (a: VsnArgs): number => Math.min(a.hidden, a.variables);

const embeddingArgs = (a: VsnArgs): VariableEmbeddingArgs => ({
  channels: a.channels ?? a.variables,
  maskedChannels: a.maskedChannels ?? 0,
  variables: a.variables,
  ...(a.channelVariable ? { channelVariable: a.channelVariable } : {}),
  width: a.variableHidden,
});

export function vsnParams(name: string, args: VsnArgs): ParamSpec[] {
  const v = args.variables;
  const hv = args.variableHidden;
  if (hv < 2) throw new Error(`${name}: variableHidden must be >= 2`);
  const specs: ParamSpec[] = [];
  if (args.input === 'real') specs.push(...variableEmbeddingParams(`${name}.embedding`, embeddingArgs(args)));
  specs.push(...grnParams(`${name}.flat`, { inputSize: v * hv, hiddenSize: flatHidden(args), outputSize: v, contextSize: args.contextSize }));
  if (args.variableGrn === 'shared') specs.push(...grnParams(`${name}.var`, { inputSize: hv, hiddenSize: hv, outputSize: hv }));
  else if (args.variableGrn === 'per-variable') specs.push(...groupedGrnParams(`${name}.var`, { groups: v, inputSize: hv, hiddenSize: hv, outputSize: hv }));
  if (hv !== args.hidden) specs.push(...denseParams(`${name}.proj`, v * hv, args.hidden));
  return specs;
}

export interface VsnOutput<T> {
  /** (B, T, H): the selected, combined input. */
  output: T;
  /** (B, T, V): selection weights, sum to 1 over V. */
  weights: T;
}

/**
 * input: embeddings (B, T, V, Hv), or values (B, T, C) and masks (B, T, Cm); context (B,
 * contextSize) when configured -> output (B, T, H), weights (B, T, V).
 */
export function variableSelection<T>(ops: Ops<T>, name: string, args: VsnArgs, input: VsnInput<T>, context?: T): VsnOutput<T> {
  const v = args.variables;
  const hv = args.variableHidden;
  const eps = args.epsilon ?? 1e-5;
  const flatArgs = { inputSize: v * hv, hiddenSize: flatHidden(args), outputSize: v, contextSize: args.contextSize, epsilon: eps };

  let e: T; // (B, T, V, Hv)
  let logits: T; // (B, T, V)
  if ('embeddings' in input) {
    if (args.input !== 'embedded') throw new Error(`${name}: expected values and masks`);
    e = input.embeddings;
    const shape = ops.shape(e);
    if (shape.length !== 4 || shape[2] !== v || shape[3] !== hv) throw new Error(`${name}: embeddings [${shape.join(',')}], expected [B, T, ${v}, ${hv}]`);
    logits = grn(ops, `${name}.flat`, flatArgs, ops.reshape(e, [-1, shape[1]!, v * hv]), context);
  } else {
    if (args.input !== 'real') throw new Error(`${name}: expected embeddings`);
    const ea = embeddingArgs(args);
    const shape = ops.shape(input.values);
    if (shape.length !== 3 || shape[2] !== ea.channels) throw new Error(`${name}: values [${shape.join(',')}], expected [B, T, ${ea.channels}]`);
    e = variableEmbedding(ops, `${name}.embedding`, ea, input.values, input.masks);
    const u = embeddingInputs(ops, input.values, input.masks); // (B, T, C + Cm), once for both products
    const products = {
      fc1: composedEmbeddingDense(ops, `${name}.embedding`, ea, `${name}.flat.fc1`, flatHidden(args), u),
      skip: composedEmbeddingDense(ops, `${name}.embedding`, ea, `${name}.flat.skip`, v, u),
    };
    logits = grn(ops, `${name}.flat`, flatArgs, products, context);
  }
  const steps = ops.shape(e)[1]!;
  const weights = ops.softmax(logits, 2);

  // Each variable through its GRN -> z (B*T, V, Hv).
  let z: T;
  if (args.variableGrn === 'none') {
    z = ops.reshape(e, [-1, v, hv]);
  } else if (args.variableGrn === 'shared') {
    const rows = ops.reshape(e, [-1, hv]);
    z = ops.reshape(grn(ops, `${name}.var`, { inputSize: hv, hiddenSize: hv, outputSize: hv, epsilon: eps }, rows), [-1, v, hv]);
  } else {
    const groups = ops.transpose(ops.reshape(e, [-1, v, hv]), [1, 0, 2]); // (V, B*T, Hv)
    const out = groupedGrn(ops, `${name}.var`, { groups: v, inputSize: hv, hiddenSize: hv, outputSize: hv, epsilon: eps }, groups);
    z = ops.transpose(out, [1, 0, 2]);
  }

  if (hv === args.hidden) {
    // sum_j v_j z_j as (B*T, 1, V) x (B*T, V, H) -> (B*T, 1, H).
    const combined = ops.matMul(ops.reshape(weights, [-1, 1, v]), z);
    return { output: ops.reshape(combined, [-1, steps, hv]), weights };
  }
  // sum_j v_j P_j z_j = [v_1 z_1, .., v_V z_V] P: scale, flatten, one product.
  const scaled = ops.mul(z, ops.reshape(weights, [-1, v, 1])); // (B*T, V, Hv)
  const output = dense(ops, `${name}.proj`, ops.reshape(scaled, [-1, steps, v * hv]));
  return { output, weights };
}
