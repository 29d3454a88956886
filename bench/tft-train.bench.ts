/**
 * TFT training and forward benchmarks (TF.js): median ms per training step (forward + backward +
 * optimizer update, B = 64) on the wasm and cpu backends, forward-only latency for B = 90 and
 * B = 1,000, and where a wasm forward spends its time, layer by layer. Prints one JSON object;
 * TFT_BENCH_OUT=file also writes it there.
 *
 *   npx vitest bench --run bench/tft-train.bench.ts
 *
 * Env: TFT_BENCH_STEPS (timed training steps on wasm, default 20; cpu runs a third of them),
 * TFT_BENCH_BACKENDS (default "wasm,cpu"), TFT_BENCH_HPARAMS (JSON overrides of the
 * hyper-parameters, e.g. '{"variableGrn":"none"}'), TFT_BENCH_BATCH (training batch, default 64),
 * TFT_BENCH_ABLATIONS=1 (also time variants
 * that remove one cost centre each, to attribute the training step to layers).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { bench, describe } from 'vitest';
import type { Ops } from '../src/main/core/model/ops';
import { DEFAULT_FEATURE_SPEC } from '../src/main/core/model/features/feature-spec';
import { selectBackend, type TfBackendName } from '../src/main/core/model/tft/backend';
import { tftConfigFromSpec, type TftConfig, type TftHyperParams } from '../src/main/core/model/tft/config';
import { HostAdam } from '../src/main/core/model/tft/host-adam';
import { sliceBatch, syntheticBatch } from '../src/main/core/model/tft/testing/synthetic';
import { tftForward } from '../src/main/core/model/tft/tft-model';
import { TftModel, disposeInputs } from '../src/main/core/model/tft/tft-tfjs';
import { trainStep } from '../src/main/core/model/tft/train-step';
import { median, round } from '../src/main/core/util/stats';

const STEPS = Number(process.env.TFT_BENCH_STEPS ?? 20);
const BACKENDS = (process.env.TFT_BENCH_BACKENDS ?? 'wasm,cpu').split(',') as TfBackendName[];
const HPARAMS = JSON.parse(process.env.TFT_BENCH_HPARAMS ?? '{}') as Partial<TftHyperParams>;
const BATCH = Number(process.env.TFT_BENCH_BATCH ?? 64);


function timeTraining(config: TftConfig, steps: number): { msPerStep: number; minMs: number; params: number } {
  const model = new TftModel(config, { seed: 1 });
  const data = syntheticBatch(config, { count: BATCH * 8, seed: 2 });
  const optimizer = new HostAdam({ learningRate: 1e-3, clipNorm: 1 });
  const batch = (i: number) => sliceBatch(data, (i % 8) * BATCH, (i % 8) * BATCH + BATCH);
  for (let i = 0; i < 3; i++) trainStep(model, batch(i), optimizer);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const b = batch(i);
    const t = performance.now();
    trainStep(model, b, optimizer);
    times.push(performance.now() - t);
  }
  const params = model.paramCount();
  model.dispose();
  return { msPerStep: round(median(times)), minMs: round(Math.min(...times)), params };
}

function timeForward(config: TftConfig, size: number, runs: number): number {
  const model = new TftModel(config, { seed: 1 });
  const data = syntheticBatch(config, { count: size, seed: 3 });
  model.predict(data);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    model.predict(data);
    times.push(performance.now() - t);
  }
  model.dispose();
  return round(median(times));
}

/** Forward time per top-level layer: each Ops call is charged to the layer whose weight it last read. */
function forwardByLayer(config: TftConfig, runs: number): Record<string, number> {
  const model = new TftModel(config, { seed: 1 });
  const data = syntheticBatch(config, { count: BATCH, seed: 4 });
  const charged = new Map<string, number>();
  let layer = 'inputs';
  let since = 0;
  const charge = (next: string): void => {
    const now = performance.now();
    charged.set(layer, (charged.get(layer) ?? 0) + now - since);
    since = now;
    layer = next;
  };
  const inner = model.ops;
  const ops = new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (prop !== 'weight' || typeof value !== 'function') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return (name: string) => {
        charge(name.split('.')[0]!);
        return inner.weight(name);
      };
    },
  }) as Ops<tf.Tensor>;
  const inputs = model.inputsFromBatch(data);
  const once = (): void =>
    tf.tidy(() => {
      layer = 'inputs';
      since = performance.now();
      const out = tftForward(ops, config, inputs, model.kernels);
      out.risk.dataSync();
      charge('done');
    });
  once();
  charged.clear();
  for (let i = 0; i < runs; i++) once();
  disposeInputs(inputs);
  model.dispose();
  charged.delete('done');
  return Object.fromEntries([...charged.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v / runs, 2)]));
}

async function run(): Promise<Record<string, unknown>> {
  const config = tftConfigFromSpec(DEFAULT_FEATURE_SPEC, HPARAMS);
  const result: Record<string, unknown> = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAtStart: round(loadavg()[0]!, 2) },
    config: {
      hidden: config.hidden,
      heads: config.heads,
      variableHidden: config.variableHidden,
      variableGrn: config.variableGrn,
      contextSteps: config.contextSteps,
      horizonSteps: config.horizonSteps,
      observedChannels: config.observedChannels,
      knownChannels: config.knownChannels,
      targets: config.targets,
      quantiles: config.quantiles.length,
      batch: BATCH,
    },
    targetMsPerStep: 150,
  };
  for (const backend of BACKENDS) {
    const info = await selectBackend({ prefer: [backend] });
    const steps = backend === 'wasm' ? STEPS : Math.max(3, Math.round(STEPS / 3));
    const train = timeTraining(config, steps);
    result.params = train.params;
    const entry: Record<string, unknown> = {
      backend: info.name,
      trainStep: { steps, medianMs: train.msPerStep, minMs: train.minMs, samplesPerSecond: round((BATCH * 1000) / train.msPerStep, 0) },
      forwardMs: { b90: timeForward(config, 90, 5), b1000: timeForward(config, 1000, backend === 'wasm' ? 3 : 1) },
    };
    if (backend === 'wasm') {
      entry.forwardByLayerMs = forwardByLayer(config, 5);
      if (process.env.TFT_BENCH_ABLATIONS) {
        const { observedGroups: _grouped, ...perChannel } = config;
        const variants: Record<string, TftConfig> = {
          'one variable per channel (35 encoder variables)': perChannel,
          'variableGrn none (no per-variable GRN)': { ...config, variableGrn: 'none' },
          'variableGrn per-variable (own weights per variable)': { ...config, variableGrn: 'per-variable' },
          'one observed channel (encoder VSN ~free)': { ...perChannel, observedChannels: 1 },
          'context 8 + horizon 4 (sequence layers ~free)': { ...config, contextSteps: 8, horizonSteps: 4 },
        };
        entry.ablationsMsPerStep = Object.fromEntries(Object.entries(variants).map(([k, v]) => [k, timeTraining(v, Math.max(5, STEPS >> 1)).msPerStep]));
      }
    }
    result[backend] = entry;
  }
  result.loadAtEnd = round(loadavg()[0]!, 2);
  return result;
}

describe('tft', () => {
  bench(
    'TFT training and forward (JSON on stdout)',
    async () => {
      const json = JSON.stringify(await run(), null, 2);
      console.log(json);
      if (process.env.TFT_BENCH_OUT) writeFileSync(process.env.TFT_BENCH_OUT, `${json}\n`);
    },
    // One pass: the function measures its own medians, tinybench's timing of it is not the result.
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
