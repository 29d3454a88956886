import type { Ops } from '../ops';
import { dense, lastDim } from './dense';
import { denseParams, layerNormParams, type ParamSpec } from './params';

/**
 * Gated residual network (Lim et al. 2019, eq. 2-5; pytorch-forecasting's GatedResidualNetwork):
 *
 *   eta2 = ELU(x W1 + b1 + c Wc)          (the context term only when a context is given)
 *   eta1 = eta2 W2 + b2
 *   GRN(x, c) = LayerNorm(skip(x) + GLU(eta1)),   GLU(u) = (u Wa + ba) * sigmoid(u Wg + bg)
 *
 * skip(x) is x when input and output widths match, else a linear projection. The GLU lets the
 * network switch the whole block off (gate ~ 0) where the data does not need it.
 */
export interface GrnArgs {
  /** Width of x's last axis. */
  inputSize: number;
  /** Width of the two dense layers (eta2, eta1). */
  hiddenSize: number;
  /** Width of the output (and of the gate). */
  outputSize: number;
  /** Width of the static context (B, contextSize) added before the ELU; 0 or absent = no context. */
  contextSize?: number;
  /** Layer-norm epsilon. Default 1e-5. */
  epsilon?: number;
}

/** The gate + residual + norm that closes every GRN and follows the LSTM and the attention. */
export interface GateAddNormArgs {
  /** Width of the gated input's last axis. */
  inputSize: number;
  /** Width of the output, the skip input and the norm. */
  outputSize: number;
  /** Layer-norm epsilon. Default 1e-5. */
  epsilon?: number;
}

export function gateAddNormParams(name: string, args: GateAddNormArgs): ParamSpec[] {
  return [
    ...denseParams(`${name}.value`, args.inputSize, args.outputSize),
    ...denseParams(`${name}.gate`, args.inputSize, args.outputSize),
    ...layerNormParams(`${name}.norm`, args.outputSize),
  ];
}

/**
 * LayerNorm(skip + GLU(x)). x (..., inputSize), skip (..., outputSize) -> (..., outputSize).
 * The GLU's value and gate are two products rather than one product split in halves: slicing
 * the last axis copies the whole source on wasm, which costs more than the second product.
 */
export function gateAddNorm<T>(ops: Ops<T>, name: string, args: GateAddNormArgs, x: T, skip: T): T {
  const gated = ops.mul(dense(ops, `${name}.value`, x), ops.sigmoid(dense(ops, `${name}.gate`, x)));
  return ops.layerNorm(ops.add(skip, gated), ops.weight(`${name}.norm.gamma`), ops.weight(`${name}.norm.beta`), args.epsilon ?? 1e-5);
}

export function grnParams(name: string, args: GrnArgs): ParamSpec[] {
  const specs: ParamSpec[] = [];
  if (args.inputSize !== args.outputSize) specs.push(...denseParams(`${name}.skip`, args.inputSize, args.outputSize));
  specs.push(...denseParams(`${name}.fc1`, args.inputSize, args.hiddenSize));
  if (args.contextSize) specs.push(...denseParams(`${name}.context`, args.contextSize, args.hiddenSize, false));
  specs.push(...denseParams(`${name}.fc2`, args.hiddenSize, args.hiddenSize));
  specs.push(...gateAddNormParams(`${name}.gate`, { inputSize: args.hiddenSize, outputSize: args.outputSize }));
  return specs;
}

/**
 * The GRN's input-side products, when the caller can compute them more cheaply than from x
 * (the variable selection network composes them with the input embedding).
 */
export interface GrnInputProducts<T> {
  /** x W1 + b1: (..., hiddenSize). */
  fc1: T;
  /** skip(x): (..., outputSize); required when inputSize != outputSize. */
  skip: T;
}

/**
 * x (R, inputSize) or (B, T, inputSize); context (B, contextSize) when configured, broadcast over
 * T -> (same leading axes, outputSize). With `products`, x is not read.
 */
export function grn<T>(ops: Ops<T>, name: string, args: GrnArgs, x: T | GrnInputProducts<T>, context?: T): T {
  if (Boolean(args.contextSize) !== (context !== undefined)) throw new Error(`${name}: context ${context === undefined ? 'missing' : 'not expected'}`);
  let residual: T;
  let h: T;
  if (isProducts(x)) {
    residual = x.skip;
    h = x.fc1;
  } else {
    if (lastDim(ops, x) !== args.inputSize) throw new Error(`${name}: input width ${lastDim(ops, x)}, expected ${args.inputSize}`);
    residual = args.inputSize === args.outputSize ? x : dense(ops, `${name}.skip`, x);
    h = dense(ops, `${name}.fc1`, x);
  }
  if (context !== undefined) {
    let c = ops.matMul(context, ops.weight(`${name}.context.w`)); // (B, hidden)
    if (ops.shape(h).length === 3) c = ops.expandDims(c, 1); // (B, 1, hidden): same for every step
    h = ops.add(h, c);
  }
  h = dense(ops, `${name}.fc2`, ops.elu(h));
  return gateAddNorm(ops, `${name}.gate`, { inputSize: args.hiddenSize, outputSize: args.outputSize, epsilon: args.epsilon }, h, residual);
}

function isProducts<T>(x: T | GrnInputProducts<T>): x is GrnInputProducts<T> {
  return typeof x === 'object' && x !== null && 'fc1' in x && 'skip' in x;
}

/**
 * G independent GRNs (no context) run together: weights carry a leading group axis and every
 * product is one batched matMul. Used where several small GRNs see inputs of the same width (the
 * four static contexts; per-variable GRNs).
 */
export interface GroupedGrnArgs {
  /** Number of GRNs G. */
  groups: number;
  /** Width of each group's input. */
  inputSize: number;
  /** Width of each group's two dense layers. */
  hiddenSize: number;
  /** Width of each group's output. */
  outputSize: number;
  /** Layer-norm epsilon. Default 1e-5. */
  epsilon?: number;
}

function groupedDenseParams(name: string, groups: number, inSize: number, outSize: number): ParamSpec[] {
  return [
    { name: `${name}.w`, shape: [groups, inSize, outSize], init: 'glorot' },
    { name: `${name}.b`, shape: [groups, 1, outSize], init: 'zeros' },
  ];
}

/** x (G or 1, N, in) -> (G, N, out) with `${name}.w` (G, in, out), `${name}.b` (G, 1, out). */
function groupedDense<T>(ops: Ops<T>, name: string, x: T): T {
  return ops.add(ops.matMul(x, ops.weight(`${name}.w`)), ops.weight(`${name}.b`));
}

export function groupedGrnParams(name: string, args: GroupedGrnArgs): ParamSpec[] {
  const g = args.groups;
  const specs: ParamSpec[] = [];
  if (args.inputSize !== args.outputSize) specs.push(...groupedDenseParams(`${name}.skip`, g, args.inputSize, args.outputSize));
  specs.push(...groupedDenseParams(`${name}.fc1`, g, args.inputSize, args.hiddenSize));
  specs.push(...groupedDenseParams(`${name}.fc2`, g, args.hiddenSize, args.hiddenSize));
  specs.push(...groupedDenseParams(`${name}.value`, g, args.hiddenSize, args.outputSize));
  specs.push(...groupedDenseParams(`${name}.gate`, g, args.hiddenSize, args.outputSize));
  specs.push({ name: `${name}.norm.gamma`, shape: [g, 1, args.outputSize], init: 'ones' });
  specs.push({ name: `${name}.norm.beta`, shape: [g, 1, args.outputSize], init: 'zeros' });
  return specs;
}

/**
 * x (G, N, inputSize), or (1, N, inputSize) when all groups read the same input -> (G, N, outputSize).
 */
export function groupedGrn<T>(ops: Ops<T>, name: string, args: GroupedGrnArgs, x: T): T {
  const out = args.outputSize;
  // A shared (1, N, in) input is every group's residual: the add below broadcasts it.
  const residual = args.inputSize === out ? x : groupedDense(ops, `${name}.skip`, x);
  const h = groupedDense(ops, `${name}.fc2`, ops.elu(groupedDense(ops, `${name}.fc1`, x)));
  const gated = ops.mul(groupedDense(ops, `${name}.value`, h), ops.sigmoid(groupedDense(ops, `${name}.gate`, h)));
  const ones = ops.constant(new Float32Array(out).fill(1), [out]);
  const zeros = ops.constant(new Float32Array(out), [out]);
  // Each group has its own scale and offset (G, 1, out); Ops.layerNorm takes one (out) pair, so
  // normalise plainly and apply the per-group affine after.
  const normed = ops.layerNorm(ops.add(residual, gated), ones, zeros, args.epsilon ?? 1e-5);
  return ops.add(ops.mul(normed, ops.weight(`${name}.norm.gamma`)), ops.weight(`${name}.norm.beta`));
}
