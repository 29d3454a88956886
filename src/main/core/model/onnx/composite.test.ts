import { describe, expect, it } from 'vitest';
import { createInferenceSession } from '../infer';
import { createMemoryLogger } from '../../util/logger';
import type { WeightTensor } from './onnx-ops';
import { OnnxOps } from './onnx-ops';
import { checkGraph, toTensorSpecs } from './testing/check-graph';
import { rng, uniform } from './testing/random';
import { ReferenceOps, refTensor } from './testing/reference-ops';
import { DEFAULT_WORKLOAD, buildWorkloadModel, grn, lstmUnrolled, unrolledLstm, workloadForward, workloadInputs, workloadWeights, type WorkloadConfig } from './testing/workload-model';

/*
 * Composite blocks against references written as plain loops over arrays (independent of both
 * Ops backends): a GRN and an LSTM. Then the benchmark workload, recorded both ways, against the
 * reference Ops backend.
 */

const TOLERANCE = 1e-5;

function randomWeights(shapes: Record<string, number[]>, seed: number): Map<string, WeightTensor> {
  const random = rng(seed);
  return new Map(Object.entries(shapes).map(([name, shape]) => [name, { data: uniform(random, shape.reduce((a, d) => a * d, 1), -0.6, 0.6), shape }]));
}

/** rows (n, in) x W (in, out) + b (out) -> (n, out) */
function linear(x: Float64Array, n: number, W: WeightTensor, b: WeightTensor): Float64Array {
  const [inDim, outDim] = W.shape as [number, number];
  const y = new Float64Array(n * outDim);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < outDim; j++) {
      let acc = b.data[j]!;
      for (let k = 0; k < inDim; k++) acc += x[r * inDim + k]! * W.data[k * outDim + j]!;
      y[r * outDim + j] = acc;
    }
  }
  return y;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

describe('composite blocks', () => {
  it('a GRN (linear -> ELU -> linear -> GLU gate -> add & layer norm) matches a plain TypeScript GRN', async () => {
    const [T, I, H] = [5, 6, 4];
    const w = randomWeights(
      {
        'g.w1': [I, H], 'g.b1': [H], 'g.w2': [H, H], 'g.b2': [H], 'g.skip.w': [I, H], 'g.skip.b': [H],
        'g.glu.gate.w': [H, H], 'g.glu.gate.b': [H], 'g.glu.value.w': [H, H], 'g.glu.value.b': [H], 'g.norm.gamma': [H], 'g.norm.beta': [H],
      },
      11,
    );
    const batch = 4;
    const random = rng(5);
    const x = uniform(random, batch * T * I, -2, 2);
    const W = (name: string): WeightTensor => w.get(name)!;

    // The reference: rows are (batch * T) positions.
    const n = batch * T;
    const x64 = Float64Array.from(x);
    const a = linear(x64, n, W('g.w1'), W('g.b1')).map((v) => (v > 0 ? v : Math.exp(v) - 1));
    const b = linear(a, n, W('g.w2'), W('g.b2'));
    const gate = linear(b, n, W('g.glu.gate.w'), W('g.glu.gate.b')).map(sigmoid);
    const value = linear(b, n, W('g.glu.value.w'), W('g.glu.value.b'));
    const skip = linear(x64, n, W('g.skip.w'), W('g.skip.b'));
    const expected = new Float64Array(n * H);
    for (let r = 0; r < n; r++) {
      const row = Array.from({ length: H }, (_, j) => skip[r * H + j]! + gate[r * H + j]! * value[r * H + j]!);
      const mean = row.reduce((s, v) => s + v, 0) / H;
      const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / H;
      row.forEach((v, j) => (expected[r * H + j] = ((v - mean) / Math.sqrt(variance + 1e-3)) * W('g.norm.gamma').data[j]! + W('g.norm.beta').data[j]!));
    }

    const o = new OnnxOps(w);
    o.output(grn(o, o.input({ name: 'x', dtype: 'float32', shape: [-1, T, I] }), 'g'), 'y');
    const sig = o.builder.signature();
    const session = await createInferenceSession({
      modelBytes: o.toBytes(),
      expectedInputs: toTensorSpecs(sig.inputs),
      expectedOutputs: toTensorSpecs(sig.outputs),
      provider: 'cpu',
      logger: createMemoryLogger(),
    });
    const y = (await session.run({ x }, batch)).y!;
    await session.close();
    expect(y.dims).toEqual([batch, T, H]);
    expect(maxAbsDiff(y.data as Float32Array, expected)).toBeLessThanOrEqual(TOLERANCE);
  });

  describe('an LSTM over several steps matches a plain TypeScript LSTM', () => {
    const [T, I, H, batch] = [6, 5, 4, 3];
    const w = randomWeights({ kernel: [I, 4 * H], recurrent: [H, 4 * H], bias: [4 * H] }, 17);
    const random = rng(23);
    const x = uniform(random, batch * T * I, -2, 2);
    const h0 = uniform(random, batch * H, -0.5, 0.5);
    const c0 = uniform(random, batch * H, -0.5, 0.5);

    // The reference, Keras gate order [i, f, c, o]; returns the (B, T, H) sequence.
    const expected = (() => {
      const K = w.get('kernel')!.data;
      const R = w.get('recurrent')!.data;
      const bias = w.get('bias')!.data;
      const seq = new Float64Array(batch * T * H);
      for (let b = 0; b < batch; b++) {
        const h = Float64Array.from(h0.subarray(b * H, (b + 1) * H));
        const c = Float64Array.from(c0.subarray(b * H, (b + 1) * H));
        for (let t = 0; t < T; t++) {
          const z = new Float64Array(4 * H);
          for (let j = 0; j < 4 * H; j++) {
            let acc = bias[j]!;
            for (let k = 0; k < I; k++) acc += x[(b * T + t) * I + k]! * K[k * 4 * H + j]!;
            for (let k = 0; k < H; k++) acc += h[k]! * R[k * 4 * H + j]!;
            z[j] = acc;
          }
          for (let j = 0; j < H; j++) {
            const i = sigmoid(z[j]!);
            const f = sigmoid(z[H + j]!);
            const g = Math.tanh(z[2 * H + j]!);
            const og = sigmoid(z[3 * H + j]!);
            c[j] = f * c[j]! + i * g;
            h[j] = og * Math.tanh(c[j]!);
            seq[(b * T + t) * H + j] = h[j]!;
          }
        }
      }
      return seq;
    })();

    it.each(['unrolled', 'fused'] as const)('recorded %s', async (mode) => {
      const o = new OnnxOps(w);
      const xs = o.input({ name: 'x', dtype: 'float32', shape: [-1, T, I] });
      const hs = o.input({ name: 'h0', dtype: 'float32', shape: [-1, H] });
      const cs = o.input({ name: 'c0', dtype: 'float32', shape: [-1, H] });
      const weights = { kernel: o.weight('kernel'), recurrent: o.weight('recurrent'), bias: o.weight('bias') };
      const out = mode === 'fused' ? o.lstm(xs, weights.kernel, weights.recurrent, weights.bias, hs, cs) : lstmUnrolled(o, xs, weights, hs, cs);
      o.output(out.sequence, 'sequence');
      o.output(out.h, 'h');
      const sig = o.builder.signature();
      expect(sig.outputs.map((s) => s.shape)).toEqual([[-1, T, H], [-1, H]]);
      const session = await createInferenceSession({
        modelBytes: o.toBytes(),
        expectedInputs: toTensorSpecs(sig.inputs),
        expectedOutputs: toTensorSpecs(sig.outputs),
        provider: 'cpu',
        logger: createMemoryLogger(),
      });
      const y = await session.run({ x, h0, c0 }, batch);
      await session.close();
      expect(maxAbsDiff(y.sequence!.data as Float32Array, expected)).toBeLessThanOrEqual(TOLERANCE);
      const lastH = new Float64Array(batch * H);
      for (let b = 0; b < batch; b++) lastH.set(expected.subarray((b * T + T - 1) * H, (b * T + T) * H), b * H);
      expect(maxAbsDiff(y.h!.data as Float32Array, lastH)).toBeLessThanOrEqual(TOLERANCE);
    });

    it('the unrolled LSTM through checkGraph agrees with the reference Ops backend too', async () => {
      const r = await checkGraph((o, [xx, hh, cc]) => lstmUnrolled(o, xx!, { kernel: o.weight('kernel'), recurrent: o.weight('recurrent'), bias: o.weight('bias') }, hh!, cc!).sequence, [
        { shape: [-1, T, I] },
        { shape: [-1, H], lo: -0.5, hi: 0.5 },
        { shape: [-1, H], lo: -0.5, hi: 0.5 },
      ], { batch, weights: w });
      expect(r.maxAbsDiff).toBeLessThanOrEqual(TOLERANCE);
    });
  });

  it.each(['unrolled', 'fused'] as const)('the benchmark workload recorded %s matches the reference backend (1e-4)', async (lstm) => {
    const cfg: WorkloadConfig = { ...DEFAULT_WORKLOAD, contextSteps: 12, horizonSteps: 4, observed: 6, hidden: 8, heads: 2, lstm };
    const weights = workloadWeights(cfg, 3);
    const model = buildWorkloadModel(cfg, weights);
    const batch = 3;
    const inputs = workloadInputs(cfg, batch, 9);
    const session = await createInferenceSession({
      modelBytes: model.bytes,
      expectedInputs: toTensorSpecs(model.inputs, { profile: [0, cfg.profiles - 1], server_bucket: [0, cfg.serverBuckets - 1] }),
      expectedOutputs: toTensorSpecs(model.outputs),
      provider: 'cpu',
      logger: createMemoryLogger(),
    });
    const out = await session.run(inputs, batch);
    await session.close();

    const ref = new ReferenceOps(weights);
    const S = cfg.contextSteps + cfg.horizonSteps;
    const y = workloadForward(
      ref,
      {
        observed: refTensor(inputs.observed, [batch, cfg.contextSteps, cfg.observed]),
        known: refTensor(inputs.known, [batch, S, cfg.known]),
        profile: refTensor(inputs.profile, [batch]),
        serverBucket: refTensor(inputs.server_bucket, [batch]),
      },
      cfg,
      unrolledLstm(ref),
    );
    expect(out.quantiles!.dims).toEqual([batch, cfg.horizonSteps, cfg.targets, cfg.quantiles]);
    expect(out.attention!.dims).toEqual([batch, cfg.horizonSteps, S]);
    expect(maxAbsDiff(out.quantiles!.data as Float32Array, y.quantiles.data)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(out.risk!.data as Float32Array, y.risk.data)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(out.attention!.data as Float32Array, y.attention.data)).toBeLessThanOrEqual(1e-4);
    // The causal mask holds: horizon step i attends nothing after context + i.
    const att = out.attention!.data as Float32Array;
    for (let b = 0; b < batch; b++)
      for (let i = 0; i < cfg.horizonSteps; i++)
        for (let j = cfg.contextSteps + i + 1; j < S; j++) expect(att[(b * cfg.horizonSteps + i) * S + j]).toBe(0);
  });
});

function maxAbsDiff(a: Float32Array, b: Float64Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
