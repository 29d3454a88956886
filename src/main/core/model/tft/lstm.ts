import type { Ops } from '../ops';
import { affine, sliceLast } from './dense';
import type { ParamSpec } from './params';

/**
 * The TFT's sequence-to-sequence layer: an LSTM encoder over the history, whose final state
 * starts an LSTM decoder over the horizon (separate weights), both unrolled with fused gates.
 *
 * Per step t, with gates in the order [i, f, g, o] (PyTorch's):
 *   z_t = xproj_t + h_{t-1} Wh          (B, 4H)   ONE product per step for all four gates
 *   i, f, o = sigmoid(z)  g = tanh(z)
 *   c_t = f c_{t-1} + i g,  h_t = o tanh(c_t)
 * xproj = x Wx + b for every step is computed up front, one large product per LSTM, so the
 * sequential part holds only the recurrent product. The initial (h, c) come from the static
 * contexts, so the state starts as "this kind of server".
 */
export interface LstmArgs {
  /** Width of the input features. */
  inputSize: number;
  /** Hidden (and cell) width H. */
  hidden: number;
}

export function lstmParams(name: string, args: LstmArgs): ParamSpec[] {
  const h = args.hidden;
  // Forget-gate bias 1 (Jozefowicz et al. 2015): remember by default early in training.
  const bias = new Array<number>(4 * h).fill(0).fill(1, h, 2 * h);
  const part = (p: string): ParamSpec[] => [
    { name: `${name}.${p}.wx`, shape: [args.inputSize, 4 * h], init: 'glorot' },
    { name: `${name}.${p}.wh`, shape: [h, 4 * h], init: 'glorot' },
    { name: `${name}.${p}.b`, shape: [4 * h], init: { values: bias } },
  ];
  return [...part('encoder'), ...part('decoder')];
}

/**
 * The recurrence over precomputed input projections:
 * xproj (B, T, 4H), h0 (B, H), c0 (B, H), whEncoder and whDecoder (H, 4H) -> hidden states
 * (B, T, H); steps < encoderSteps use whEncoder, the rest whDecoder.
 * Training swaps in a fused implementation with a hand-written backward (tfjs-lstm.ts) that
 * computes exactly these forward ops.
 */
export type LstmScan<T> = (xproj: T, h0: T, c0: T, whEncoder: T, whDecoder: T, encoderSteps: number) => T;

/** One LSTM step: z (B, 4H) pre-activations, c (B, H) -> [h, c]. Shared by every implementation. */
export function lstmCell<T>(ops: Ops<T>, z: T, c: T, hidden: number): [T, T] {
  const s = ops.sigmoid(z);
  const i = sliceLast(ops, s, 0, hidden);
  const f = sliceLast(ops, s, hidden, hidden);
  const o = sliceLast(ops, s, 3 * hidden, hidden);
  const g = ops.tanh(sliceLast(ops, z, 2 * hidden, hidden));
  const cNext = ops.add(ops.mul(f, c), ops.mul(i, g));
  return [ops.mul(o, ops.tanh(cNext)), cNext];
}

/** The reference recurrence, one Ops call per operation (what the ONNX graph records). */
export function genericLstmScan<T>(ops: Ops<T>): LstmScan<T> {
  return (xproj, h0, c0, whEncoder, whDecoder, encoderSteps) => {
    const shape = ops.shape(xproj);
    const steps = shape[1]!;
    const hidden = shape[2]! / 4;
    let h = h0;
    let c = c0;
    const hs: T[] = [];
    for (let t = 0; t < steps; t++) {
      const xt = ops.reshape(ops.slice(xproj, [0, t, 0], [-1, 1, -1]), [-1, 4 * hidden]);
      const z = ops.add(xt, ops.matMul(h, t < encoderSteps ? whEncoder : whDecoder));
      [h, c] = lstmCell(ops, z, c, hidden);
      hs.push(h);
    }
    return ops.stack(hs, 1);
  };
}

/**
 * A whole LSTM layer in one call, weights in this file's layout: x (B, T, in), wx (in, 4H),
 * wh (H, 4H), b (4H), h0 and c0 (B, H) -> sequence (B, T, H), final h and c (B, H). The ONNX
 * export records it as one LSTM node per layer (OnnxOps.lstm): unrolled, the two layers are
 * ~1,000 of the graph's nodes and onnxruntime's per-node cost dominates small batches.
 */
export type LstmLayer<T> = (x: T, wx: T, wh: T, b: T, h0: T, c0: T) => { sequence: T; h: T; c: T };

/**
 * encoderIn (B, Te, in), decoderIn (B, Td, in), h0 and c0 (B, H) -> (B, Te + Td, H). With
 * `layer`, each of the two LSTMs is one call to it (the same function as the scan computes).
 */
export function lstmEncoderDecoder<T>(
  ops: Ops<T>,
  name: string,
  args: LstmArgs,
  encoderIn: T,
  decoderIn: T,
  h0: T,
  c0: T,
  scan: LstmScan<T> = genericLstmScan(ops),
  layer?: LstmLayer<T>,
): T {
  if (layer) {
    const w = (part: string, k: string): T => ops.weight(`${name}.${part}.${k}`);
    const encoder = layer(encoderIn, w('encoder', 'wx'), w('encoder', 'wh'), w('encoder', 'b'), h0, c0);
    const decoder = layer(decoderIn, w('decoder', 'wx'), w('decoder', 'wh'), w('decoder', 'b'), encoder.h, encoder.c);
    return ops.concat([encoder.sequence, decoder.sequence], 1);
  }
  const encoderSteps = ops.shape(encoderIn)[1]!;
  const project = (part: string, x: T): T => affine(ops, x, ops.weight(`${name}.${part}.wx`), ops.weight(`${name}.${part}.b`));
  const xproj = ops.concat([project('encoder', encoderIn), project('decoder', decoderIn)], 1); // (B, T, 4H)
  return scan(xproj, h0, c0, ops.weight(`${name}.encoder.wh`), ops.weight(`${name}.decoder.wh`), encoderSteps);
}
