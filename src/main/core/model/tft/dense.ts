import type { Ops } from '../ops';

/**
 * Small building blocks shared by the layer files, generic over `Ops<T>`.
 */

/**
 * An optional capability of an `Ops` implementation: x W + b as one operation. TF.js uses it
 * to run the bias inside the XNNPACK product (a separately broadcast bias add costs as much as
 * the product on wasm); the ONNX recorder need not have it, and then gets MatMul + Add, the same
 * function.
 */
export interface LinearOps<T> {
  /** x (..., in), w (in, out), b (out) -> (..., out). */
  linear(x: T, w: T, b: T): T;
}

export function hasLinear<T>(ops: Ops<T>): ops is Ops<T> & LinearOps<T> {
  return typeof (ops as Partial<LinearOps<T>>).linear === 'function';
}

/** x (..., in) W (in, out) + b (out) -> (..., out). */
export function affine<T>(ops: Ops<T>, x: T, w: T, b: T): T {
  return hasLinear(ops) ? ops.linear(x, w, b) : ops.add(ops.matMul(x, w), b);
}

/** x (..., in) -> (..., out) with weights `${name}.w` (in, out) and, if `bias`, `${name}.b` (out). */
export function dense<T>(ops: Ops<T>, name: string, x: T, bias = true): T {
  const w = ops.weight(`${name}.w`);
  return bias ? affine(ops, x, w, ops.weight(`${name}.b`)) : ops.matMul(x, w);
}

/** x (..., D) -> (..., size): `size` features of the last axis from `start`. */
export function sliceLast<T>(ops: Ops<T>, x: T, start: number, size: number): T {
  const rank = ops.shape(x).length;
  const begin = new Array<number>(rank).fill(0);
  const sizes = new Array<number>(rank).fill(-1);
  begin[rank - 1] = start;
  sizes[rank - 1] = size;
  return ops.slice(x, begin, sizes);
}

/** x (B, T, D) -> (B, size, D): `size` steps from `start`. */
export function sliceTime<T>(ops: Ops<T>, x: T, start: number, size: number): T {
  const rank = ops.shape(x).length;
  const begin = new Array<number>(rank).fill(0);
  const sizes = new Array<number>(rank).fill(-1);
  begin[1] = start;
  sizes[1] = size;
  return ops.slice(x, begin, sizes);
}

/** Last-axis size of x. */
export function lastDim<T>(ops: Ops<T>, x: T): number {
  const s = ops.shape(x);
  return s[s.length - 1]!;
}
