import * as tf from '@tensorflow/tfjs';

/**
 * TF.js kernels with hand-written gradients, for `TfjsOps`. Each exists because the stock
 * operation or its gradient is slow (or missing) on the wasm backend, measured on the 2-core dev
 * machine (B = 64, H = 32; numbers in the README of this folder):
 * - products: XNNPACK runs a 2-D product only when neither operand is transposed and the batch
 *   is 1; the stock gradient multiplies with transpose flags and falls to a naive loop 5-12x
 *   slower. Here the backward transposes explicitly (the narrower operand) and multiplies plain.
 * - bias: fused into the XNNPACK product; its gradient is a ones-vector product, not a sum over
 *   axis 0 (which transposes first).
 * - broadcasting: wasm broadcasts a short repeated block (H = 8) ~15x slower than a same-shape op;
 *   a (..., H) op (H) is run as (R/k, k*H) op (k*H). Gradients reduce with the same tricks.
 * - layer norm: one op with a closed-form backward; for narrow rows (H <= 16) the means are
 *   products with a constant (H, H) matrix, avoiding (R, H) op (R, 1) broadcasts.
 * - gather: the stock gradient needs UnsortedSegmentSum, which wasm lacks; one-hot x dy instead.
 */

/** (M, K) x (K, N) through XNNPACK both ways (see the class comment). */
/** A backward: upstream gradient and the tensors saved in the forward -> one gradient per input. */
type Backward = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];

/**
 * `tf.customGrad` with typed inputs. The forward's intermediate tensors die with the caller's
 * tidy scope; whatever the backward needs must go through `save` (kept until backprop ends).
 */
export function customOp<I extends tf.Tensor[]>(forward: (inputs: I, save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: Backward }): (...inputs: I) => tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { value, gradFunc } = forward(args.slice(0, -1) as I, save);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => gradFunc(dy, saved) };
  });
  return (...inputs) => op(...inputs);
}

/**
 * `t`, or a copy of it with a buffer of its own when `t` is a view (a reshape) of a buffer made
 * with another shape.
 *
 * Why: the wasm backend caches each XNNPACK product operator — with the right-hand operand
 * packed into it — by that operand's buffer id, NOT its shape. A buffer used as the right-hand
 * side once as (K, N) and later, through a reshape, as (K', N') silently reuses the first
 * operator: wrong results or out-of-bounds writes (found here: the gradient of x W used W
 * reshaped to (1, K) after the forward cached W as (K, 1)). The fused bias is read with the
 * buffer's shape too. So every right-hand operand and bias goes through this. Other backends
 * keep no such cache: returned as is.
 */
export function ownBuffer<T extends tf.Tensor>(t: T): T {
  const backend = tf.backend() as unknown as { dataIdMap?: { get(id: object): { shape?: number[] } | undefined } };
  const made = backend.dataIdMap?.get(t.dataId)?.shape;
  if (!made || sameShape(made, t.shape)) return t;
  return tf.clone(t);
}

export const matMul2d = customOp(([a, b]: [tf.Tensor, tf.Tensor], save) => {
  save([a, b]);
  return {
    value: tf.matMul(a, ownBuffer(b as tf.Tensor2D)),
    gradFunc: (dy, saved) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, transpose2d(sb)), weightGrad(sa, g)];
    },
  };
});

/** A product whose left operand is data (no gradient wanted): only the weight's gradient is computed. */
export function matMul2dConstLeft(a: tf.Tensor2D): (b: tf.Tensor) => tf.Tensor {
  return customOp(([b]: [tf.Tensor], save) => {
    save([a]);
    return {
      value: tf.matMul(a, ownBuffer(b as tf.Tensor2D)),
      gradFunc: (dy, saved) => [weightGrad(saved[0] as tf.Tensor2D, dy as tf.Tensor2D)],
    };
  });
}

/**
 * x^T dy for x (R, K), dy (R, N), R large: transposes whichever of the two is narrower, since
 * a wasm transpose of a (R, K) tensor costs about as much as the product itself.
 */
function weightGrad(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  if (x.shape[1] <= dy.shape[1]) return tf.matMul(transpose2d(x), ownBuffer(dy));
  return transpose2d(tf.matMul(transpose2d(dy), ownBuffer(x)));
}

/** (R, K) x (K, N) + (N): XNNPACK applies the bias in the product; its gradient is a ones-vector product. */
export const linear2d = customOp(([x, w, b]: [tf.Tensor, tf.Tensor, tf.Tensor], save) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x, b: ownBuffer(w as tf.Tensor2D), bias: ownBuffer(b) }),
    gradFunc: (dy, saved) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, transpose2d(sw)), weightGrad(sx, g), columnSums(g)];
    },
  };
});

export function linear2dConstX(x: tf.Tensor2D): (w: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  return customOp(([w, b]: [tf.Tensor, tf.Tensor], save) => {
    save([x]);
    return {
      value: tf.fused.matMul({ a: x, b: ownBuffer(w as tf.Tensor2D), bias: ownBuffer(b) }),
      gradFunc: (dy, saved) => {
        const g = dy as tf.Tensor2D;
        return [weightGrad(saved[0] as tf.Tensor2D, g), columnSums(g)];
      },
    };
  });
}

/** (R, N) -> (N): as a (1, R) x (R, N) product, 10-20x faster on wasm than a sum over axis 0. */
export function columnSums(x: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.matMul(tf.ones([1, x.shape[0]]), ownBuffer(x)), [x.shape[1]]);
}

/**
 * x (..., H) op v (H). wasm broadcasts slowly when the repeated block is short (H = 8: ~15x
 * slower than a same-shape op), so view x as (R / k, k*H) and tile v k times.
 */
export function rowBroadcast(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, x: tf.Tensor, v: tf.Tensor): tf.Tensor {
  const h = v.shape[0];
  if (h >= 256) return tf.reshape(op(tf.reshape(x, [x.size / h, h]), v), x.shape);
  const rows = x.size / h;
  let k = 1;
  for (let d = Math.min(rows, Math.floor(512 / h)); d > 1; d--) {
    if (rows % d === 0) {
      k = d;
      break;
    }
  }
  if (k === 1) return op(x, v);
  return tf.reshape(op(tf.reshape(x, [rows / k, k * h]), tf.tile(v, [k])), x.shape);
}

/** A real transpose (a fresh buffer), never a reshape view: see `ownBuffer`. */
function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  return tf.transpose(x);
}

/**
 * `Ops.matMul` semantics: (..., M, K) x (K, N), or batched when both ranks are >= 3 (numpy-style
 * broadcast of the batch axes, which the wasm batched kernel does not do itself).
 */
export function matMulFast(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (b.rank === 2) {
    const k = a.shape[a.rank - 1]!;
    const n = b.shape[1]!;
    if (a.rank === 2) return matMul2d(a, b);
    const lead = a.shape.slice(0, -1);
    return tf.reshape(matMul2d(tf.reshape(a, [-1, k]), b), [...lead, n]);
  }
  if (a.rank < 3 || b.rank < 3) throw new Error(`matMul: ranks ${a.rank} and ${b.rank} are not supported`);
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcastShape(batchA, batchB);
  const a2 = sameShape(batchA, batch) ? a : tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]);
  const b2 = sameShape(batchB, batch) ? b : tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]);
  // A batch of one runs through XNNPACK (and its operator cache): see `ownBuffer`.
  return tf.matMul(a2, batch.every((d) => d === 1) ? ownBuffer(b2) : b2);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`matMul: batch shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    out.push(Math.max(da, db));
  }
  return out;
}

/**
 * Layer norm over the last axis: y = (x - mean) / sqrt(var + eps) * gamma + beta; x (..., H),
 * gamma and beta (H). Backward: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma.
 */
export function layerNormFast(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const h = x.shape[x.rank - 1]!;
  // Narrow rows: "mean over the row, repeated across it" is x (R, H) x J/H, J = ones (H, H): a
  // tiny product instead of a reduction plus a slow (R, H) op (R, 1) broadcast.
  const narrow = h <= 16;
  const rowMean = (t: tf.Tensor): tf.Tensor => {
    if (!narrow) return tf.mean(t, -1, true);
    const avg = tf.fill([h, h], 1 / h);
    return tf.reshape(tf.matMul(tf.reshape(t, [-1, h]), avg), t.shape);
  };
  const fn = customOp(([xx, g, b]: [tf.Tensor, tf.Tensor, tf.Tensor], save) => {
    const centered = tf.sub(xx, rowMean(xx));
    const rstd = tf.rsqrt(tf.add(rowMean(tf.square(centered)), epsilon));
    const xhat = tf.mul(centered, rstd);
    save([xhat, rstd, g]);
    return {
      value: rowBroadcast(tf.add, rowBroadcast(tf.mul, xhat, g), b),
      gradFunc: (dy, saved) => {
        const [sx, sr, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const d = dy;
        const gy = rowBroadcast(tf.mul, d, sg);
        const inner = tf.add(rowMean(gy), tf.mul(sx, rowMean(tf.mul(gy, sx))));
        const dx = tf.mul(tf.sub(gy, inner), sr);
        const d2 = tf.reshape<tf.Rank.R2>(d, [-1, h]);
        return [dx, columnSums(tf.mul<tf.Tensor2D>(d2, tf.reshape(sx, [-1, h]))), columnSums(d2)];
      },
    };
  });
  return fn(x, gamma, beta);
}

export type BinaryKind = 'add' | 'sub' | 'mul';

const BINARY: Record<BinaryKind, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = { add: tf.add, sub: tf.sub, mul: tf.mul };

/** Whether `small` equals the trailing axes of `big` (so it repeats over big's leading axes). */
function isSuffix(big: readonly number[], small: readonly number[]): boolean {
  return small.length < big.length && small.every((d, i) => d === big[big.length - small.length + i]);
}

/** a op b with numpy broadcasting, choosing the fastest wasm formulation (see the file comment). */
function broadcastForward(kind: BinaryKind, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const op = BINARY[kind];
  // (..., S) op (S): one flat block repeated over the leading axes -> rowBroadcast.
  if (isSuffix(a.shape, b.shape)) return tf.reshape(rowBroadcast(op, a, tf.reshape(b, [b.size])), a.shape);
  if (isSuffix(b.shape, a.shape) && kind !== 'sub') return tf.reshape(rowBroadcast(op, b, tf.reshape(a, [a.size])), b.shape);
  return op(a, b);
}

/**
 * g (out shape) summed down to `shape` (the operand's shape before broadcasting). Leading
 * broadcast axes reduce with a ones-vector product, trailing ones with a last-axis sum.
 */
export function reduceTo(g: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const out = g.shape;
  const padded = [...new Array<number>(out.length - shape.length).fill(1), ...shape];
  const reduced = padded.map((d, i) => d === 1 && out[i]! > 1);
  if (!reduced.some(Boolean)) return tf.reshape(g, [...shape]);
  const firstKept = reduced.indexOf(false);
  const lead = firstKept === -1 ? out.length : firstKept;
  const leadingOnly = reduced.every((r, i) => r === i < lead);
  if (leadingOnly) {
    const rows = out.slice(0, lead).reduce((p, d) => p * d, 1);
    return tf.reshape(columnSums(tf.reshape<tf.Rank.R2>(g, [rows, g.size / rows])), [...shape]);
  }
  const lastKept = reduced.lastIndexOf(false);
  const trailingOnly = reduced.every((r, i) => r === i > lastKept);
  if (trailingOnly) {
    const inner = out.slice(lastKept + 1).reduce((p, d) => p * d, 1);
    return tf.reshape(tf.sum(tf.reshape(g, [g.size / inner, inner]), 1), [...shape]);
  }
  const axes = reduced.flatMap((r, i) => (r ? [i] : []));
  return tf.reshape(tf.sum(g, axes, true), [...shape]);
}

/**
 * a op b when the shapes differ, with the fast forward and a backward that reduces with
 * `reduceTo`; operands flagged as data get no gradient (their reduction is skipped).
 */
export function broadcastBinary(kind: BinaryKind, a: tf.Tensor, b: tf.Tensor, aIsData: boolean, bIsData: boolean): tf.Tensor {
  if (aIsData && bIsData) return broadcastForward(kind, a, b);
  const gradA = (g: tf.Tensor, other: tf.Tensor): tf.Tensor => reduceTo(kind === 'mul' ? broadcastForward('mul', g, other) : g, a.shape);
  const gradB = (g: tf.Tensor, other: tf.Tensor): tf.Tensor => {
    const t = kind === 'mul' ? broadcastForward('mul', g, other) : kind === 'sub' ? tf.neg(g) : g;
    return reduceTo(t, b.shape);
  };
  if (aIsData) {
    return customOp(([bb]: [tf.Tensor], save) => {
      save([a]);
      return { value: broadcastForward(kind, a, bb), gradFunc: (dy, saved) => [gradB(dy, saved[0]!)] };
    })(b);
  }
  if (bIsData) {
    return customOp(([aa]: [tf.Tensor], save) => {
      save([b]);
      return { value: broadcastForward(kind, aa, b), gradFunc: (dy, saved) => [gradA(dy, saved[0]!)] };
    })(a);
  }
  return customOp(([aa, bb]: [tf.Tensor, tf.Tensor], save) => {
    save([aa, bb]);
    return {
      value: broadcastForward(kind, aa, bb),
      gradFunc: (dy, saved) => {
        const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
        return [gradA(dy, sb), gradB(dy, sa)];
      },
    };
  })(a, b);
}

/** Rows of `table` (V, E) at int `indices` (B) -> (B, E); the gradient scatters by one-hot product. */
export function gatherRows(table: tf.Tensor, indices: tf.Tensor): tf.Tensor {
  const idx = indices.dtype === 'int32' ? indices : tf.cast(indices, 'int32');
  const fn = customOp(([t]: [tf.Tensor], save) => {
    save([idx]);
    return {
      value: tf.gather(t, idx),
      gradFunc: (dy, saved) => {
        const oneHot = tf.cast(tf.oneHot(saved[0] as tf.Tensor1D, t.shape[0]), 'float32');
        // (V, B) x (B, E): rows hit twice accumulate, as a scatter-add would.
        return [tf.matMul(tf.transpose(oneHot), ownBuffer(dy as tf.Tensor2D))];
      },
    };
  });
  return fn(table);
}

/**
 * The input embedding (input-embedding.ts, `EmbeddingOps`): values (B, T, C), masks (B, T, Cm)
 * or none, valueW (C, Hv), maskW (Cm, Hv), bias (V, Hv), channel -> variable map (C) ->
 * (B, T, V, Hv). On the host, one pass each way: the inputs are data (no gradient), and the
 * three weight gradients come from a single read of dy.
 */
export function embedVariablesHost(values: tf.Tensor, masks: tf.Tensor | undefined, valueW: tf.Tensor, maskW: tf.Tensor | undefined, bias: tf.Tensor, map: readonly number[]): tf.Tensor {
  const [b, t, c] = values.shape as [number, number, number];
  const [v, hv] = bias.shape as [number, number];
  const cm = masks ? masks.shape[2]! : 0;
  const rows = b * t;
  const x = values.dataSync<'float32'>();
  const m = masks ? masks.dataSync<'float32'>() : new Float32Array(0);
  const op = customOp((ws: tf.Tensor[]) => {
    const wv = ws[0]!.dataSync<'float32'>();
    const wm = maskW ? ws[1]!.dataSync<'float32'>() : new Float32Array(0);
    const bb = ws[ws.length - 1]!.dataSync<'float32'>();
    const out = new Float32Array(rows * v * hv);
    for (let r = 0; r < rows; r++) {
      const o = r * v * hv;
      out.set(bb, o);
      for (let ch = 0; ch < c; ch++) {
        const xv = x[r * c + ch]!;
        const mv = ch < cm ? m[r * cm + ch]! : 0;
        const ov = o + map[ch]! * hv;
        const w = ch * hv;
        for (let k = 0; k < hv; k++) out[ov + k]! += xv * wv[w + k]! + (ch < cm ? mv * wm[w + k]! : 0);
      }
    }
    return {
      value: tf.tensor4d(out, [b, t, v, hv]),
      gradFunc: (dy) => {
        const g = dy.dataSync<'float32'>();
        const gv = new Float32Array(c * hv);
        const gm = new Float32Array(cm * hv);
        const gb = new Float32Array(v * hv);
        for (let r = 0; r < rows; r++) {
          const o = r * v * hv;
          for (let k = 0; k < v * hv; k++) gb[k]! += g[o + k]!;
          for (let ch = 0; ch < c; ch++) {
            const xv = x[r * c + ch]!;
            const mv = ch < cm ? m[r * cm + ch]! : 0;
            const ov = o + map[ch]! * hv;
            const w = ch * hv;
            for (let k = 0; k < hv; k++) {
              const gk = g[ov + k]!;
              gv[w + k]! += xv * gk;
              if (ch < cm) gm[w + k]! += mv * gk;
            }
          }
        }
        const grads = [tf.tensor2d(gv, [c, hv])];
        if (maskW) grads.push(tf.tensor2d(gm, [cm, hv]));
        grads.push(tf.tensor2d(gb, [v, hv]));
        return grads;
      },
    };
  });
  return maskW ? op(valueW, maskW, bias) : op(valueW, bias);
}
