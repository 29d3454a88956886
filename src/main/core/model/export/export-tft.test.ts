import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_MS } from '@shared/contract';
import { createMemoryLogger } from '../../util/logger';
import { defaultFleet } from '../../metrics/simulator/fleet-sim';
import { generateFleet } from '../../metrics/simulator/generate';
import { buildDataset } from '../features/dataset';
import { DEFAULT_FEATURE_SPEC, observedChannels, type FeatureSpec, type WindowBatch } from '../features/feature-spec';
import { MONDAY } from '../features/testing/series';
import { expectedTensors, loadModelFolder, writeModelFolder } from '../folder';
import { sampleDraft } from '../folder/testing/manifest-fixture';
import { InferenceError, createInferenceSession, type InferenceSession, type OutputTensor } from '../infer';
import { decodeModel } from '../onnx';
import { tftConfigFromSpec, type TftConfig, type TftHyperParams } from '../tft/config';
import { useBackend } from '../tft/testing/fixtures';
import { TftModel, type TftPrediction } from '../tft/tft-tfjs';
import { seededRandom } from '../tft/weight-store';
import { TFT_INPUT_NAMES, TFT_OUTPUT_NAMES, exportTftToOnnx, hasExplanationOutputs, onnxSectionDraft, type ExportedTft } from './index';

/**
 * Parity: the exported graph run by onnxruntime (cpu provider) against the TF.js model it was
 * exported from (wasm backend, with its training fast paths: fused LSTM, host-side input
 * embedding, fused linear layers), on random inputs and on real windows of a simulated fleet.
 *
 * Tolerance: |onnx - tfjs| <= 1e-4 * max(1, |tfjs|). Every output is a probability or weight in
 * [0, 1] or a quantile in scaled units (|x| of order 1), so this is 1e-4 absolute for all of them
 * unless a quantile grows past 1; float32 carries ~7 digits, and the two runtimes sum products in
 * different orders over a ~1,000-node chain (the unrolled LSTM, softmaxes, layer norms), which
 * costs ~1e-6 here: 1e-4 leaves two orders of margin while any wrong op (a transposed weight, a
 * wrong axis, a missing bias) moves outputs by 1e-2 or more.
 */

const TOL = 1e-4;

const OUTPUT_FIELD: Record<(typeof TFT_OUTPUT_NAMES)[number], keyof TftPrediction> = {
  quantiles: 'quantiles',
  risk: 'risk',
  failure_mode: 'failureMode',
  static_weights: 'staticWeights',
  encoder_weights: 'encoderWeights',
  decoder_weights: 'decoderWeights',
  attention: 'attention',
  past_variable_weights: 'pastVariableWeights',
  future_variable_weights: 'futureVariableWeights',
  past_attention: 'pastAttention',
};

/** Default-initialised weights have zero biases and unit gammas, which would hide a dropped bias: perturb all. */
function randomModel(config: TftConfig, seed: number): TftModel {
  const model = new TftModel(config, { seed });
  const rand = seededRandom(seed * 7919 + 1);
  const weights = model.serialize();
  for (const w of Object.values(weights)) for (let i = 0; i < w.data.length; i++) w.data[i] = w.data[i]! + (rand() - 0.5) * 0.4;
  model.load(weights);
  return model;
}

function randomBatch(c: TftConfig, b: number, seed: number): WindowBatch {
  const rand = seededRandom(seed);
  const te = c.contextSteps;
  const t = c.contextSteps + c.horizonSteps;
  const observedMask = Float32Array.from({ length: b * te * c.observedChannels }, () => {
    const r = rand();
    return r < 0.1 ? 0 : r < 0.2 ? Math.round(rand() * 6) / 6 : 1;
  });
  const observed = Float32Array.from(observedMask, (m) => (m === 0 ? 0 : rand() * 4 - 2));
  return {
    size: b,
    observed,
    observedMask,
    known: Float32Array.from({ length: b * t * c.knownChannels }, () => rand() * 2 - 1),
    profile: Int32Array.from({ length: b }, () => Math.floor(rand() * c.profiles)),
    serverBucket: Int32Array.from({ length: b }, () => Math.floor(rand() * c.serverBuckets)),
    targets: new Float32Array(b * c.horizonSteps * c.targets),
    targetMask: new Float32Array(b * c.horizonSteps * c.targets),
    risk: new Float32Array(b),
    failureMode: new Int32Array(b),
    server: Array.from({ length: b }, (_, i) => `s${i}`),
    time: new Float64Array(b),
  };
}

const onnxInputs = (batch: WindowBatch): Record<(typeof TFT_INPUT_NAMES)[number], Float32Array | Int32Array> => ({
  observed: batch.observed,
  observed_mask: batch.observedMask,
  known: batch.known,
  profile: batch.profile,
  server_bucket: batch.serverBucket,
});

/** Rows `from..to` of a batch. */
function rows(batch: WindowBatch, c: TftConfig, from: number, to: number): WindowBatch {
  const per = (n: number): [number, number] => [from * n, to * n];
  const te = c.contextSteps;
  const t = c.contextSteps + c.horizonSteps;
  return {
    ...batch,
    size: to - from,
    observed: batch.observed.slice(...per(te * c.observedChannels)),
    observedMask: batch.observedMask.slice(...per(te * c.observedChannels)),
    known: batch.known.slice(...per(t * c.knownChannels)),
    profile: batch.profile.slice(from, to),
    serverBucket: batch.serverBucket.slice(from, to),
    targets: batch.targets.slice(...per(c.horizonSteps * c.targets)),
    targetMask: batch.targetMask.slice(...per(c.horizonSteps * c.targets)),
    risk: batch.risk.slice(from, to),
    failureMode: batch.failureMode.slice(from, to),
    server: batch.server.slice(from, to),
    time: batch.time.slice(from, to),
  };
}

async function session(exported: Pick<ExportedTft, 'bytes' | 'inputs' | 'outputs'>): Promise<InferenceSession> {
  return createInferenceSession({ modelBytes: exported.bytes, expectedInputs: exported.inputs, expectedOutputs: exported.outputs, provider: 'cpu', logger: createMemoryLogger() });
}

/** Max |onnx - tfjs| per output; fails on any element beyond TOL * max(1, |tfjs|). */
function compare(onnx: Record<string, OutputTensor>, ref: TftPrediction, label: string): Record<string, number> {
  const diffs: Record<string, number> = {};
  for (const name of TFT_OUTPUT_NAMES) {
    const a = onnx[name]!.data as Float32Array;
    const b = ref[OUTPUT_FIELD[name]];
    expect(a.length, `${label} ${name} size`).toBe(b.length);
    let max = 0;
    let worst = -1;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      if (!(d <= TOL * Math.max(1, Math.abs(b[i]!)))) worst = worst < 0 ? i : worst;
      if (!(d <= max)) max = d;
    }
    diffs[name] = max;
    expect(worst, `${label} ${name}: first element off at ${worst} (${a[worst]} vs ${b[worst]}), max diff ${max}`).toBe(-1);
  }
  return diffs;
}

/**
 * The explanation outputs are what they claim to be: recomputed here on the host from the
 * per-step outputs of the same run (mean over steps; attention's context keys averaged over the
 * horizon queries, renormalised), every row summing to 1. Returns the max |difference|.
 */
function checkExplanation(p: Record<'encoderWeights' | 'decoderWeights' | 'attention' | 'pastVariableWeights' | 'futureVariableWeights' | 'pastAttention', Float32Array>, c: TftConfig, b: number, label: string): number {
  const te = c.contextSteps;
  const td = c.horizonSteps;
  const t = te + td;
  const ve = p.encoderWeights.length / (b * te);
  const vd = p.decoderWeights.length / (b * td);
  expect(p.pastVariableWeights.length, `${label} past_variable_weights size`).toBe(b * ve);
  expect(p.futureVariableWeights.length, `${label} future_variable_weights size`).toBe(b * vd);
  expect(p.pastAttention.length, `${label} past_attention size`).toBe(b * te);
  let max = 0;
  const near = (got: number, want: number, what: string): void => {
    const d = Math.abs(got - want);
    if (d > max) max = d;
    expect(d, `${label} ${what}: ${got} vs ${want}`).toBeLessThan(1e-6);
  };
  for (let r = 0; r < b; r++) {
    for (const [steps, v, perStep, mean, name] of [
      [te, ve, p.encoderWeights, p.pastVariableWeights, 'past_variable_weights'],
      [td, vd, p.decoderWeights, p.futureVariableWeights, 'future_variable_weights'],
    ] as const) {
      let rowSum = 0;
      for (let j = 0; j < v; j++) {
        let acc = 0;
        for (let s = 0; s < steps; s++) acc += perStep[(r * steps + s) * v + j]!;
        near(mean[r * v + j]!, acc / steps, `${name}[${r}, ${j}]`);
        rowSum += mean[r * v + j]!;
      }
      near(rowSum, 1, `${name}[${r}] sum`);
    }
    const past = new Float64Array(te);
    for (let q = 0; q < td; q++) for (let k = 0; k < te; k++) past[k] = past[k]! + p.attention[(r * td + q) * t + k]!;
    const total = past.reduce((a, x) => a + x, 0);
    let rowSum = 0;
    for (let k = 0; k < te; k++) {
      near(p.pastAttention[r * te + k]!, past[k]! / total, `past_attention[${r}, ${k}]`);
      expect(p.pastAttention[r * te + k]!).toBeGreaterThanOrEqual(0);
      rowSum += p.pastAttention[r * te + k]!;
    }
    near(rowSum, 1, `past_attention[${r}] sum`);
  }
  return max;
}

const fmt = (d: Record<string, number>): string =>
  Object.entries(d)
    .map(([k, v]) => `${k} ${v.toExponential(1)}`)
    .join(', ');

/** Small spec: every layer present, sizes distinct, a few seconds to export and run. */
function smallSpec(): FeatureSpec {
  const spec = JSON.parse(JSON.stringify(DEFAULT_FEATURE_SPEC)) as FeatureSpec;
  return {
    ...spec,
    contextSteps: 8,
    horizonSteps: 3,
    observed: observedChannels(['cpu_percent', 'memory_percent'], ['mean', 'max', 'slope']),
    known: ['hour_sin', 'hour_cos', 'weekend'],
    targets: ['cpu_percent', 'memory_percent'],
    serverBuckets: 5,
  };
}

const SMALL_HYPER: Partial<TftHyperParams> = { hidden: 8, heads: 2, variableHidden: 4 };

beforeAll(async () => {
  await useBackend('wasm');
});

describe('exportTftToOnnx: signature', () => {
  it('declares documented inputs and outputs with the shapes tftForward consumes and produces, and index ranges', () => {
    const spec = DEFAULT_FEATURE_SPEC;
    const c = tftConfigFromSpec(spec);
    const model = randomModel(c, 3);
    try {
      const ex = exportTftToOnnx(model, spec);
      const te = spec.contextSteps;
      const td = spec.horizonSteps;
      expect(ex.inputs.map((t) => t.name)).toEqual([...TFT_INPUT_NAMES]);
      expect(ex.outputs.map((t) => t.name)).toEqual([...TFT_OUTPUT_NAMES]);
      expect(ex.inputs.map((t) => [t.name, t.dtype, t.shape, t.range])).toEqual([
        ['observed', 'float32', [-1, te, 30], undefined],
        ['observed_mask', 'float32', [-1, te, 30], undefined],
        ['known', 'float32', [-1, te + td, 5], undefined],
        ['profile', 'int32', [-1], [0, spec.profiles.length - 1]],
        ['server_bucket', 'int32', [-1], [0, spec.serverBuckets - 1]],
      ]);
      expect(ex.outputs.map((t) => [t.name, t.dtype, t.shape])).toEqual([
        ['quantiles', 'float32', [-1, td, 5, 3]],
        ['risk', 'float32', [-1]],
        ['failure_mode', 'float32', [-1, 7]],
        ['static_weights', 'float32', [-1, 2]],
        ['encoder_weights', 'float32', [-1, te, 15]],
        ['decoder_weights', 'float32', [-1, td, 5]],
        ['attention', 'float32', [-1, td, te + td]],
        ['past_variable_weights', 'float32', [-1, 15]],
        ['future_variable_weights', 'float32', [-1, 5]],
        ['past_attention', 'float32', [-1, te]],
      ]);
      expect(hasExplanationOutputs(ex.outputs)).toBe(true);
      expect(hasExplanationOutputs(ex.outputs.filter((t) => t.name !== 'past_attention'))).toBe(false);
      for (const t of [...ex.inputs, ...ex.outputs]) {
        expect(t.doc).toMatch(/^\(batch[,)]/);
        expect(t.doc).toContain(t.dtype);
      }
      const model2 = decodeModel(ex.bytes);
      expect(model2.graph?.input?.map((i) => [i.name, i.docString])).toEqual(ex.inputs.map((t) => [t.name, t.doc]));
      expect(Number(String(model2.opsetImport?.[0]?.version))).toBe(17);
      console.log(`default TFT export: ${ex.nodes} nodes, ${ex.bytes.length} bytes, ${model.paramCount()} parameters`);
    } finally {
      model.dispose();
    }
  }, 60_000);

  it('refuses a config that does not match the spec, and weights that do not match the config', () => {
    const spec = smallSpec();
    const c = tftConfigFromSpec(spec, SMALL_HYPER);
    const model = randomModel(c, 1);
    try {
      expect(() => exportTftToOnnx(model, { ...spec, horizonSteps: 4 })).toThrow(/horizonSteps 3 \(config\) vs 4 \(spec\)/);
      const weights = model.serialize();
      const name = Object.keys(weights)[0]!;
      const missing = { ...weights };
      delete missing[name];
      expect(() => exportTftToOnnx({ config: c, weights: missing }, spec)).toThrow(`missing ${name}`);
      expect(() => exportTftToOnnx({ config: c, weights: { ...weights, extra: { data: new Float32Array(1), shape: [1] } } }, spec)).toThrow('unexpected extra');
    } finally {
      model.dispose();
    }
  }, 60_000);
});

describe('exportTftToOnnx: parity with TF.js (onnxruntime cpu vs tfjs wasm)', () => {
  const variants: [string, Partial<TftHyperParams>][] = [
    ['shared GRN, variables = metrics', {}],
    ['per-variable GRNs', { variableGrn: 'per-variable' }],
    ['no variable GRN', { variableGrn: 'none' }],
    ['variables = channels, variableHidden = hidden', { observedVariables: 'channel', variableHidden: 8 }],
  ];
  it.each(variants)('small config (%s), random inputs', async (label, hyper) => {
    const spec = smallSpec();
    const c = tftConfigFromSpec(spec, { ...SMALL_HYPER, ...hyper });
    const model = randomModel(c, 11);
    try {
      const ex = exportTftToOnnx(model, spec);
      const s = await session(ex);
      try {
        const batch = randomBatch(c, 17, 5);
        const ref = model.predict(batch);
        const diffs = compare(await s.run(onnxInputs(batch), batch.size), ref, label);
        const host = checkExplanation(ref, c, batch.size, label);
        console.log(`small (${label}), random B=17: ${ex.nodes} nodes; max |diff| ${fmt(diffs)}; explanation vs host ${host.toExponential(1)}`);
      } finally {
        await s.close();
      }
    } finally {
      model.dispose();
    }
  }, 60_000);

  describe('default config', () => {
    const spec = DEFAULT_FEATURE_SPEC;
    const c = tftConfigFromSpec(spec);
    let model: TftModel;
    let exported: ExportedTft;
    let s: InferenceSession;
    let real: WindowBatch;
    let dir: string;

    beforeAll(async () => {
      model = randomModel(c, 42);
      exported = exportTftToOnnx(model, spec);
      const t0 = performance.now();
      s = await session(exported);
      console.log(`default TFT: ${exported.nodes} nodes, ${(exported.bytes.length / 1024).toFixed(0)} KiB; session created in ${(performance.now() - t0).toFixed(0)} ms (report: ${s.report.attempts[0]?.createMs} ms)`);
      const fleet = generateFleet({ seed: 'export-parity', start: MONDAY, servers: defaultFleet(4), hours: 4 * 24 });
      const dataset = buildDataset(fleet.columns, fleet.incidents, {
        seed: 3,
        heldOutCount: 1,
        dataEnd: fleet.end - STEP_MS,
        profileOf: (server) => fleet.mapping.get(server)!.profile,
      });
      const train = dataset.materialize('train');
      const validation = dataset.materialize('validation');
      // Up to 64 training windows (known servers) and up to 32 validation ones (the held-out server: bucket 0).
      const pick = (b: WindowBatch, n: number): WindowBatch => rows(b, c, 0, Math.min(n, b.size));
      const a = pick(train, 64);
      const v = pick(validation, 32);
      real = concatBatches([a, v]);
      dir = await mkdtemp(join(tmpdir(), 'tft-export-'));
    }, 120_000);

    afterAll(async () => {
      await s?.close();
      model?.dispose();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('random inputs', async () => {
      const batch = randomBatch(c, 32, 9);
      const diffs = compare(await s.run(onnxInputs(batch), batch.size), model.predict(batch), 'default random');
      console.log(`default, random B=32: max |diff| ${fmt(diffs)}`);
    }, 60_000);

    it('real windows of a simulated fleet (buildDataset), known and unknown servers', async () => {
      expect(real.size).toBeGreaterThan(32);
      expect(Array.from(real.serverBucket).some((b) => b === 0)).toBe(true);
      expect(Array.from(real.observedMask).some((m) => m === 0)).toBe(true);
      const ref = model.predict(real);
      const onnx = await s.run(onnxInputs(real), real.size);
      const diffs = compare(onnx, ref, 'default real');
      const host = checkExplanation(ref, c, real.size, 'default real, tfjs');
      const f = (name: string): Float32Array => onnx[name]!.data as Float32Array;
      const hostOnnx = checkExplanation(
        {
          encoderWeights: f('encoder_weights'),
          decoderWeights: f('decoder_weights'),
          attention: f('attention'),
          pastVariableWeights: f('past_variable_weights'),
          futureVariableWeights: f('future_variable_weights'),
          pastAttention: f('past_attention'),
        },
        c,
        real.size,
        'default real, onnx',
      );
      console.log(`default, real windows B=${real.size}: max |diff| ${fmt(diffs)}; explanation vs host: tfjs ${host.toExponential(1)}, onnx ${hostOnnx.toExponential(1)}`);
    }, 60_000);

    it('B=90 run latency (printed, not asserted)', async () => {
      const batch = randomBatch(c, 90, 13);
      const inputs = onnxInputs(batch);
      await s.run(inputs, 90); // warm-up
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        await s.run(inputs, 90);
        times.push(performance.now() - t0);
      }
      times.sort((x, y) => x - y);
      const t0 = performance.now();
      model.predict(batch);
      const tfjsMs = performance.now() - t0;
      console.log(`B=90: onnxruntime cpu median ${times[5]!.toFixed(1)} ms (min ${times[0]!.toFixed(1)}, max ${times[9]!.toFixed(1)}); tfjs wasm predict ${tfjsMs.toFixed(0)} ms`);
    }, 120_000);

    it('survives the whole artifact path: writeModelFolder -> loadModelFolder -> expectedTensors -> session', async () => {
      const folder = join(dir, 'tft-default');
      await writeModelFolder(folder, { onnxBytes: exported.bytes, manifest: sampleDraft({ featureSpec: JSON.parse(JSON.stringify(spec)) as FeatureSpec, onnx: onnxSectionDraft(exported) }) });
      const loaded = await loadModelFolder(folder);
      expect(loaded.manifest.onnx.inputs).toEqual(exported.inputs);
      expect(loaded.manifest.onnx.outputs).toEqual(exported.outputs);
      const t0 = performance.now();
      const s2 = await createInferenceSession({ modelPath: join(folder, loaded.manifest.onnx.file), ...expectedTensors(loaded.manifest), provider: 'cpu', logger: createMemoryLogger() });
      const createMs = performance.now() - t0;
      try {
        const batch = rows(real, c, 0, 20);
        const diffs = compare(await s2.run(onnxInputs(batch), batch.size), model.predict(batch), 'model folder');
        console.log(`model folder round trip: session ${createMs.toFixed(0)} ms; max |diff| ${fmt(diffs)}`);
        // The declared ranges are enforced before onnxruntime sees an index.
        const bad = { ...onnxInputs(batch), profile: batch.profile.map((_, i) => (i === 3 ? spec.profiles.length : 0)) };
        await expect(s2.run(bad, batch.size)).rejects.toBeInstanceOf(InferenceError);
        const bucket = { ...onnxInputs(batch), server_bucket: batch.serverBucket.map((_, i) => (i === 0 ? -1 : 0)) };
        await expect(s2.run(bucket, batch.size)).rejects.toBeInstanceOf(InferenceError);
      } finally {
        await s2.close();
      }
    }, 120_000);

    it('a model folder exported before the explanation outputs still loads and serves, without them', async () => {
      const older = exportTftToOnnx(model, spec, { explanation: false });
      expect(older.outputs.map((t) => t.name)).toEqual(['quantiles', 'risk', 'failure_mode', 'static_weights', 'encoder_weights', 'decoder_weights', 'attention']);
      expect(older.bytes.length).toBeLessThan(exported.bytes.length);
      const folder = join(dir, 'tft-older');
      await writeModelFolder(folder, { onnxBytes: older.bytes, manifest: sampleDraft({ featureSpec: JSON.parse(JSON.stringify(spec)) as FeatureSpec, onnx: onnxSectionDraft(older) }) });
      const loaded = await loadModelFolder(folder);
      expect(hasExplanationOutputs(loaded.manifest.onnx.outputs)).toBe(false);
      const s2 = await createInferenceSession({ modelBytes: loaded.onnxBytes, ...expectedTensors(loaded.manifest), provider: 'cpu', logger: createMemoryLogger() });
      try {
        const batch = rows(real, c, 0, 8);
        const out = await s2.run(onnxInputs(batch), batch.size);
        expect(Object.keys(out).sort()).toEqual(older.outputs.map((t) => t.name).sort());
        const ref = model.predict(batch);
        expect(Array.from(out.risk!.data as Float32Array).map((x, i) => Math.abs(x - ref.risk[i]!) <= TOL)).not.toContain(false);
      } finally {
        await s2.close();
      }
    }, 120_000);
  });
});

function concatBatches(bs: readonly WindowBatch[]): WindowBatch {
  const f32 = (k: 'observed' | 'observedMask' | 'known' | 'targets' | 'targetMask' | 'risk'): Float32Array => {
    const out = new Float32Array(bs.reduce((n, b) => n + b[k].length, 0));
    let o = 0;
    for (const b of bs) {
      out.set(b[k], o);
      o += b[k].length;
    }
    return out;
  };
  const i32 = (k: 'profile' | 'serverBucket' | 'failureMode'): Int32Array => Int32Array.from(bs.flatMap((b) => Array.from(b[k])));
  return {
    size: bs.reduce((n, b) => n + b.size, 0),
    observed: f32('observed'),
    observedMask: f32('observedMask'),
    known: f32('known'),
    targets: f32('targets'),
    targetMask: f32('targetMask'),
    risk: f32('risk'),
    profile: i32('profile'),
    serverBucket: i32('serverBucket'),
    failureMode: i32('failureMode'),
    server: bs.flatMap((b) => b.server),
    time: Float64Array.from(bs.flatMap((b) => Array.from(b.time))),
  };
}

describe('exportTftToOnnx: the seasonal blend of the forecast base', () => {
  it('moves each target band blend[g] of the way to yesterday, in TF.js and in the ONNX graph alike', async () => {
    const fleet = generateFleet({ seed: 'blend-parity', start: MONDAY, servers: defaultFleet(3), hours: 3 * 24 });
    const dataset = buildDataset(fleet.columns, fleet.incidents, {
      seed: 5,
      heldOutCount: 0,
      dataEnd: fleet.end - STEP_MS,
      profileOf: (server) => fleet.mapping.get(server)!.profile,
    });
    const spec = dataset.spec;
    const plain = tftConfigFromSpec(spec, SMALL_HYPER);
    expect(plain.forecastBase).toBeDefined();
    const lagSteps = (24 * 60) / spec.stepMinutes;
    const blend = spec.targets.map((_, g) => [0.75, 0.5, 0, 0.25, 1][g % 5]!);
    const blended: TftConfig = { ...plain, forecastBase: { ...plain.forecastBase!, seasonal: { lagSteps, blend } } };
    const without = randomModel(plain, 23);
    const model = new TftModel(blended, { seed: 23 });
    model.load(without.serialize());
    try {
      const batch = rows(dataset.materialize('train'), plain, 0, 24);
      const ref = model.predict(batch);
      const base = without.predict(batch).quantiles;
      // By hand: q + blend[g] (yesterday - median), yesterday from the lagged observed channel.
      const { channels, center, scale } = plain.forecastBase!;
      const T = spec.targets.length;
      const Q = plain.quantiles.length;
      const H = spec.horizonSteps;
      const C = spec.observed.length;
      const mid = plain.quantiles.indexOf(0.5);
      let worst = 0;
      for (let b = 0; b < batch.size; b++)
        for (let h = 0; h < H; h++)
          for (let g = 0; g < T; g++) {
            const o = ((b * H + h) * T + g) * Q;
            const yesterday = scale[g]! * batch.observed[(b * spec.contextSteps + spec.contextSteps - lagSteps + h) * C + channels[g]!]! + center[g]!;
            const shift = blend[g]! * (yesterday - base[o + mid]!);
            for (let k = 0; k < Q; k++) worst = Math.max(worst, Math.abs(ref.quantiles[o + k]! - (base[o + k]! + shift)));
          }
      expect(worst).toBeLessThan(1e-4);
      // The risk and every other output are untouched.
      expect(Array.from(ref.risk)).toEqual(Array.from(without.predict(batch).risk));
      const ex = exportTftToOnnx(model, spec);
      const s = await session(ex);
      try {
        const diffs = compare(await s.run(onnxInputs(batch), batch.size), ref, 'seasonal blend');
        console.log(`seasonal blend, real windows B=${batch.size}: max |diff| ${fmt(diffs)}; vs hand ${worst.toExponential(1)}`);
      } finally {
        await s.close();
      }
    } finally {
      model.dispose();
      without.dispose();
    }
  }, 120_000);

  it('refuses a blend outside [0, 1] or a lag the context cannot hold', () => {
    const plain = tftConfigFromSpec({ ...DEFAULT_FEATURE_SPEC, normalization: { center: DEFAULT_FEATURE_SPEC.observed.map(() => 0), scale: DEFAULT_FEATURE_SPEC.observed.map(() => 1) } }, SMALL_HYPER);
    const T = plain.targets;
    const withSeasonal = (lagSteps: number, blend: number[]): TftConfig => ({ ...plain, forecastBase: { ...plain.forecastBase!, seasonal: { lagSteps, blend } } });
    expect(() => new TftModel(withSeasonal(48, new Array<number>(T).fill(1.5)), { seed: 1 })).toThrow(/blend needs one value in \[0, 1\]/);
    expect(() => new TftModel(withSeasonal(plain.contextSteps + 1, new Array<number>(T).fill(0.5)), { seed: 1 })).toThrow(/lagSteps must be an integer/);
  });
});
