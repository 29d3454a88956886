import * as tf from '@tensorflow/tfjs';
import type { Ops } from '../../ops';
import { selectBackend, type TfBackendName } from '../backend';
import { DEFAULT_HYPER_PARAMS, type TftConfig } from '../config';
import type { TftInputs } from '../tft-model';
import type { TfjsOps } from '../tfjs-ops';
import { seededRandom } from '../weight-store';

/** Activates a backend for a test file (call in beforeAll). */
export async function useBackend(name: TfBackendName = 'wasm'): Promise<void> {
  const info = await selectBackend({ prefer: [name] });
  if (info.name !== name) throw new Error(`wanted ${name}, got ${info.name}`);
}

/** A small but complete configuration: every layer present, every size distinct. */
export function tinyConfig(over: Partial<TftConfig> = {}): TftConfig {
  return {
    contextSteps: 6,
    horizonSteps: 3,
    observedChannels: 3,
    knownChannels: 2,
    targets: 2,
    quantiles: [0.1, 0.5, 0.9],
    failureModes: 3,
    profiles: 3,
    serverBuckets: 5,
    ...DEFAULT_HYPER_PARAMS,
    hidden: 8,
    heads: 2,
    variableHidden: 4,
    ...over,
  };
}

/** Random model inputs (batch b), marked as data for the ops. */
export function randomInputs(c: TftConfig, b: number, seed: number, ops?: TfjsOps): TftInputs<tf.Tensor> {
  const rand = seededRandom(seed);
  const fill = (n: number, f: () => number): Float32Array => Float32Array.from({ length: n }, f);
  const t = c.contextSteps + c.horizonSteps;
  const inputs = {
    observed: tf.tensor3d(fill(b * c.contextSteps * c.observedChannels, () => rand() * 2 - 1), [b, c.contextSteps, c.observedChannels]),
    observedMask: tf.tensor3d(fill(b * c.contextSteps * c.observedChannels, () => (rand() < 0.9 ? 1 : 0)), [b, c.contextSteps, c.observedChannels]),
    known: tf.tensor3d(fill(b * t * c.knownChannels, () => rand() * 2 - 1), [b, t, c.knownChannels]),
    profile: tf.tensor1d(Int32Array.from({ length: b }, () => Math.floor(rand() * c.profiles)), 'int32'),
    serverBucket: tf.tensor1d(Int32Array.from({ length: b }, () => Math.floor(rand() * c.serverBuckets)), 'int32'),
  };
  return ops ? ops.markData(inputs) : inputs;
}

/** Asserts two arrays agree elementwise within |a - b| <= atol + rtol |b|; returns the max abs error. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * Runs `f` (which must dispose what it creates, e.g. by returning nothing from a tidy) `times`
 * times and returns how many tensors were created and not released.
 */
export function leakedTensors(f: () => void, times = 3): number {
  f(); // first call may create lazily cached constants
  const before = tf.memory().numTensors;
  for (let i = 0; i < times; i++) f();
  return tf.memory().numTensors - before;
}

/**
 * The bare `Ops` surface of an implementation, without its optional capabilities (`linear`,
 * `embedVariables`): what a recorder that implements only `Ops` (the ONNX exporter) makes the
 * generic code do. Fast paths and generic paths must compute the same function.
 */
export function plainOps(ops: TfjsOps): Ops<tf.Tensor> {
  const names = [
    'weight', 'constant', 'add', 'sub', 'mul', 'div', 'sigmoid', 'tanh', 'relu', 'elu', 'exp', 'matMul', 'softmax', 'layerNorm',
    'concat', 'slice', 'reshape', 'transpose', 'expandDims', 'stack', 'sum', 'mean', 'gather', 'shape',
  ] as const;
  const out: Record<string, unknown> = {};
  for (const n of names) out[n] = (ops[n] as (...a: unknown[]) => unknown).bind(ops);
  return out as unknown as Ops<tf.Tensor>;
}
