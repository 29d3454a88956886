import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FEATURE_SPEC, allocateWindowBatch } from '../features/feature-spec';
import { encoderVariables, tftConfigFromSpec, tftVariableNames, type TftConfig } from './config';
import { tftLoss } from './loss';
import { leakedTensors, maxAbsDiff, plainOps, randomInputs, tinyConfig, useBackend } from './testing/fixtures';
import { syntheticBatch } from './testing/synthetic';
import { tftForward, tftParams, type TftInputs, type TftOutputs } from './tft-model';
import { TftModel } from './tft-tfjs';

beforeAll(async () => {
  await useBackend('wasm');
});

const OUTPUTS = ['quantiles', 'riskLogit', 'risk', 'failureLogits', 'failureMode', 'staticWeights', 'encoderWeights', 'decoderWeights', 'attention'] as const;

function expectedShapes(c: TftConfig, b: number): Record<(typeof OUTPUTS)[number], number[]> {
  const t = c.contextSteps + c.horizonSteps;
  return {
    quantiles: [b, c.horizonSteps, c.targets, c.quantiles.length],
    riskLogit: [b],
    risk: [b],
    failureLogits: [b, c.failureModes],
    failureMode: [b, c.failureModes],
    staticWeights: [b, 2],
    encoderWeights: [b, c.contextSteps, encoderVariables(c)],
    decoderWeights: [b, c.horizonSteps, c.knownChannels],
    attention: [b, c.horizonSteps, t],
  };
}

describe('TFT forward', () => {
  const model = { current: undefined as TftModel | undefined };
  afterAll(() => model.current?.dispose());

  it('the default spec: every output has its documented shape, every declared weight is used', () => {
    const c = tftConfigFromSpec(DEFAULT_FEATURE_SPEC);
    const m = new TftModel(c);
    model.current = m;
    expect(m.paramCount()).toBe(tftParams(c).reduce((n, s) => n + s.shape.reduce((a, d) => a * d, 1), 0));
    m.store.resetUsage();
    tf.tidy(() => {
      const out = m.forward(randomInputs(c, 3, 1, m.ops));
      const shapes = expectedShapes(c, 3);
      for (const k of OUTPUTS) expect(out[k].shape, k).toEqual(shapes[k]);
      for (const k of OUTPUTS) expect(out[k].dataSync().every(Number.isFinite), k).toBe(true);
    });
    expect([...m.store.names()].filter((n) => !m.store.used.has(n))).toEqual([]);
    // Encoder variables are the spec's metrics (their aggregates grouped) and its calendar channels.
    const names = tftVariableNames(DEFAULT_FEATURE_SPEC, c);
    expect(names.encoder).toEqual(['cpu_percent', 'memory_percent', 'disk_percent', 'iowait_percent', 'swap_percent', 'load_average', 'network_in_mbps', 'network_out_mbps', 'latency_ms', 'error_rate', ...DEFAULT_FEATURE_SPEC.known]);
    expect(names.encoder.length).toBe(encoderVariables(c));
    expect(tftVariableNames(DEFAULT_FEATURE_SPEC, tftConfigFromSpec(DEFAULT_FEATURE_SPEC, { observedVariables: 'channel' })).encoder.length).toBe(35);
  });

  it('runs a zeroed WindowBatch from the features pipeline (allocateWindowBatch) through predict', () => {
    const m = model.current!;
    const batch = allocateWindowBatch(DEFAULT_FEATURE_SPEC, 2);
    const p = m.predict(batch);
    expect(p.risk.length).toBe(2);
    expect(p.quantiles.length).toBe(2 * 16 * 5 * 3);
    expect(p.attention.length).toBe(2 * 16 * 64);
  });

  it('the fast TF.js paths and the bare Ops (what the ONNX recorder replays) compute the same outputs and gradients', () => {
    const c = tinyConfig();
    const m = new TftModel(c, { seed: 4 });
    tf.tidy(() => {
      const inputs = randomInputs(c, 4, 2, m.ops);
      const fast = m.forward(inputs);
      const generic = tftForward(plainOps(m.ops), c, inputs);
      for (const k of OUTPUTS) expect(maxAbsDiff(fast[k].dataSync(), generic[k].dataSync()), k).toBeLessThan(1e-5);
      const targets = lossTargets(c, 4);
      const loss = (o: TftOutputs<tf.Tensor>): tf.Scalar => tftLoss(o, targets, { quantiles: c.quantiles }).total;
      const g1 = tf.variableGrads(() => loss(m.forward(inputs)), m.store.variables()).grads;
      const g2 = tf.variableGrads(() => loss(tftForward(plainOps(m.ops), c, inputs)), m.store.variables()).grads;
      for (const v of m.store.variables()) expect(maxAbsDiff(g1[v.name]!.dataSync(), g2[v.name]!.dataSync()), v.name).toBeLessThan(2e-4);
    });
    m.dispose();
  });

  it('with a forecast base, quantiles are the last context level (x * scale + center) plus what the head adds', () => {
    const base = { channels: [2, 0], center: [0.5, -1], scale: [2, 0.25] };
    const plain = tinyConfig();
    const based = tinyConfig({ forecastBase: base });
    const a = new TftModel(plain, { seed: 6 });
    const b = new TftModel(based, { seed: 6 });
    tf.tidy(() => {
      const inputs = randomInputs(plain, 3, 9, a.ops);
      const qa = a.forward(inputs).quantiles.arraySync() as number[][][][];
      const qb = b.forward(inputs).quantiles.arraySync() as number[][][][];
      const observed = inputs.observed.arraySync() as number[][][];
      for (let i = 0; i < 3; i++)
        for (let g = 0; g < 2; g++) {
          const level = observed[i]![plain.contextSteps - 1]![base.channels[g]!]! * base.scale[g]! + base.center[g]!;
          for (let t = 0; t < plain.horizonSteps; t++)
            for (let q = 0; q < 3; q++) expect(qb[i]![t]![g]![q]! - qa[i]![t]![g]![q]!).toBeCloseTo(level, 5);
        }
    });
    a.dispose();
    b.dispose();
    expect(() => tinyConfig({ forecastBase: { ...base, channels: [2, 9] } })).not.toThrow();
    expect(() => new TftModel(tinyConfig({ forecastBase: { ...base, channels: [2, 9] } }))).toThrow(/forecastBase channels/);
  });

  it('is causal: changing decoder or encoder inputs at step k never changes outputs for earlier steps', () => {
    const c = tinyConfig();
    const m = new TftModel(c, { seed: 5 });
    // The quantile head starts at zero (forecasts = the base); random weights make every step's output depend on its inputs.
    m.store.get('heads.quantile.w').assign(tf.randomNormal(m.store.get('heads.quantile.w').shape, 0, 0.5, 'float32', 11));
    tf.tidy(() => {
      const inputs = randomInputs(c, 2, 3, m.ops);
      const base = m.forward(inputs);
      for (const k of [0, 1, 2]) {
        // A decoder step: the known input at absolute step Te + k.
        const bump = tf.mul(tf.oneHot(tf.tensor1d([c.contextSteps + k], 'int32'), c.contextSteps + c.horizonSteps).reshape([1, -1, 1]), 4);
        const moved = m.forward({ ...inputs, known: m.ops.markData(tf.add(inputs.known, bump)) });
        const upTo = (t: tf.Tensor, axis1: number): number[] => (axis1 === 0 ? [] : Array.from(tf.slice(t, [0, 0], [-1, axis1]).dataSync()));
        expect(upTo(moved.quantiles, k)).toEqual(upTo(base.quantiles, k));
        expect(upTo(moved.attention, k)).toEqual(upTo(base.attention, k));
        expect(upTo(moved.decoderWeights, k)).toEqual(upTo(base.decoderWeights, k));
        expect(Array.from(tf.slice(moved.quantiles, [0, k], [-1, 1]).dataSync())).not.toEqual(Array.from(tf.slice(base.quantiles, [0, k], [-1, 1]).dataSync()));
      }
      // An encoder step k: encoder selection before k is untouched; every horizon step may see it.
      const k = 4;
      const bump = tf.mul(tf.oneHot(tf.tensor1d([k], 'int32'), c.contextSteps).reshape([1, -1, 1]), 4);
      const moved = m.forward({ ...inputs, observed: m.ops.markData(tf.add(inputs.observed, bump)) });
      expect(Array.from(tf.slice(moved.encoderWeights, [0, 0, 0], [-1, k, -1]).dataSync())).toEqual(Array.from(tf.slice(base.encoderWeights, [0, 0, 0], [-1, k, -1]).dataSync()));
      // The attention of every horizon step on encoder steps before k is only renormalised, never reordered: rows still sum to 1.
      for (const s of tf.sum(moved.attention, 2).dataSync()) expect(s).toBeCloseTo(1, 5);
    });
    m.dispose();
  });

  it('unknown server (bucket 0) is predicted through its profile', () => {
    const c = tinyConfig();
    const m = new TftModel(c, { seed: 6 });
    tf.tidy(() => {
      const inputs = randomInputs(c, 2, 4, m.ops);
      const unknown = { ...inputs, serverBucket: m.ops.markData(tf.tensor1d([0, 0], 'int32')) };
      const a = m.forward(unknown);
      for (const k of OUTPUTS) expect(a[k].dataSync().every(Number.isFinite)).toBe(true);
      const known = m.forward({ ...inputs, serverBucket: m.ops.markData(tf.tensor1d([1, 1], 'int32')) });
      expect(Array.from(a.risk.dataSync())).not.toEqual(Array.from(known.risk.dataSync()));
      const otherProfile = m.forward({ ...unknown, profile: m.ops.markData(tf.tensor1d([1, 2], 'int32')) });
      expect(Array.from(a.risk.dataSync())).not.toEqual(Array.from(otherProfile.risk.dataSync()));
    });
    m.dispose();
  });

  it('serialised weights loaded into another model give identical outputs', () => {
    const c = tinyConfig();
    const a = new TftModel(c, { seed: 7 });
    const b = new TftModel(c, { seed: 8 });
    const batch = syntheticBatch(c, { count: 5, seed: 9 });
    expect(Array.from(b.predict(batch).risk)).not.toEqual(Array.from(a.predict(batch).risk));
    b.load(a.serialize());
    const pa = a.predict(batch);
    const pb = b.predict(batch);
    for (const k of Object.keys(pa) as (keyof typeof pa)[]) expect(Array.from(pb[k]), k).toEqual(Array.from(pa[k]));
    a.dispose();
    b.dispose();
  });

  it('gradient check: numerical differences agree with TF.js gradients through every custom kernel', () => {
    const c = tinyConfig({ hidden: 4, heads: 2, variableHidden: 2, contextSteps: 4, horizonSteps: 2, observedChannels: 2, knownChannels: 1 });
    const m = new TftModel(c, { seed: 10 });
    const inputs = randomInputs(c, 3, 11, m.ops);
    const targets = lossTargets(c, 3);
    const loss = (): tf.Scalar => tftLoss(m.forward(inputs), targets, { quantiles: c.quantiles, positiveWeight: 2 }).total;
    const names = [
      'static_embedding.profile',
      'static_context.stateH.fc1.w',
      'enrichment.context.w',
      'attention.key.w',
      'encoder_vsn.embedding.value_w',
      'encoder_vsn.embedding.mask_w',
      'encoder_vsn.flat.fc1.w',
      'encoder_vsn.var.fc1.w',
      'encoder_vsn.var.gate.norm.gamma',
      'encoder_vsn.proj.w',
      'lstm.encoder.wh',
      'lstm.decoder.wx',
      'attention.query.w',
      'heads.failure.w',
    ];
    const vars = names.map((n) => m.store.get(n));
    const { grads } = tf.variableGrads(loss, vars);
    const eps = 1e-2;
    const lossAt = (): number => tf.tidy(() => loss().dataSync()[0]!);
    for (const v of vars) {
      const analytic = grads[v.name]!.dataSync();
      const original = v.dataSync().slice();
      // The two largest entries: where a wrong gradient would show, above float32 noise.
      const picks = Array.from(analytic.keys()).sort((i, j) => Math.abs(analytic[j]!) - Math.abs(analytic[i]!)).slice(0, 2);
      for (const i of picks) {
        const at = (delta: number): number => {
          const w = original.slice();
          w[i]! += delta;
          v.assign(tf.tensor(w, v.shape));
          return lossAt();
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        v.assign(tf.tensor(original, v.shape));
        expect(Math.abs(numeric - analytic[i]!), `${v.name}[${i}]: numeric ${numeric}, analytic ${analytic[i]}`).toBeLessThan(2e-3 + 3e-2 * Math.abs(analytic[i]!));
      }
    }
    tf.dispose(grads);
    tf.dispose(Object.values(inputs));
    tf.dispose(Object.values(targets));
    m.dispose();
  });

  it('does not leak tensors: forward and backward of the whole model', () => {
    const c = tinyConfig();
    const m = new TftModel(c, { seed: 12 });
    const inputs: TftInputs<tf.Tensor> = randomInputs(c, 2, 13, m.ops);
    const targets = lossTargets(c, 2);
    const leaked = leakedTensors(() =>
      tf.tidy(() => {
        m.forward(inputs);
        tf.variableGrads(() => tftLoss(m.forward(inputs), targets, { quantiles: c.quantiles }).total, m.store.variables());
      }),
    );
    expect(leaked).toBe(0);
    tf.dispose(Object.values(inputs));
    tf.dispose(Object.values(targets));
    m.dispose();
  });
});

function lossTargets(c: TftConfig, b: number): { targets: tf.Tensor; targetMask: tf.Tensor; risk: tf.Tensor; failureMode: tf.Tensor } {
  return {
    targets: tf.randomNormal([b, c.horizonSteps, c.targets], 0, 1, 'float32', 21),
    targetMask: tf.ones([b, c.horizonSteps, c.targets]),
    risk: tf.tensor1d(Array.from({ length: b }, (_, i) => i % 2)),
    failureMode: tf.tensor1d(Array.from({ length: b }, (_, i) => (i % 2) * (1 + (i % (c.failureModes - 1)))), 'int32'),
  };
}
