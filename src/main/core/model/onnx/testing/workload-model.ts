import type { Ops } from '../../ops';
import { OnnxOps, type OnnxValue, type WeightTensor } from '../onnx-ops';
import type { IoSpec } from '../graph-builder';
import { integers, rng, uniform } from './random';

/**
 * A model shaped like the production workload, for benchmarks and the GPU check: a TFT-like
 * forward pass with random weights, written once against `Ops` like the real one (so it runs on
 * the ONNX recorder and on the reference backend). Static embeddings -> static GRN -> LSTM
 * state init; a softmax variable selection on the encoder inputs; LSTM encoder over the
 * context and decoder over the horizon; gated skip + layer norm; static enrichment;
 * interpretable multi-head attention (heads share V, causal mask) for the horizon queries;
 * position-wise GRN; quantile and risk heads.
 */
export interface WorkloadConfig {
  contextSteps: number;
  horizonSteps: number;
  /** Observed channels (metrics and their masks). */
  observed: number;
  /** Known-future channels (calendar). */
  known: number;
  hidden: number;
  heads: number;
  profiles: number;
  serverBuckets: number;
  embedding: number;
  targets: number;
  quantiles: number;
  /** How the LSTMs are recorded in ONNX: step by step through `Ops`, or one LSTM node each. */
  lstm: 'unrolled' | 'fused';
}

export const DEFAULT_WORKLOAD: WorkloadConfig = {
  contextSteps: 64,
  horizonSteps: 16,
  observed: 30,
  known: 4,
  hidden: 32,
  heads: 4,
  profiles: 7,
  serverBuckets: 64,
  embedding: 8,
  targets: 4,
  quantiles: 3,
  lstm: 'unrolled',
};

/** The weights the forward pass asks for, by name, with their shapes. */
export function workloadWeightShapes(cfg: WorkloadConfig): Record<string, number[]> {
  const { hidden: H, embedding: E, heads, targets, quantiles } = cfg;
  const dk = H / heads;
  const inputs = cfg.observed + cfg.known;
  const shapes: Record<string, number[]> = {
    'emb.profile': [cfg.profiles, E],
    'emb.server': [cfg.serverBuckets, E],
    'enc.vsn.w': [inputs, inputs],
    'enc.vsn.b': [inputs],
    'enc.in.w': [inputs, H],
    'enc.in.b': [H],
    'dec.in.w': [cfg.known, H],
    'dec.in.b': [H],
    'init.h.w': [H, H],
    'init.h.b': [H],
    'init.c.w': [H, H],
    'init.c.b': [H],
    'enrich.w': [H, H],
    'enrich.b': [H],
    'lstm.norm.gamma': [H],
    'lstm.norm.beta': [H],
    'att.q.w': [H, heads * dk],
    'att.k.w': [H, heads * dk],
    'att.v.w': [H, dk],
    'att.out.w': [dk, H],
    'att.out.b': [H],
    'att.norm.gamma': [H],
    'att.norm.beta': [H],
    'head.q.w': [H, targets * quantiles],
    'head.q.b': [targets * quantiles],
    'head.risk.w': [H, 1],
    'head.risk.b': [1],
  };
  for (const p of ['enc.lstm', 'dec.lstm']) {
    shapes[`${p}.kernel`] = [H, 4 * H];
    shapes[`${p}.recurrent`] = [H, 4 * H];
    shapes[`${p}.bias`] = [4 * H];
  }
  Object.assign(shapes, grnShapes('static', 2 * E, H), grnShapes('pos', H, H), gluShapes('lstm.glu', H), gluShapes('att.glu', H));
  return shapes;
}

function grnShapes(p: string, input: number, H: number): Record<string, number[]> {
  return {
    [`${p}.w1`]: [input, H],
    [`${p}.b1`]: [H],
    [`${p}.w2`]: [H, H],
    [`${p}.b2`]: [H],
    ...(input !== H ? { [`${p}.skip.w`]: [input, H], [`${p}.skip.b`]: [H] } : {}),
    ...gluShapes(`${p}.glu`, H),
    [`${p}.norm.gamma`]: [H],
    [`${p}.norm.beta`]: [H],
  };
}

function gluShapes(p: string, H: number): Record<string, number[]> {
  return { [`${p}.gate.w`]: [H, H], [`${p}.gate.b`]: [H], [`${p}.value.w`]: [H, H], [`${p}.value.b`]: [H] };
}

/** Random weights, scaled like Glorot so activations stay in a sensible range; layer norm gammas 1. */
export function workloadWeights(cfg: WorkloadConfig, seed = 1): Map<string, WeightTensor> {
  const random = rng(seed);
  const out = new Map<string, WeightTensor>();
  for (const [name, shape] of Object.entries(workloadWeightShapes(cfg))) {
    const n = shape.reduce((a, d) => a * d, 1);
    const fanIn = shape.length > 1 ? shape[0]! : 1;
    const scale = name.startsWith('emb.') ? 1 : shape.length > 1 ? Math.sqrt(3 / fanIn) : 0.1;
    const data = name.endsWith('.gamma') ? new Float32Array(n).fill(1) : uniform(random, n, -scale, scale);
    out.set(name, { data, shape });
  }
  return out;
}

export interface WorkloadInputs<T> {
  /** (B, contextSteps, observed) */
  observed: T;
  /** (B, contextSteps + horizonSteps, known) */
  known: T;
  /** (B) int32 */
  profile: T;
  /** (B) int32 */
  serverBucket: T;
}

export interface WorkloadOutputs<T> {
  /** (B, horizonSteps, targets, quantiles) */
  quantiles: T;
  /** (B, 1): P(incident within the horizon) */
  risk: T;
  /** (B, horizonSteps, contextSteps + horizonSteps): attention weights, mean over heads */
  attention: T;
}

export type LstmFn<T> = (x: T, prefix: string, h0: T, c0: T) => { sequence: T; h: T; c: T };

const linear = <T>(o: Ops<T>, x: T, p: string): T => o.add(o.matMul(x, o.weight(`${p}.w`)), o.weight(`${p}.b`));

/** x (..., H) -> (..., H): sigmoid(x Wg + bg) * (x Wv + bv). */
export function glu<T>(o: Ops<T>, x: T, p: string): T {
  return o.mul(o.sigmoid(linear(o, x, `${p}.gate`)), linear(o, x, `${p}.value`));
}

/** x (..., I) -> (..., H): layerNorm(skip(x) + GLU(W2 ELU(W1 x + b1) + b2)). */
export function grn<T>(o: Ops<T>, x: T, p: string): T {
  const shape = o.shape(x);
  const hidden = o.shape(o.weight(`${p}.w2`))[1]!;
  const a = o.elu(o.add(o.matMul(x, o.weight(`${p}.w1`)), o.weight(`${p}.b1`)));
  const b = o.add(o.matMul(a, o.weight(`${p}.w2`)), o.weight(`${p}.b2`));
  const skip = shape[shape.length - 1] === hidden ? x : linear(o, x, `${p}.skip`);
  return o.layerNorm(o.add(skip, glu(o, b, `${p}.glu`)), o.weight(`${p}.norm.gamma`), o.weight(`${p}.norm.beta`), 1e-3);
}

/**
 * An LSTM over a sequence through `Ops` alone (Keras gate order [i, f, c, o]):
 * x (B, T, I), kernel (I, 4H), recurrent (H, 4H), bias (4H), h0/c0 (B, H)
 * -> sequence (B, T, H), h (B, H), c (B, H). The input projection is one matMul for all steps;
 * each step then costs ~15 nodes.
 */
export function lstmUnrolled<T>(o: Ops<T>, x: T, w: { kernel: T; recurrent: T; bias: T }, h0: T, c0: T): { sequence: T; h: T; c: T } {
  const steps = o.shape(x)[1]!;
  const H = o.shape(w.recurrent)[0]!;
  const xp = o.add(o.matMul(x, w.kernel), w.bias); // (B, T, 4H)
  let h = h0;
  let c = c0;
  const hs: T[] = [];
  for (let t = 0; t < steps; t++) {
    const xt = o.reshape(o.slice(xp, [0, t, 0], [-1, 1, -1]), [-1, 4 * H]);
    const z = o.add(xt, o.matMul(h, w.recurrent)); // (B, 4H)
    const gate = (g: number): T => o.slice(z, [0, g * H], [-1, H]);
    const i = o.sigmoid(gate(0));
    const f = o.sigmoid(gate(1));
    const g = o.tanh(gate(2));
    const og = o.sigmoid(gate(3));
    c = o.add(o.mul(f, c), o.mul(i, g));
    h = o.mul(og, o.tanh(c));
    hs.push(h);
  }
  return { sequence: o.stack(hs, 1), h, c };
}

/** The forward pass; see WorkloadInputs/WorkloadOutputs for shapes. */
export function workloadForward<T>(o: Ops<T>, inp: WorkloadInputs<T>, cfg: WorkloadConfig, lstm: LstmFn<T>): WorkloadOutputs<T> {
  const { contextSteps: T0, horizonSteps: Hz, hidden: H, heads } = cfg;
  const S = T0 + Hz;
  const dk = H / heads;

  // Static covariates -> context, which initialises the LSTM state and enriches the sequence.
  const s = o.concat([o.gather(o.weight('emb.profile'), inp.profile), o.gather(o.weight('emb.server'), inp.serverBucket)], 1); // (B, 2E)
  const sctx = grn(o, s, 'static'); // (B, H)
  const h0 = o.tanh(linear(o, sctx, 'init.h'));
  const c0 = linear(o, sctx, 'init.c');

  // Encoder: variable selection (softmax weights per step over the channels), then the LSTM.
  const xin = o.concat([inp.observed, o.slice(inp.known, [0, 0, 0], [-1, T0, -1])], 2); // (B, T0, C+K)
  const selected = o.mul(xin, o.softmax(linear(o, xin, 'enc.vsn'), 2));
  const xe = o.elu(linear(o, selected, 'enc.in')); // (B, T0, H)
  const enc = lstm(xe, 'enc.lstm', h0, c0);
  const xd = o.elu(linear(o, o.slice(inp.known, [0, T0, 0], [-1, Hz, -1]), 'dec.in')); // (B, Hz, H)
  const dec = lstm(xd, 'dec.lstm', enc.h, enc.c);

  // Gated skip over the LSTM, then static enrichment.
  const lstmOut = o.concat([enc.sequence, dec.sequence], 1); // (B, S, H)
  const lstmIn = o.concat([xe, xd], 1);
  const gated = o.layerNorm(o.add(lstmIn, glu(o, lstmOut, 'lstm.glu')), o.weight('lstm.norm.gamma'), o.weight('lstm.norm.beta'), 1e-3);
  const enriched = o.add(gated, o.expandDims(linear(o, sctx, 'enrich'), 1)); // (B, S, H)

  // Interpretable multi-head attention: horizon queries over the whole sequence, V shared by heads.
  const heads4 = (x: T, steps: number): T => o.transpose(o.reshape(x, [-1, steps, heads, dk]), [0, 2, 1, 3]); // (B, nh, steps, dk)
  const q = heads4(o.matMul(o.slice(enriched, [0, T0, 0], [-1, Hz, -1]), o.weight('att.q.w')), Hz);
  const k = heads4(o.matMul(enriched, o.weight('att.k.w')), S);
  const v = o.expandDims(o.matMul(enriched, o.weight('att.v.w')), 1); // (B, 1, S, dk)
  const mask = new Float32Array(Hz * S);
  for (let i = 0; i < Hz; i++) for (let j = 0; j < S; j++) mask[i * S + j] = j <= T0 + i ? 0 : -1e9;
  const scores = o.add(o.mul(o.matMul(q, o.transpose(k, [0, 1, 3, 2])), o.constant([1 / Math.sqrt(dk)], [1])), o.constant(mask, [Hz, S]));
  const weights = o.softmax(scores, 3); // (B, nh, Hz, S)
  const attended = linear(o, o.mean(o.matMul(weights, v), 1, false), 'att.out'); // (B, Hz, H)
  const decEnriched = o.slice(enriched, [0, T0, 0], [-1, Hz, -1]);
  const att = o.layerNorm(o.add(decEnriched, glu(o, attended, 'att.glu')), o.weight('att.norm.gamma'), o.weight('att.norm.beta'), 1e-3);
  const out = grn(o, att, 'pos'); // (B, Hz, H)

  const quantiles = o.reshape(linear(o, out, 'head.q'), [-1, Hz, cfg.targets, cfg.quantiles]);
  const risk = o.sigmoid(linear(o, o.mean(out, 1, false), 'head.risk'));
  return { quantiles, risk, attention: o.mean(weights, 1, false) };
}

/** The generic LSTM strategy: unrolled through `Ops`. */
export function unrolledLstm<T>(o: Ops<T>): LstmFn<T> {
  return (x, p, h0, c0) => lstmUnrolled(o, x, { kernel: o.weight(`${p}.kernel`), recurrent: o.weight(`${p}.recurrent`), bias: o.weight(`${p}.bias`) }, h0, c0);
}

export interface BuiltWorkload {
  bytes: Uint8Array;
  inputs: IoSpec[];
  outputs: IoSpec[];
  nodes: number;
}

/** Records the workload into an ONNX model (batch dynamic). */
export function buildWorkloadModel(cfg: WorkloadConfig, weights: ReadonlyMap<string, WeightTensor> = workloadWeights(cfg)): BuiltWorkload {
  const o = new OnnxOps(weights);
  const S = cfg.contextSteps + cfg.horizonSteps;
  const inp = {
    observed: o.input({ name: 'observed', dtype: 'float32', shape: [-1, cfg.contextSteps, cfg.observed], doc: '(B, context, observed) scaled, missing = 0' }),
    known: o.input({ name: 'known', dtype: 'float32', shape: [-1, S, cfg.known], doc: '(B, context + horizon, known) calendar features' }),
    profile: o.input({ name: 'profile', dtype: 'int32', shape: [-1], doc: '(B) profile index' }),
    serverBucket: o.input({ name: 'server_bucket', dtype: 'int32', shape: [-1], doc: '(B) server hash bucket, 0 = unknown' }),
  };
  const lstm: LstmFn<OnnxValue> =
    cfg.lstm === 'fused'
      ? (x, p, h0, c0) => o.lstm(x, o.weight(`${p}.kernel`), o.weight(`${p}.recurrent`), o.weight(`${p}.bias`), h0, c0)
      : unrolledLstm(o);
  const y = workloadForward(o, inp, cfg, lstm);
  o.output(y.quantiles, 'quantiles', '(B, horizon, targets, quantiles)');
  o.output(y.risk, 'risk', '(B, 1) P(incident within the horizon)');
  o.output(y.attention, 'attention', '(B, horizon, context + horizon) attention weights, mean over heads');
  const unused = o.unusedWeights();
  if (unused.length > 0) throw new Error(`workload: weights never used: ${unused.join(', ')}`);
  const bytes = o.toBytes({ docString: `workload model ${JSON.stringify(cfg)}`, metadata: { purpose: 'benchmark', lstm: cfg.lstm } });
  const sig = o.builder.signature();
  return { bytes, inputs: sig.inputs, outputs: sig.outputs, nodes: o.builder.nodeCount };
}

/** Random inputs for `batch` rows: observed in [-2, 2), calendar in [-1, 1), valid indices. */
export function workloadInputs(cfg: WorkloadConfig, batch: number, seed = 7): { observed: Float32Array; known: Float32Array; profile: Int32Array; server_bucket: Int32Array } {
  const random = rng(seed);
  return {
    observed: uniform(random, batch * cfg.contextSteps * cfg.observed, -2, 2),
    known: uniform(random, batch * (cfg.contextSteps + cfg.horizonSteps) * cfg.known),
    profile: integers(random, batch, cfg.profiles),
    server_bucket: integers(random, batch, cfg.serverBuckets),
  };
}
