import type { Ops } from '../ops';
import { affine } from './dense';
import type { ParamSpec } from './params';

/**
 * Input embeddings: every variable becomes a vector of width Hv before variable selection.
 *
 * A variable is one or more input channels (a metric's mean, max and slope are one variable,
 * "memory"; a calendar feature is its own). Each channel c has a value x_c and, for observed
 * channels, a mask m_c (1 = reported):
 *   e_v = sum over c in v of (x_c Wx_c + m_c Wm_c) + b_v          (Hv)
 * so a missing value (x = 0, m = 0) embeds differently from a reported 0. With one channel per
 * variable this is pytorch-forecasting's per-variable "prescaler" Linear(1, Hv), plus the mask.
 *
 * Generic form: one product of the inputs [x_1..x_C, m_1..m_Cm] with a (C + Cm, V*Hv) matrix
 * assembled from the per-channel weights and a constant 0/1 channel-to-variable map.
 */
export interface VariableEmbeddingArgs {
  /** Input channels C (values). */
  channels: number;
  /** The first Cm channels also have a mask input; 0 = none (known inputs). */
  maskedChannels: number;
  /** Variables V. */
  variables: number;
  /** Variable of each channel (length C, values 0..V-1, every variable used); absent = channel c is variable c. */
  channelVariable?: readonly number[];
  /** Embedding width Hv. */
  width: number;
}

/** The channel -> variable map, checked. */
export function channelVariables(args: VariableEmbeddingArgs): number[] {
  const map = args.channelVariable ? [...args.channelVariable] : Array.from({ length: args.channels }, (_, c) => c);
  if (map.length !== args.channels) throw new Error(`channelVariable has ${map.length} entries for ${args.channels} channels`);
  const used = new Set(map);
  if (map.some((v) => !Number.isInteger(v) || v < 0 || v >= args.variables) || used.size !== args.variables) {
    throw new Error(`channelVariable must map the ${args.channels} channels onto all of 0..${args.variables - 1}`);
  }
  return map;
}

/** (rows, V) 0/1 matrix: [c, v] = 1 where channel c belongs to variable v (first `rows` channels). */
function channelSelector(map: readonly number[], rows: number, v: number): Float32Array {
  const out = new Float32Array(rows * v);
  for (let c = 0; c < rows; c++) out[c * v + map[c]!] = 1;
  return out;
}

export function variableEmbeddingParams(name: string, args: VariableEmbeddingArgs): ParamSpec[] {
  channelVariables(args);
  // Glorot over (1 input, Hv outputs): each channel row is its own tiny layer.
  const limit = Math.sqrt(6 / (1 + args.width));
  const specs: ParamSpec[] = [
    { name: `${name}.value_w`, shape: [args.channels, args.width], init: { uniform: limit } },
    { name: `${name}.b`, shape: [args.variables, args.width], init: 'zeros' },
  ];
  if (args.maskedChannels > 0) specs.push({ name: `${name}.mask_w`, shape: [args.maskedChannels, args.width], init: { uniform: limit } });
  return specs;
}

/**
 * An optional capability of an `Ops` implementation: the whole embedding as one operation.
 * TF.js uses it because the generic form's weight gradient reduces a (B*T, C + Cm) x (B*T, V*Hv)
 * product over every row (~20 ms a step on wasm), where one pass over host copies does it.
 * Same function as `variableEmbedding`'s generic body.
 */
export interface EmbeddingOps<T> {
  /**
   * values (B, T, C), masks (B, T, Cm) or undefined, valueW (C, Hv), maskW (Cm, Hv) or
   * undefined, bias (V, Hv), channelVariable (C) -> (B, T, V, Hv).
   */
  embedVariables(values: T, masks: T | undefined, valueW: T, maskW: T | undefined, bias: T, channelVariable: readonly number[]): T;
}

function hasEmbedding<T>(ops: Ops<T>): ops is Ops<T> & EmbeddingOps<T> {
  return typeof (ops as Partial<EmbeddingOps<T>>).embedVariables === 'function';
}

/**
 * values (B, T, C), masks (B, T, Cm) when Cm > 0 -> (B, T, V, Hv).
 */
export function variableEmbedding<T>(ops: Ops<T>, name: string, args: VariableEmbeddingArgs, values: T, masks?: T): T {
  const { channels: c, maskedChannels: cm, variables: v, width: hv } = args;
  const map = channelVariables(args);
  if ((cm > 0) !== (masks !== undefined)) throw new Error(`${name}: masks ${masks === undefined ? 'missing' : 'not expected'}`);
  const valueW = ops.weight(`${name}.value_w`);
  const maskW = cm > 0 ? ops.weight(`${name}.mask_w`) : undefined;
  const bias = ops.weight(`${name}.b`);
  if (hasEmbedding(ops)) return ops.embedVariables(values, masks, valueW, maskW, bias, map);

  const steps = ops.shape(values)[1]!;
  // (C, 1, Hv) * (C, V, 1) -> (C, V, Hv) -> (C, V*Hv): row c holds Wx_c in its variable's block.
  const block = (w: T, rows: number): T => ops.reshape(ops.mul(ops.expandDims(w, 1), ops.constant(channelSelector(map, rows, v), [rows, v, 1])), [rows, v * hv]);
  let weight = block(valueW, c);
  let inputs = values;
  if (maskW !== undefined && masks !== undefined) {
    weight = ops.concat([weight, block(maskW, cm)], 0); // (C + Cm, V*Hv)
    inputs = ops.concat([values, masks], 2); // (B, T, C + Cm)
  }
  const e = ops.add(ops.matMul(inputs, weight), ops.reshape(bias, [v * hv])); // (B, T, V*Hv)
  return ops.reshape(e, [-1, steps, v, hv]);
}

/** The raw embedding inputs side by side: values (B, T, C), masks (B, T, Cm) -> (B, T, C + Cm). */
export function embeddingInputs<T>(ops: Ops<T>, values: T, masks?: T): T {
  return masks === undefined ? values : ops.concat([values, masks], 2);
}

/**
 * flat(e) W + b for a dense layer `${denseName}` (.w (V*Hv, N), .b (N)) reading the flattened
 * embeddings, computed from the raw inputs instead: the embedding is linear, so
 *   sum_v e_v W_v = sum_c x_c (Wx_c W_v(c)) + sum_c m_c (Wm_c W_v(c)) + sum_v b_v W_v
 * is one (B, T, C + Cm) x (C + Cm, N) product with composed weights: fewer multiply-adds than
 * (B, T, V*Hv) x (V*Hv, N), and no gradient through the wide embedding tensor.
 * inputs (B, T, C + Cm) from `embeddingInputs` -> (B, T, N).
 */
export function composedEmbeddingDense<T>(ops: Ops<T>, embedding: string, args: VariableEmbeddingArgs, denseName: string, outSize: number, inputs: T): T {
  const { channels: c, maskedChannels: cm, variables: v, width: hv } = args;
  const map = channelVariables(args);
  const identity = map.every((x, i) => x === i);
  const w = ops.weight(`${denseName}.w`); // (V*Hv, N)
  // W_v(c) for each channel: the variable's rows of W, picked by a constant 0/1 product.
  const perChannel = (rows: number): T =>
    identity && rows === v
      ? ops.reshape(w, [v, hv, outSize])
      : ops.reshape(ops.matMul(ops.constant(channelSelector(map, rows, v), [rows, v]), ops.reshape(w, [v, hv * outSize])), [rows, hv, outSize]);
  // (C, 1, Hv) x (C, Hv, N) -> (C, N): row c is Wx_c W_v(c).
  const compose = (embW: T, rows: number): T => ops.reshape(ops.matMul(ops.reshape(embW, [rows, 1, hv]), perChannel(rows)), [rows, outSize]);
  let composed = compose(ops.weight(`${embedding}.value_w`), c);
  if (cm > 0) composed = ops.concat([composed, compose(ops.weight(`${embedding}.mask_w`), cm)], 0); // (C + Cm, N)
  const bias = ops.add(ops.reshape(ops.matMul(ops.reshape(ops.weight(`${embedding}.b`), [1, v * hv]), w), [outSize]), ops.weight(`${denseName}.b`));
  return affine(ops, inputs, composed, bias);
}

/**
 * Static categorical embeddings: profile (P, Hs) and server bucket (S, Hs) tables.
 * Bucket 0 is the unknown server: it is trained (see `unknownServerRate` in training) so that a
 * server never seen is predicted through its profile.
 */
export interface StaticEmbeddingArgs {
  /** Profile vocabulary P. */
  profiles: number;
  /** Server hash buckets S, bucket 0 = unknown. */
  serverBuckets: number;
  /** Embedding width Hs. */
  width: number;
}

export function staticEmbeddingParams(name: string, args: StaticEmbeddingArgs): ParamSpec[] {
  return [
    { name: `${name}.profile`, shape: [args.profiles, args.width], init: 'glorot' },
    { name: `${name}.server`, shape: [args.serverBuckets, args.width], init: 'glorot' },
  ];
}

/** profile (B) int, serverBucket (B) int -> (B, 1, 2, Hs): two static variables at one "step". */
export function staticEmbedding<T>(ops: Ops<T>, name: string, args: StaticEmbeddingArgs, profile: T, serverBucket: T): T {
  const p = ops.gather(ops.weight(`${name}.profile`), profile); // (B, Hs)
  const s = ops.gather(ops.weight(`${name}.server`), serverBucket); // (B, Hs)
  return ops.expandDims(ops.stack([p, s], 1), 1);
}
