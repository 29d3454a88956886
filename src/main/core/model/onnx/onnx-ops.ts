import type { Ops } from '../ops';
import { OnnxBuildError, OnnxGraphBuilder, attr, type AttributeValue, type ElementType, type IoSpec, type ModelOptions } from './graph-builder';
import { broadcastShapes, formatShape, sizeOf } from './shapes';

/**
 * The ONNX backend of `Ops`: every call records nodes into a graph instead of computing, and
 * tracks the static shape of each value (batch = -1) so the forward pass can ask `shape()`
 * and so reshapes and slices are written with constant initializers, never with Shape nodes.
 *
 * Dtypes: every Ops value is float32 except graph inputs declared int32/int64, which only
 * `gather` takes as indices. The model's index inputs (profile, server bucket) are **int32**:
 * TF.js gathers with int32, the feature pipeline produces Int32Array, and ONNX Gather takes
 * int32 indices as they are (no BigInt conversion on every inference).
 */
export interface OnnxValue {
  /** The value's name in the graph. */
  readonly name: string;
  /** Static shape; -1 where the size is only known at run time (the batch, or a dim folded with it). */
  readonly shape: readonly number[];
  readonly dtype: ElementType;
}

/** A trained weight: row-major values and shape, e.g. a Dense kernel (in, out). */
export interface WeightTensor {
  data: Float32Array;
  shape: readonly number[];
}

type Attributes = Readonly<Record<string, AttributeValue>>;

export class OnnxOps implements Ops<OnnxValue> {
  readonly builder: OnnxGraphBuilder;
  private readonly weightValues = new Map<string, OnnxValue>();
  private readonly constantCache = new Map<string, string>();

  constructor(
    private readonly weights: ReadonlyMap<string, WeightTensor>,
    builder: OnnxGraphBuilder = new OnnxGraphBuilder(),
  ) {
    this.builder = builder;
  }

  // --- graph boundary (not part of Ops: only the exporter declares inputs and outputs) ---

  /** Declares a graph input; `spec.shape` uses -1 for the batch (first dimension). */
  input(spec: IoSpec): OnnxValue {
    const name = this.builder.input(spec);
    return { name, shape: [...spec.shape], dtype: spec.dtype };
  }

  /** Declares `value` a graph output named `name`, with its tracked shape and dtype. */
  output(value: OnnxValue, name: string, doc?: string): IoSpec {
    const spec: IoSpec = { name, dtype: value.dtype, shape: [...value.shape], ...(doc ? { doc } : {}) };
    this.builder.output(value.name, spec);
    return spec;
  }

  /** The serialised model. */
  toBytes(options: ModelOptions = {}): Uint8Array {
    return this.builder.toBytes(options);
  }

  /** Weights provided but never asked for: an exporter treats any as a definition mismatch. */
  unusedWeights(): string[] {
    return [...this.weights.keys()].filter((name) => !this.weightValues.has(name));
  }

  // --- Ops ---

  weight(name: string): OnnxValue {
    const known = this.weightValues.get(name);
    if (known) return known;
    const w = this.weights.get(name);
    if (!w) throw new OnnxBuildError(`weight "${name}" is not among the ${this.weights.size} weights provided`);
    const initializer = this.builder.initializer(name, w.data, w.shape, { exactName: true });
    const value: OnnxValue = { name: initializer, shape: [...w.shape], dtype: 'float32' };
    this.weightValues.set(name, value);
    return value;
  }

  constant(values: Float32Array | number[], shape: readonly number[]): OnnxValue {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    if (data.length !== sizeOf(shape)) throw new OnnxBuildError(`constant: ${data.length} values do not fill ${formatShape(shape)}`);
    // Small constants (scales, epsilons, masks of a few values) recur: share one initializer each.
    const name = data.length <= 64 ? this.cachedInitializer('const', data, shape) : this.builder.initializer('const', data, shape);
    return { name, shape: [...shape], dtype: 'float32' };
  }

  add(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.binary('Add', a, b);
  }

  sub(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.binary('Sub', a, b);
  }

  mul(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.binary('Mul', a, b);
  }

  div(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.binary('Div', a, b);
  }

  sigmoid(x: OnnxValue): OnnxValue {
    return this.unary('Sigmoid', x);
  }

  tanh(x: OnnxValue): OnnxValue {
    return this.unary('Tanh', x);
  }

  relu(x: OnnxValue): OnnxValue {
    return this.unary('Relu', x);
  }

  elu(x: OnnxValue): OnnxValue {
    return this.unary('Elu', x, { alpha: attr.float(1) });
  }

  exp(x: OnnxValue): OnnxValue {
    return this.unary('Exp', x);
  }

  /** (..., M, K) x (K, N) -> (..., M, N); batch dims broadcast as numpy.matmul (ONNX MatMul is numpy's). */
  matMul(a: OnnxValue, b: OnnxValue): OnnxValue {
    this.requireFloat('matMul', a, b);
    if (a.shape.length < 2 || b.shape.length < 2) {
      throw new OnnxBuildError(`matMul needs rank >= 2 on both sides, got ${formatShape(a.shape)} x ${formatShape(b.shape)}`);
    }
    const k = a.shape[a.shape.length - 1]!;
    const kb = b.shape[b.shape.length - 2]!;
    if (k !== kb || k === -1) {
      throw new OnnxBuildError(`matMul: inner dimensions differ, ${formatShape(a.shape)} x ${formatShape(b.shape)}`);
    }
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matMul');
    const shape = [...batch, a.shape[a.shape.length - 2]!, b.shape[b.shape.length - 1]!];
    return this.op('MatMul', [a, b], shape);
  }

  /** x (...) -> same shape, normalised over `axis` (ONNX >= 13 Softmax is per-axis, like TF.js). */
  softmax(x: OnnxValue, axis: number): OnnxValue {
    this.requireAxis('softmax', x, axis);
    return this.unary('Softmax', x, { axis: attr.int(axis) });
  }

  /** x (..., H), gamma (H), beta (H) -> (..., H): LayerNormalization over the last axis (opset 17). */
  layerNorm(x: OnnxValue, gamma: OnnxValue, beta: OnnxValue, epsilon: number): OnnxValue {
    this.requireFloat('layerNorm', x, gamma, beta);
    const h = x.shape[x.shape.length - 1];
    if (gamma.shape.length !== 1 || gamma.shape[0] !== h || beta.shape.length !== 1 || beta.shape[0] !== h) {
      throw new OnnxBuildError(`layerNorm: gamma ${formatShape(gamma.shape)} and beta ${formatShape(beta.shape)} must be (${h}) for x ${formatShape(x.shape)}`);
    }
    return this.op('LayerNormalization', [x, gamma, beta], x.shape, { axis: attr.int(-1), epsilon: attr.float(epsilon) });
  }

  /** Equal shapes except along `axis`, whose sizes add up. */
  concat(xs: readonly OnnxValue[], axis: number): OnnxValue {
    const first = xs[0];
    if (!first) throw new OnnxBuildError('concat of nothing');
    if (xs.length === 1) return first;
    this.requireAxis('concat', first, axis);
    const shape = [...first.shape];
    for (const x of xs.slice(1)) {
      if (x.dtype !== first.dtype || x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
        throw new OnnxBuildError(`concat on axis ${axis}: ${formatShape(x.shape)} does not fit ${formatShape(first.shape)}`);
      }
      shape[axis] = shape[axis] === -1 || x.shape[axis] === -1 ? -1 : shape[axis]! + x.shape[axis]!;
    }
    return this.op('Concat', xs, shape, { axis: attr.int(axis) }, first.dtype);
  }

  /** Static slice; axes taken whole are left out of the node, and a no-op slice adds nothing. */
  slice(x: OnnxValue, begin: readonly number[], size: readonly number[]): OnnxValue {
    if (begin.length !== x.shape.length || size.length !== x.shape.length) {
      throw new OnnxBuildError(`slice: begin [${begin.join(', ')}] and size [${size.join(', ')}] need one entry per axis of ${formatShape(x.shape)}`);
    }
    const starts: bigint[] = [];
    const ends: bigint[] = [];
    const axes: bigint[] = [];
    const shape: number[] = [];
    x.shape.forEach((dim, axis) => {
      const b = begin[axis]!;
      const s = size[axis]!;
      if (dim === -1 && (b !== 0 || s !== -1)) {
        // A part of the batch would be a dynamic size that is not the batch: no model needs it,
        // and every output's dynamic dim is promised to be the batch.
        throw new OnnxBuildError(`slice: axis ${axis} of ${formatShape(x.shape)} is dynamic and can only be taken whole`);
      }
      const fits = Number.isInteger(b) && b >= 0 && (s === -1 || (Number.isInteger(s) && s >= 1)) && (dim === -1 || (s === -1 ? b < dim : b + s <= dim));
      if (!fits) throw new OnnxBuildError(`slice: begin ${b} size ${s} is outside axis ${axis} of ${formatShape(x.shape)}`);
      shape.push(dim === -1 ? -1 : s === -1 ? dim - b : s);
      const whole = b === 0 && (s === -1 || s === dim);
      if (whole) return;
      starts.push(BigInt(b));
      ends.push(BigInt(s === -1 ? dim : b + s));
      axes.push(BigInt(axis));
    });
    if (axes.length === 0) return x;
    return this.op('Slice', [x, this.int64(starts), this.int64(ends), this.int64(axes)], shape, undefined, x.dtype);
  }

  /** Reshape; one -1 at most. A fully static input gets the -1 resolved; a dynamic one keeps it. */
  reshape(x: OnnxValue, shape: readonly number[]): OnnxValue {
    const free = shape.filter((d) => d === -1).length;
    if (free > 1 || shape.some((d) => d !== -1 && (!Number.isInteger(d) || d < 1))) {
      // ONNX would read 0 as "copy this dimension", TF.js as an empty axis: neither is meant.
      throw new OnnxBuildError(`reshape to [${shape.join(', ')}]: sizes must be positive, with at most one -1`);
    }
    const known = shape.filter((d) => d !== -1).reduce((a, d) => a * d, 1);
    let out = [...shape];
    if (!x.shape.includes(-1)) {
      const total = sizeOf(x.shape);
      if (free === 1 ? total % known !== 0 : total !== known) {
        throw new OnnxBuildError(`reshape: ${formatShape(x.shape)} cannot become [${shape.join(', ')}]`);
      }
      out = shape.map((d) => (d === -1 ? total / known : d));
    } else if (free === 0) {
      // Only onnxruntime, at run time, could tell whether the batch fits a fixed shape.
      throw new OnnxBuildError(`reshape: ${formatShape(x.shape)} has a dynamic dimension, [${shape.join(', ')}] needs a -1 for it`);
    }
    return this.op('Reshape', [x, this.int64(out.map(BigInt))], out, undefined, x.dtype);
  }

  transpose(x: OnnxValue, perm: readonly number[]): OnnxValue {
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== x.shape.length || sorted.some((p, i) => p !== i)) {
      throw new OnnxBuildError(`transpose: [${perm.join(', ')}] is not a permutation of the axes of ${formatShape(x.shape)}`);
    }
    return this.op('Transpose', [x], perm.map((p) => x.shape[p]!), { perm: attr.ints(perm) }, x.dtype);
  }

  /** Inserts a size-1 axis at `axis` (0..rank). */
  expandDims(x: OnnxValue, axis: number): OnnxValue {
    if (!Number.isInteger(axis) || axis < 0 || axis > x.shape.length) {
      throw new OnnxBuildError(`expandDims: axis ${axis} outside 0..${x.shape.length} for ${formatShape(x.shape)}`);
    }
    const shape = [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)];
    return this.op('Unsqueeze', [x, this.int64([BigInt(axis)])], shape, undefined, x.dtype);
  }

  /** n tensors of shape S -> S with n inserted at `axis`: Unsqueeze each, one Concat. */
  stack(xs: readonly OnnxValue[], axis: number): OnnxValue {
    const first = xs[0];
    if (!first) throw new OnnxBuildError('stack of nothing');
    for (const x of xs) {
      if (x.dtype !== first.dtype || formatShape(x.shape) !== formatShape(first.shape)) {
        throw new OnnxBuildError(`stack: ${formatShape(x.shape)} differs from ${formatShape(first.shape)}`);
      }
    }
    const expanded = xs.map((x) => this.expandDims(x, axis));
    return this.concat(expanded, axis);
  }

  sum(x: OnnxValue, axis: number, keepDims: boolean): OnnxValue {
    this.requireAxis('sum', x, axis);
    // ReduceSum takes its axes as an input since opset 13.
    return this.op('ReduceSum', [x, this.int64([BigInt(axis)])], reducedShape(x.shape, axis, keepDims), { keepdims: attr.int(keepDims ? 1 : 0) });
  }

  mean(x: OnnxValue, axis: number, keepDims: boolean): OnnxValue {
    this.requireAxis('mean', x, axis);
    // ReduceMean still takes `axes` as an attribute in opset 17 (an input from 18).
    return this.op('ReduceMean', [x], reducedShape(x.shape, axis, keepDims), { axes: attr.ints([axis]), keepdims: attr.int(keepDims ? 1 : 0) });
  }

  /**
   * table (V, E), indices (...) int32 or int64 -> (..., E). Indices must lie in [0, V): ONNX
   * reads a negative index from the end and onnxruntime fails the run on one >= V, so the
   * inference module range-checks index inputs before running.
   */
  gather(table: OnnxValue, indices: OnnxValue): OnnxValue {
    this.requireFloat('gather (table)', table);
    if (indices.dtype !== 'int32' && indices.dtype !== 'int64') {
      throw new OnnxBuildError(`gather: indices "${indices.name}" must be int32 or int64, not ${indices.dtype}`);
    }
    if (table.shape.length < 1) throw new OnnxBuildError('gather: the table needs rank >= 1');
    return this.op('Gather', [table, indices], [...indices.shape, ...table.shape.slice(1)], { axis: attr.int(0) });
  }

  shape(x: OnnxValue): readonly number[] {
    return x.shape;
  }

  // --- beyond Ops: a fused recurrent layer (see `lstm`) ---

  /**
   * One ONNX LSTM node for a whole sequence, from weights in the Keras/TF.js layout:
   * x (B, T, I), kernel (I, 4H), recurrentKernel (H, 4H), bias (4H), gates ordered [i, f, c, o];
   * h0, c0 (B, H) -> sequence (B, T, H), h (B, H), c (B, H).
   *
   * Not in `Ops` (yet): recorded step by step through `Ops`, an LSTM costs ~15 nodes per time
   * step, and onnxruntime's per-node overhead then dominates small batches. The weights are
   * re-laid out into ONNX's [i, o, f, c] order by Slice/Concat/Transpose nodes over
   * initializers, which onnxruntime constant-folds when the session is created.
   */
  lstm(
    x: OnnxValue,
    kernel: OnnxValue,
    recurrentKernel: OnnxValue,
    bias: OnnxValue,
    h0: OnnxValue,
    c0: OnnxValue,
  ): { sequence: OnnxValue; h: OnnxValue; c: OnnxValue } {
    const [, steps, inputs] = x.shape;
    const hidden = recurrentKernel.shape[0];
    if (x.shape.length !== 3 || steps === undefined || inputs === undefined || hidden === undefined) {
      throw new OnnxBuildError(`lstm: x must be (B, T, I), got ${formatShape(x.shape)}`);
    }
    const want = (v: OnnxValue, shape: readonly number[], what: string): void => {
      if (formatShape(v.shape) !== formatShape(shape)) throw new OnnxBuildError(`lstm: ${what} is ${formatShape(v.shape)}, expected ${formatShape(shape)}`);
    };
    want(kernel, [inputs, 4 * hidden], 'kernel');
    want(recurrentKernel, [hidden, 4 * hidden], 'recurrentKernel');
    want(bias, [4 * hidden], 'bias');
    want(h0, [x.shape[0]!, hidden], 'h0');
    want(c0, [x.shape[0]!, hidden], 'c0');

    // Keras [i, f, c, o] -> ONNX [i, o, f, c], along the last axis.
    const iofc = (w: OnnxValue): OnnxValue => {
      const rank = w.shape.length;
      const part = (g: number): OnnxValue =>
        this.slice(
          w,
          w.shape.map((_, a) => (a === rank - 1 ? g * hidden : 0)),
          w.shape.map((_, a) => (a === rank - 1 ? hidden : -1)),
        );
      return this.concat([part(0), part(3), part(1), part(2)], rank - 1);
    };
    const W = this.expandDims(this.transpose(iofc(kernel), [1, 0]), 0); // (1, 4H, I)
    const R = this.expandDims(this.transpose(iofc(recurrentKernel), [1, 0]), 0); // (1, 4H, H)
    // ONNX adds an input bias and a recurrent bias; Keras has one: the recurrent one is zero.
    const B = this.expandDims(this.concat([iofc(bias), this.constant(new Float32Array(4 * hidden), [4 * hidden])], 0), 0); // (1, 8H)
    // onnxruntime's LSTM kernels take time-major input only (layout = 0).
    const xt = this.transpose(x, [1, 0, 2]); // (T, B, I)
    const [y, yh, yc] = this.builder.node(
      'LSTM',
      [xt.name, W.name, R.name, B.name, '', this.expandDims(h0, 0).name, this.expandDims(c0, 0).name],
      { outputs: 3, outputHint: 'lstm', attributes: { hidden_size: attr.int(hidden), direction: attr.string('forward') } },
    );
    const batch = x.shape[0]!;
    const ySeq: OnnxValue = { name: y!, shape: [steps, 1, batch, hidden], dtype: 'float32' };
    const sequence = this.transpose(this.squeeze(ySeq, 1), [1, 0, 2]);
    const h = this.squeeze({ name: yh!, shape: [1, batch, hidden], dtype: 'float32' }, 0);
    const c = this.squeeze({ name: yc!, shape: [1, batch, hidden], dtype: 'float32' }, 0);
    return { sequence, h, c };
  }

  // --- helpers ---

  private squeeze(x: OnnxValue, axis: number): OnnxValue {
    if (x.shape[axis] !== 1) throw new OnnxBuildError(`squeeze: axis ${axis} of ${formatShape(x.shape)} is not 1`);
    return this.op('Squeeze', [x, this.int64([BigInt(axis)])], x.shape.filter((_, a) => a !== axis), undefined, x.dtype);
  }

  private unary(opType: string, x: OnnxValue, attributes?: Attributes): OnnxValue {
    this.requireFloat(opType, x);
    return this.op(opType, [x], x.shape, attributes);
  }

  private binary(opType: string, a: OnnxValue, b: OnnxValue): OnnxValue {
    this.requireFloat(opType, a, b);
    return this.op(opType, [a, b], broadcastShapes(a.shape, b.shape, opType));
  }

  private op(
    opType: string,
    inputs: readonly (OnnxValue | string)[],
    shape: readonly number[],
    attributes?: Attributes,
    dtype: ElementType = 'float32',
  ): OnnxValue {
    const names = inputs.map((v) => (typeof v === 'string' ? v : v.name));
    const [name] = this.builder.node(opType, names, attributes ? { attributes } : {});
    return { name: name!, shape: [...shape], dtype };
  }

  /** A 1-D int64 initializer (shapes, starts, ends, axes), shared between nodes that need the same one. */
  private int64(values: readonly bigint[]): string {
    return this.cachedInitializer('i64', BigInt64Array.from(values), [values.length]);
  }

  private cachedInitializer(hint: string, data: Float32Array | BigInt64Array, shape: readonly number[]): string {
    const key = `${data instanceof Float32Array ? 'f' : 'l'}|${shape.join('x')}|${Array.from(data as ArrayLike<number | bigint>, String).join(',')}`;
    const cached = this.constantCache.get(key);
    if (cached !== undefined) return cached;
    const name = this.builder.initializer(hint, data, shape);
    this.constantCache.set(key, name);
    return name;
  }

  private requireFloat(what: string, ...xs: readonly OnnxValue[]): void {
    for (const x of xs) {
      if (x.dtype !== 'float32') throw new OnnxBuildError(`${what}: "${x.name}" is ${x.dtype}, float32 expected`);
    }
  }

  private requireAxis(what: string, x: OnnxValue, axis: number): void {
    if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
      throw new OnnxBuildError(`${what}: axis ${axis} outside 0..${x.shape.length - 1} for ${formatShape(x.shape)}`);
    }
  }
}

function reducedShape(shape: readonly number[], axis: number, keepDims: boolean): number[] {
  return keepDims ? shape.map((d, a) => (a === axis ? 1 : d)) : shape.filter((_, a) => a !== axis);
}
