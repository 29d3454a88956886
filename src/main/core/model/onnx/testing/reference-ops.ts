import type { Ops } from '../../ops';
import type { WeightTensor } from '../onnx-ops';

/**
 * A plain TypeScript, eager, float64 implementation of `Ops`: the reference the ONNX backend is
 * tested against (tests only; no TF.js). Written for clarity, not speed: every op is a loop over
 * row-major indices. Shapes are concrete (the batch is known at run time here).
 */
export interface RefTensor {
  readonly data: Float64Array;
  readonly shape: readonly number[];
}

export function refTensor(data: ArrayLike<number> | Int32Array | BigInt64Array, shape: readonly number[]): RefTensor {
  const values = data instanceof BigInt64Array ? Float64Array.from(data, Number) : Float64Array.from(data as ArrayLike<number>);
  if (values.length !== size(shape)) throw new Error(`refTensor: ${values.length} values for [${shape.join(', ')}]`);
  return { data: values, shape: [...shape] };
}

const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let a = shape.length - 2; a >= 0; a--) s[a] = s[a + 1]! * shape[a + 1]!;
  return s;
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  let rest = i;
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = rest % shape[a]!;
    rest = Math.floor(rest / shape[a]!);
  }
  return idx;
}

/** Offset in a tensor of `shape` (right-aligned to `idx`) with broadcasting (size-1 axes read index 0). */
function broadcastOffset(idx: readonly number[], shape: readonly number[]): number {
  const st = strides(shape);
  const lead = idx.length - shape.length;
  let off = 0;
  for (let a = 0; a < shape.length; a++) off += (shape[a] === 1 ? 0 : idx[lead + a]!) * st[a]!;
  return off;
}

function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`broadcast [${a.join(', ')}] vs [${b.join(', ')}]`);
    return Math.max(da, db);
  });
}

export class ReferenceOps implements Ops<RefTensor> {
  constructor(private readonly weights: ReadonlyMap<string, WeightTensor>) {}

  weight(name: string): RefTensor {
    const w = this.weights.get(name);
    if (!w) throw new Error(`no weight ${name}`);
    return refTensor(w.data, w.shape);
  }

  constant(values: Float32Array | number[], shape: readonly number[]): RefTensor {
    return refTensor(values instanceof Float32Array ? Float64Array.from(values) : values, shape);
  }

  private zip(a: RefTensor, b: RefTensor, f: (x: number, y: number) => number): RefTensor {
    const shape = broadcast(a.shape, b.shape);
    const out = new Float64Array(size(shape));
    for (let i = 0; i < out.length; i++) {
      const idx = unravel(i, shape);
      out[i] = f(a.data[broadcastOffset(idx, a.shape)]!, b.data[broadcastOffset(idx, b.shape)]!);
    }
    return { data: out, shape };
  }

  private map(x: RefTensor, f: (v: number) => number): RefTensor {
    return { data: x.data.map(f), shape: x.shape };
  }

  add(a: RefTensor, b: RefTensor): RefTensor {
    return this.zip(a, b, (x, y) => x + y);
  }
  sub(a: RefTensor, b: RefTensor): RefTensor {
    return this.zip(a, b, (x, y) => x - y);
  }
  mul(a: RefTensor, b: RefTensor): RefTensor {
    return this.zip(a, b, (x, y) => x * y);
  }
  div(a: RefTensor, b: RefTensor): RefTensor {
    return this.zip(a, b, (x, y) => x / y);
  }
  sigmoid(x: RefTensor): RefTensor {
    return this.map(x, (v) => 1 / (1 + Math.exp(-v)));
  }
  tanh(x: RefTensor): RefTensor {
    return this.map(x, Math.tanh);
  }
  relu(x: RefTensor): RefTensor {
    return this.map(x, (v) => Math.max(0, v));
  }
  elu(x: RefTensor): RefTensor {
    return this.map(x, (v) => (v > 0 ? v : Math.exp(v) - 1));
  }
  exp(x: RefTensor): RefTensor {
    return this.map(x, Math.exp);
  }

  matMul(a: RefTensor, b: RefTensor): RefTensor {
    const m = a.shape[a.shape.length - 2]!;
    const k = a.shape[a.shape.length - 1]!;
    const n = b.shape[b.shape.length - 1]!;
    if (b.shape[b.shape.length - 2] !== k) throw new Error('matMul inner dims');
    const batch = broadcast(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const shape = [...batch, m, n];
    const out = new Float64Array(size(shape));
    const aBatch = [...a.shape.slice(0, -2)];
    const bBatch = [...b.shape.slice(0, -2)];
    for (let p = 0; p < size(batch); p++) {
      const idx = unravel(p, batch);
      const aOff = broadcastOffset(idx, aBatch) * m * k;
      const bOff = broadcastOffset(idx, bBatch) * k * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let q = 0; q < k; q++) acc += a.data[aOff + i * k + q]! * b.data[bOff + q * n + j]!;
          out[p * m * n + i * n + j] = acc;
        }
      }
    }
    return { data: out, shape };
  }

  /** Calls `f(offsets)` for every line along `axis` (offsets of its elements). */
  private lines(shape: readonly number[], axis: number, f: (offsets: number[], lineIndex: number) => void): void {
    const outer = size(shape.slice(0, axis));
    const len = shape[axis]!;
    const inner = size(shape.slice(axis + 1));
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        f(Array.from({ length: len }, (_, j) => o * len * inner + j * inner + i), o * inner + i);
      }
    }
  }

  softmax(x: RefTensor, axis: number): RefTensor {
    const out = new Float64Array(x.data.length);
    this.lines(x.shape, axis, (offs) => {
      const max = Math.max(...offs.map((o) => x.data[o]!));
      const e = offs.map((o) => Math.exp(x.data[o]! - max));
      const total = e.reduce((s, v) => s + v, 0);
      offs.forEach((o, j) => (out[o] = e[j]! / total));
    });
    return { data: out, shape: x.shape };
  }

  layerNorm(x: RefTensor, gamma: RefTensor, beta: RefTensor, epsilon: number): RefTensor {
    const out = new Float64Array(x.data.length);
    this.lines(x.shape, x.shape.length - 1, (offs) => {
      const mean = offs.reduce((s, o) => s + x.data[o]!, 0) / offs.length;
      const variance = offs.reduce((s, o) => s + (x.data[o]! - mean) ** 2, 0) / offs.length;
      offs.forEach((o, j) => (out[o] = ((x.data[o]! - mean) / Math.sqrt(variance + epsilon)) * gamma.data[j]! + beta.data[j]!));
    });
    return { data: out, shape: x.shape };
  }

  concat(xs: readonly RefTensor[], axis: number): RefTensor {
    const shape = [...xs[0]!.shape];
    shape[axis] = xs.reduce((s, x) => s + x.shape[axis]!, 0);
    const out = new Float64Array(size(shape));
    for (let i = 0; i < out.length; i++) {
      const idx = unravel(i, shape);
      let at = idx[axis]!;
      let part = 0;
      while (at >= xs[part]!.shape[axis]!) at -= xs[part++]!.shape[axis]!;
      const src = xs[part]!;
      idx[axis] = at;
      out[i] = src.data[idx.reduce((off, v, a) => off + v * strides(src.shape)[a]!, 0)]!;
    }
    return { data: out, shape };
  }

  slice(x: RefTensor, begin: readonly number[], sizes: readonly number[]): RefTensor {
    const shape = x.shape.map((d, a) => (sizes[a] === -1 ? d - begin[a]! : sizes[a]!));
    const st = strides(x.shape);
    const out = new Float64Array(size(shape));
    for (let i = 0; i < out.length; i++) {
      const idx = unravel(i, shape);
      out[i] = x.data[idx.reduce((off, v, a) => off + (v + begin[a]!) * st[a]!, 0)]!;
    }
    return { data: out, shape };
  }

  reshape(x: RefTensor, shape: readonly number[]): RefTensor {
    const known = shape.filter((d) => d !== -1).reduce((a, d) => a * d, 1);
    return { data: x.data, shape: shape.map((d) => (d === -1 ? x.data.length / known : d)) };
  }

  transpose(x: RefTensor, perm: readonly number[]): RefTensor {
    const shape = perm.map((p) => x.shape[p]!);
    const st = strides(x.shape);
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < out.length; i++) {
      const idx = unravel(i, shape);
      out[i] = x.data[idx.reduce((off, v, a) => off + v * st[perm[a]!]!, 0)]!;
    }
    return { data: out, shape };
  }

  expandDims(x: RefTensor, axis: number): RefTensor {
    return { data: x.data, shape: [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)] };
  }

  stack(xs: readonly RefTensor[], axis: number): RefTensor {
    return this.concat(
      xs.map((x) => this.expandDims(x, axis)),
      axis,
    );
  }

  private reduce(x: RefTensor, axis: number, keepDims: boolean, f: (values: number[]) => number): RefTensor {
    const shape = keepDims ? x.shape.map((d, a) => (a === axis ? 1 : d)) : x.shape.filter((_, a) => a !== axis);
    const out = new Float64Array(size(shape));
    this.lines(x.shape, axis, (offs, line) => (out[line] = f(offs.map((o) => x.data[o]!))));
    return { data: out, shape };
  }

  sum(x: RefTensor, axis: number, keepDims: boolean): RefTensor {
    return this.reduce(x, axis, keepDims, (v) => v.reduce((s, y) => s + y, 0));
  }

  mean(x: RefTensor, axis: number, keepDims: boolean): RefTensor {
    return this.reduce(x, axis, keepDims, (v) => v.reduce((s, y) => s + y, 0) / v.length);
  }

  gather(table: RefTensor, indices: RefTensor): RefTensor {
    const row = size(table.shape.slice(1));
    const out = new Float64Array(indices.data.length * row);
    indices.data.forEach((ix, i) => out.set(table.data.subarray(ix * row, (ix + 1) * row), i * row));
    return { data: out, shape: [...indices.shape, ...table.shape.slice(1)] };
  }

  shape(x: RefTensor): readonly number[] {
    return x.shape;
  }
}
