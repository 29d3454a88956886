import * as tf from '@tensorflow/tfjs';
import type { LstmScan } from './lstm';
import { customOp } from './tfjs-kernels';

/**
 * The LSTM recurrence for TF.js training: the same function as `genericLstmScan`, with the gate
 * arithmetic done in JavaScript and a hand-written backward (backpropagation through time).
 *
 * Why: the recurrence is 64 sequential steps of tiny tensors (B x 4H = 64 x 128). Expressed as
 * TF.js ops it is ~15 kernels a step forward and ~30 backward, ~3,000 dispatches per training
 * step, plus a full copy of the (B, T, 4H) input per step on wasm (its Slice kernel copies the
 * whole source). Here a step is the recurrent product and the gate non-linearities on the
 * backend (XNNPACK on wasm) and a JS loop over the 64 x 32 cells; the backward accumulates the recurrent weight gradient in ONE large
 * product over all steps instead of one per step.
 *
 * Numerics: the gates are the backend's sigmoid kernel (tanh(z) taken as 2 sigmoid(2z) - 1); the
 * cell update runs in float64 and is stored as float32. The two paths agree to ~1e-6 (tested),
 * far inside the ONNX parity budget.
 */
export function fusedLstmScan(): LstmScan<tf.Tensor> {
  return (xproj, h0, c0, whEncoder, whDecoder, encoderSteps) => {
    const [batch, steps, four] = xproj.shape as [number, number, number];
    const hidden = four / 4;
    const te = Math.min(encoderSteps, steps);
    const scan = customOp(([x, hInit, cInit, whE, whD]: [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]) => {
      const fwd = lstmForwardHost(x, hInit, cInit, whE, whD, te);
      return {
        value: tf.tensor3d(fwd.y, [batch, steps, hidden]),
        // Everything the backward needs is in host arrays (`fwd`), not tensors.
        gradFunc: (dy) => lstmBackwardHost(fwd, dy.dataSync<'float32'>(), te),
      };
    });
    return scan(xproj, h0, c0, whEncoder, whDecoder);
  };
}

interface ForwardRecord {
  batch: number;
  steps: number;
  hidden: number;
  /** (T, B, 4H) gate activations [i, f, g, o] per step, time-major. */
  gates: Float32Array;
  /** (T + 1, B, H): c_{t-1} at index t (index 0 = c0). */
  cells: Float32Array;
  /** (T + 1, B, H): h_{t-1} at index t (index 0 = h0). */
  hiddens: Float32Array;
  /** (T, B, H): tanh(c_t). */
  tanhCells: Float32Array;
  /** (B, T, H): the output. */
  y: Float32Array;
  /** (H, 4H) recurrent weights, host copies (the backward must not depend on tensor lifetimes). */
  whEncoder: Float32Array;
  whDecoder: Float32Array;
}

/** A copy of w (rows, 4H) with the g block (columns 2H..3H) doubled. */
function doubleCellColumns(w: Float32Array, hidden: number): Float32Array {
  const out = w.slice();
  const four = 4 * hidden;
  for (let r = 0; r < out.length / four; r++) for (let j = 2 * hidden; j < 3 * hidden; j++) out[r * four + j]! *= 2;
  return out;
}

function lstmForwardHost(x: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor, whE: tf.Tensor, whD: tf.Tensor, te: number): ForwardRecord {
  const [batch, steps, four] = x.shape as [number, number, number];
  const hidden = four / 4;
  const bh = batch * hidden;
  const bg = batch * four;
  const rec: ForwardRecord = {
    batch,
    steps,
    hidden,
    gates: new Float32Array(steps * bg),
    cells: new Float32Array((steps + 1) * bh),
    hiddens: new Float32Array((steps + 1) * bh),
    tanhCells: new Float32Array(steps * bh),
    y: new Float32Array(batch * steps * hidden),
    whEncoder: whE.dataSync<'float32'>().slice(),
    whDecoder: whD.dataSync<'float32'>().slice(),
  };
  rec.hiddens.set(h0.dataSync<'float32'>(), 0);
  rec.cells.set(c0.dataSync<'float32'>(), 0);

  // One sigmoid kernel per step serves all four gates: tanh(z) = 2 sigmoid(2z) - 1, so the cell
  // candidate's pre-activation is doubled (input projections here, recurrent weights below).
  // Time-major too, so step t is one contiguous (B, 4H) block.
  const xb = x.dataSync<'float32'>();
  const xs = new Float32Array(steps * bg);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const src = (b * steps + t) * four;
      const dst = t * bg + b * four;
      for (let j = 0; j < four; j++) xs[dst + j] = j >= 2 * hidden && j < 3 * hidden ? 2 * xb[src + j]! : xb[src + j]!;
    }
  }
  const wh = [tf.tensor2d(doubleCellColumns(rec.whEncoder, hidden), [hidden, four]), tf.tensor2d(doubleCellColumns(rec.whDecoder, hidden), [hidden, four])] as const;

  for (let t = 0; t < steps; t++) {
    // (Not tf.tidy: it would walk the returned typed arrays element by element.)
    const hPrev = tf.tensor2d(rec.hiddens.subarray(t * bh, (t + 1) * bh), [batch, hidden]);
    const xStep = tf.tensor2d(xs.subarray(t * bg, (t + 1) * bg), [batch, four]);
    const r = tf.matMul(hPrev, wh[t < te ? 0 : 1]);
    const z = tf.add(r, xStep);
    const sT = tf.sigmoid(z);
    const s = sT.dataSync<'float32'>();
    tf.dispose([hPrev, xStep, r, z, sT]);
    const go = t * bg;
    rec.gates.set(s, go);
    for (let b = 0; b < batch; b++) {
      const ro = b * four;
      const so = t * bh + b * hidden;
      for (let j = 0; j < hidden; j++) {
        const i = s[ro + j]!;
        const f = s[ro + hidden + j]!;
        const g = Math.fround(2 * s[ro + 2 * hidden + j]! - 1);
        const o = s[ro + 3 * hidden + j]!;
        const c = Math.fround(f * rec.cells[so + j]! + i * g);
        const tc = Math.tanh(c);
        const h = o * tc;
        rec.gates[go + ro + 2 * hidden + j] = g;
        rec.cells[so + bh + j] = c;
        rec.tanhCells[so + j] = tc;
        rec.hiddens[so + bh + j] = h;
        rec.y[(b * steps + t) * hidden + j] = h;
      }
    }
  }
  tf.dispose([...wh]);
  return rec;
}

/** (rows, cols) row-major -> (cols, rows). */
function transposeHost(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

/**
 * dY (B, T, H) -> [d xproj (B, T, 4H), d h0 (B, H), d c0 (B, H), d whEncoder, d whDecoder (H, 4H)].
 */
function lstmBackwardHost(rec: ForwardRecord, dY: Float32Array, te: number): tf.Tensor[] {
  const { batch, steps, hidden } = rec;
  const four = 4 * hidden;
  const bh = batch * hidden;
  const bg = batch * four;
  const dz = new Float32Array(steps * bg); // (T, B, 4H) time-major
  const dh = new Float32Array(bh);
  const dc = new Float32Array(bh);
  const whT = [
    tf.tensor2d(transposeHost(rec.whEncoder, hidden, four), [four, hidden]),
    tf.tensor2d(transposeHost(rec.whDecoder, hidden, four), [four, hidden]),
  ] as const;
  for (let t = steps - 1; t >= 0; t--) {
    for (let b = 0; b < batch; b++) {
      const yo = (b * steps + t) * hidden;
      const so = t * bh + b * hidden;
      const go = (t * batch + b) * four;
      for (let j = 0; j < hidden; j++) {
        const dhj = dh[b * hidden + j]! + dY[yo + j]!;
        const i = rec.gates[go + j]!;
        const f = rec.gates[go + hidden + j]!;
        const g = rec.gates[go + 2 * hidden + j]!;
        const o = rec.gates[go + 3 * hidden + j]!;
        const tc = rec.tanhCells[so + j]!;
        const cPrev = rec.cells[so + j]!;
        const dct = dc[b * hidden + j]! + dhj * o * (1 - tc * tc);
        dz[go + j] = dct * g * i * (1 - i);
        dz[go + hidden + j] = dct * cPrev * f * (1 - f);
        dz[go + 2 * hidden + j] = dct * i * (1 - g * g);
        dz[go + 3 * hidden + j] = dhj * tc * o * (1 - o);
        dc[b * hidden + j] = dct * f;
      }
    }
    // d h_{t-1} = dz_t Wh^T: (B, 4H) x (4H, H) on the backend.
    const dzt = tf.tensor2d(dz.subarray(t * bg, (t + 1) * bg), [batch, four]);
    const prod = tf.matMul(dzt, whT[t < te ? 0 : 1]);
    dh.set(prod.dataSync<'float32'>());
    dzt.dispose();
    prod.dispose();
  }
  whT[0].dispose();
  whT[1].dispose();

  // dWh = sum_t h_{t-1}^T dz_t over each part's steps: one (H, rows) x (rows, 4H) product each.
  const recurrentGrad = (from: number, to: number): tf.Tensor =>
    tf.tidy(() => {
      if (to <= from) return tf.zeros([hidden, four]);
      const rows = (to - from) * batch;
      const hPrev = tf.tensor2d(rec.hiddens.subarray(from * bh, to * bh), [rows, hidden]);
      const d = tf.tensor2d(dz.subarray(from * bg, to * bg), [rows, four]);
      return tf.matMul(tf.transpose(hPrev), d);
    });
  const dxproj = tf.tidy(() => tf.transpose(tf.tensor3d(dz, [steps, batch, four]), [1, 0, 2]));
  return [dxproj, tf.tensor2d(dh, [batch, hidden]), tf.tensor2d(dc, [batch, hidden]), recurrentGrad(0, te), recurrentGrad(te, steps)];
}
