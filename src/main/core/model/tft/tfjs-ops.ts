import * as tf from '@tensorflow/tfjs';
import type { Ops } from '../ops';
import { broadcastBinary, embedVariablesHost, gatherRows, layerNormFast, linear2d, linear2dConstX, matMul2dConstLeft, matMulFast, sameShape, type BinaryKind } from './tfjs-kernels';
import type { WeightStore } from './weight-store';

/**
 * `Ops` executed eagerly by TF.js, differentiable (training and TF.js inference).
 *
 * Products, broadcasting ops, layer norm and gather run through tfjs-kernels.ts, whose gradients
 * are written for the wasm backend's fast paths; it also offers `LinearOps.linear` (bias fused
 * into the product). Any backend works; the choices only matter for speed.
 */
export class TfjsOps implements Ops<tf.Tensor> {
  /**
   * Tensors known to be data (model inputs, constants, and whatever is computed from them
   * alone): a product whose left operand is data skips that operand's gradient, e.g. the
   * (B*T, 65) x (65, 280) input embedding's, about as costly as the product.
   */
  private readonly data = new WeakSet<tf.Tensor>();

  constructor(private readonly store: WeightStore) {}

  /** Declares model inputs as data (see `data`). Returns its argument. */
  markData<X extends tf.Tensor | Record<string, tf.Tensor>>(x: X): X {
    if (x instanceof tf.Tensor) this.data.add(x);
    else for (const t of Object.values(x)) this.data.add(t);
    return x;
  }

  isData(x: tf.Tensor): boolean {
    return this.data.has(x);
  }

  private track(out: tf.Tensor, ...inputs: readonly tf.Tensor[]): tf.Tensor {
    if (inputs.every((t) => this.data.has(t))) this.data.add(out);
    return out;
  }

  weight(name: string): tf.Tensor {
    return this.store.get(name);
  }

  constant(values: Float32Array | number[], shape: readonly number[]): tf.Tensor {
    return this.track(tf.tensor(values, [...shape], 'float32'));
  }

  add(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return this.binary('add', a, b);
  }
  sub(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return this.binary('sub', a, b);
  }
  mul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return this.binary('mul', a, b);
  }

  private binary(kind: BinaryKind, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    // Same shapes: the stock op and gradient are already the fast path.
    if (sameShape(a.shape, b.shape)) return this.track(kind === 'add' ? tf.add(a, b) : kind === 'sub' ? tf.sub(a, b) : tf.mul(a, b), a, b);
    return this.track(broadcastBinary(kind, a, b, this.data.has(a), this.data.has(b)), a, b);
  }
  div(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return this.track(tf.div(a, b), a, b);
  }
  sigmoid(x: tf.Tensor): tf.Tensor {
    return tf.sigmoid(x);
  }
  tanh(x: tf.Tensor): tf.Tensor {
    return tf.tanh(x);
  }
  relu(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }
  elu(x: tf.Tensor): tf.Tensor {
    return tf.elu(x);
  }
  exp(x: tf.Tensor): tf.Tensor {
    return tf.exp(x);
  }

  matMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    if (b.rank === 2 && this.data.has(a) && !this.data.has(b)) {
      const k = a.shape[a.rank - 1]!;
      const y = matMul2dConstLeft(tf.reshape(a, [-1, k]))(b);
      return tf.reshape(y, [...a.shape.slice(0, -1), b.shape[1]!]);
    }
    return this.track(matMulFast(a, b), a, b);
  }

  /**
   * `EmbeddingOps` (input-embedding.ts): the input embedding, host-side. Values and masks are
   * treated as data: no gradient flows to them (the model's inputs never need one).
   */
  embedVariables(values: tf.Tensor, masks: tf.Tensor | undefined, valueW: tf.Tensor, maskW: tf.Tensor | undefined, bias: tf.Tensor, channelVariable: readonly number[]): tf.Tensor {
    return embedVariablesHost(values, masks, valueW, maskW, bias, channelVariable);
  }

  /** `LinearOps` (dense.ts): x W + b with the bias fused into the product. */
  linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
    const k = x.shape[x.rank - 1]!;
    const n = w.shape[1]!;
    const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, k]);
    const y = this.data.has(x) ? linear2dConstX(x2 as tf.Tensor2D)(w, b) : linear2d(x2, w, b);
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), n]);
  }

  softmax(x: tf.Tensor, axis: number): tf.Tensor {
    const last = x.rank - 1;
    if (axis === last) return tf.softmax(x);
    // TF.js only normalises the last axis: move `axis` there and back.
    const perm = [...Array(x.rank).keys()];
    perm[axis] = last;
    perm[last] = axis;
    return tf.transpose(tf.softmax(tf.transpose(x, perm)), perm);
  }

  layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
    return layerNormFast(x, gamma, beta, epsilon);
  }

  concat(xs: readonly tf.Tensor[], axis: number): tf.Tensor {
    return this.track(tf.concat([...xs], axis), ...xs);
  }
  slice(x: tf.Tensor, begin: readonly number[], size: readonly number[]): tf.Tensor {
    return this.track(tf.slice(x, [...begin], [...size]), x);
  }
  reshape(x: tf.Tensor, shape: readonly number[]): tf.Tensor {
    return this.track(tf.reshape(x, [...shape]), x);
  }
  transpose(x: tf.Tensor, perm: readonly number[]): tf.Tensor {
    return this.track(tf.transpose(x, [...perm]), x);
  }
  expandDims(x: tf.Tensor, axis: number): tf.Tensor {
    return this.track(tf.expandDims(x, axis), x);
  }
  stack(xs: readonly tf.Tensor[], axis: number): tf.Tensor {
    return this.track(tf.stack([...xs], axis), ...xs);
  }
  sum(x: tf.Tensor, axis: number, keepDims: boolean): tf.Tensor {
    return tf.sum(x, axis, keepDims);
  }
  mean(x: tf.Tensor, axis: number, keepDims: boolean): tf.Tensor {
    return tf.mean(x, axis, keepDims);
  }

  gather(table: tf.Tensor, indices: tf.Tensor): tf.Tensor {
    return gatherRows(table, indices);
  }

  shape(x: tf.Tensor): readonly number[] {
    return x.shape;
  }
}

