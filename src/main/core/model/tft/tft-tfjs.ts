import * as tf from '@tensorflow/tfjs';
import type { WindowBatch } from '../features/feature-spec';
import { validateConfig, type TftConfig } from './config';
import { fusedLstmScan } from './tfjs-lstm';
import { TfjsOps } from './tfjs-ops';
import { tftExplanation, tftForward, tftParams, type TftInputs, type TftKernels, type TftOutputs } from './tft-model';
import { WeightStore, seededRandom, type SerializedWeights } from './weight-store';

/**
 * The TFT as a TF.js model: weights, the Ops that run them, and the fused kernels used for speed.
 * Created once per training run (or per TF.js inference session); dispose() frees the weights.
 */
export interface TftModelOptions {
  /** Weight initialisation seed (and default seed of the unknown-server augmentation). Default 1. */
  seed?: number;
  /** Use the fused LSTM (hand-written backward). Default true; false runs the generic recurrence. */
  fusedLstm?: boolean;
}

export class TftModel {
  readonly store: WeightStore;
  readonly ops: TfjsOps;
  readonly kernels: TftKernels<tf.Tensor>;
  readonly seed: number;

  constructor(
    readonly config: TftConfig,
    options: TftModelOptions = {},
  ) {
    validateConfig(config);
    this.seed = options.seed ?? 1;
    this.store = WeightStore.create(tftParams(config), this.seed);
    this.ops = new TfjsOps(this.store);
    this.kernels = options.fusedLstm === false ? {} : { lstmScan: fusedLstmScan() };
  }

  /** Scalar parameters in the model. */
  paramCount(): number {
    return this.store.paramCount();
  }

  /** The forward pass on tensors (call inside tf.tidy). Shapes: TftInputs -> TftOutputs. */
  forward(inputs: TftInputs<tf.Tensor>): TftOutputs<tf.Tensor> {
    return tftForward(this.ops, this.config, inputs, this.kernels);
  }

  /**
   * Input tensors for a batch (caller disposes; see `disposeInputs`). `unknownServers` replaces
   * each window's server bucket by 0 with that probability (training augmentation, so the
   * unknown bucket learns "a server of this profile"), drawn from `random`.
   */
  inputsFromBatch(batch: WindowBatch, unknownServers?: { rate: number; random: () => number }): TftInputs<tf.Tensor> {
    const c = this.config;
    const b = batch.size;
    const te = c.contextSteps;
    const t = c.contextSteps + c.horizonSteps;
    expectLength('observed', batch.observed, b * te * c.observedChannels);
    expectLength('observedMask', batch.observedMask, b * te * c.observedChannels);
    expectLength('known', batch.known, b * t * c.knownChannels);
    expectLength('profile', batch.profile, b);
    expectLength('serverBucket', batch.serverBucket, b);
    let buckets = batch.serverBucket;
    if (unknownServers && unknownServers.rate > 0) {
      buckets = buckets.slice();
      for (let i = 0; i < b; i++) if (unknownServers.random() < unknownServers.rate) buckets[i] = 0;
    }
    for (let i = 0; i < b; i++) {
      const p = batch.profile[i]!;
      const s = buckets[i]!;
      if (p < 0 || p >= c.profiles) throw new Error(`window ${i}: profile ${p} outside [0, ${c.profiles})`);
      if (s < 0 || s >= c.serverBuckets) throw new Error(`window ${i}: server bucket ${s} outside [0, ${c.serverBuckets})`);
    }
    return this.ops.markData({
      observed: tf.tensor3d(batch.observed, [b, te, c.observedChannels]),
      observedMask: tf.tensor3d(batch.observedMask, [b, te, c.observedChannels]),
      known: tf.tensor3d(batch.known, [b, t, c.knownChannels]),
      profile: tf.tensor1d(batch.profile, 'int32'),
      serverBucket: tf.tensor1d(buckets, 'int32'),
    });
  }

  /** Runs the model on a batch and copies every output to the host. */
  predict(batch: WindowBatch): TftPrediction {
    const inputs = this.inputsFromBatch(batch);
    try {
      const outs = tf.tidy(() => {
        const o = this.forward(inputs);
        const e = tftExplanation(this.ops, this.config, o);
        return [o.quantiles, o.risk, o.failureMode, o.staticWeights, o.encoderWeights, o.decoderWeights, o.attention, e.pastVariableWeights, e.futureVariableWeights, e.pastAttention];
      });
      // Read outside tidy: tidy walks returned typed arrays element by element.
      const [quantiles, risk, failureMode, staticWeights, encoderWeights, decoderWeights, attention, pastVariableWeights, futureVariableWeights, pastAttention] = outs.map((x) =>
        x.dataSync<'float32'>(),
      );
      tf.dispose(outs);
      return {
        quantiles: quantiles!,
        risk: risk!,
        failureMode: failureMode!,
        staticWeights: staticWeights!,
        encoderWeights: encoderWeights!,
        decoderWeights: decoderWeights!,
        attention: attention!,
        pastVariableWeights: pastVariableWeights!,
        futureVariableWeights: futureVariableWeights!,
        pastAttention: pastAttention!,
      };
    } finally {
      disposeInputs(inputs);
    }
  }

  serialize(): SerializedWeights {
    return this.store.serialize();
  }

  load(weights: SerializedWeights): void {
    this.store.load(weights);
  }

  /** A seeded random stream derived from the model seed (for augmentation). */
  random(stream = 0): () => number {
    return seededRandom((this.seed * 0x9e3779b1 + stream) >>> 0);
  }

  dispose(): void {
    this.store.dispose();
  }
}

/** Host copies of the outputs, row-major with the shapes of TftOutputs. */
export interface TftPrediction {
  /** (B, Td, targets, Q). */
  quantiles: Float32Array;
  /** (B). */
  risk: Float32Array;
  /** (B, F). */
  failureMode: Float32Array;
  /** (B, 2). */
  staticWeights: Float32Array;
  /** (B, Te, C + K). */
  encoderWeights: Float32Array;
  /** (B, Td, K). */
  decoderWeights: Float32Array;
  /** (B, Td, Te + Td). */
  attention: Float32Array;
  /** (B, G + K), (B, K), (B, Te): the explanation outputs (TftExplanation). */
  pastVariableWeights: Float32Array;
  futureVariableWeights: Float32Array;
  pastAttention: Float32Array;
}

export function disposeInputs(inputs: TftInputs<tf.Tensor>): void {
  tf.dispose([inputs.observed, inputs.observedMask, inputs.known, inputs.profile, inputs.serverBucket]);
}

function expectLength(what: string, a: ArrayLike<number>, n: number): void {
  if (a.length !== n) throw new Error(`WindowBatch.${what}: ${a.length} values, expected ${n}`);
}
