/**
 * The operations the TFT is written in, once, for two backends:
 * - `tfjs` executes them eagerly on TF.js tensors (training, with autodiff);
 * - `onnx` records them as nodes of an ONNX graph (export), with the trained weights as
 *   initializers.
 * The forward pass is one function generic over `Ops<T>`, so the exported graph computes what
 * was trained by construction; the parity test (onnxruntime-node vs TF.js within 1e-4) checks it.
 *
 * Shapes are static: every dimension is known when the graph is built, except the batch (the
 * first dimension of inputs), which stays dynamic in ONNX (`B`). Shape comments use (B, T, H).
 * Axis arguments are non-negative and count from the front, batch included.
 */
export interface Ops<T> {
  /** A named weight (trainable in tfjs, an initializer in onnx). `name` is unique and stable. */
  weight(name: string): T;
  /** A constant known at build time. */
  constant(values: Float32Array | number[], shape: readonly number[]): T;

  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  /** a / b, elementwise with broadcasting. */
  div(a: T, b: T): T;
  sigmoid(x: T): T;
  tanh(x: T): T;
  relu(x: T): T;
  /** ELU with alpha 1 (the GRN's activation). */
  elu(x: T): T;
  exp(x: T): T;

  /** (..., M, K) x (K, N) -> (..., M, N), or batched (..., M, K) x (..., K, N) when both have rank >= 3. */
  matMul(a: T, b: T): T;
  /** Softmax over one axis. */
  softmax(x: T, axis: number): T;
  /** Layer normalisation over the last axis, with learned scale and offset of shape (H). */
  layerNorm(x: T, gamma: T, beta: T, epsilon: number): T;

  concat(xs: readonly T[], axis: number): T;
  /** Static slice: `begin` and `size` per axis; size -1 means "to the end". */
  slice(x: T, begin: readonly number[], size: readonly number[]): T;
  /** Reshape; -1 allowed once (the batch, usually). */
  reshape(x: T, shape: readonly number[]): T;
  transpose(x: T, perm: readonly number[]): T;
  /** Inserts an axis of size 1. */
  expandDims(x: T, axis: number): T;
  /** Stacks equal-shape tensors along a new axis. */
  stack(xs: readonly T[], axis: number): T;
  /** Sum and mean over one axis. */
  sum(x: T, axis: number, keepDims: boolean): T;
  mean(x: T, axis: number, keepDims: boolean): T;
  /** Rows of `table` (V, E) picked by integer `indices` (B): -> (B, E). */
  gather(table: T, indices: T): T;

  /** The static shape, with the batch as -1 where dynamic. */
  shape(x: T): readonly number[];
}
