import { randomBytes } from 'node:crypto';
import { DEFAULT_FEATURE_SPEC, type FeatureSpec } from '../../features/feature-spec';
import { type ModelManifestDraft } from '../model-manifest';

/** A fresh, mutable copy (the default spec is frozen). */
export function featureSpecCopy(): FeatureSpec {
  return JSON.parse(JSON.stringify(DEFAULT_FEATURE_SPEC)) as FeatureSpec;
}

/** Stand-in ONNX bytes: the folder format does not parse the graph, it checks size and sha256. */
export function fakeOnnxBytes(size = 4096): Uint8Array {
  return new Uint8Array(randomBytes(size));
}

/** A complete draft shaped like the TFT trainer's (default feature spec, 30-minute steps). */
export function sampleDraft(overrides: Partial<ModelManifestDraft> = {}): ModelManifestDraft {
  const spec = featureSpecCopy();
  const T = spec.contextSteps;
  const H = spec.horizonSteps;
  return {
    name: 'tft-test',
    version: '2024.06.01-1',
    createdAt: '2024-06-01T12:00:00.000Z',
    featureSpec: spec,
    onnx: {
      opset: 17,
      inputs: [
        { name: 'observed', dtype: 'float32', shape: [-1, T, spec.observed.length], doc: 'scaled observed channels' },
        {
          name: 'observed_mask',
          dtype: 'float32',
          shape: [-1, T, spec.observed.length],
          doc: 'share of valid samples',
        },
        { name: 'known', dtype: 'float32', shape: [-1, T + H, spec.known.length], doc: 'calendar channels' },
        {
          name: 'profile',
          dtype: 'int32',
          shape: [-1],
          doc: 'index into featureSpec.profiles',
          range: [0, spec.profiles.length - 1],
        },
        {
          name: 'server_bucket',
          dtype: 'int32',
          shape: [-1],
          doc: '0 = unknown server',
          range: [0, spec.serverBuckets - 1],
        },
      ],
      outputs: [
        {
          name: 'quantiles',
          dtype: 'float32',
          shape: [-1, H, spec.targets.length, spec.quantiles.length],
          doc: 'scaled',
        },
        { name: 'risk', dtype: 'float32', shape: [-1], doc: 'P(incident within the horizon)' },
        {
          name: 'failure_mode',
          dtype: 'float32',
          shape: [-1, spec.failureModes.length],
          doc: 'softmax over failureModes',
        },
      ],
    },
    hyperParameters: {
      hiddenSize: 32,
      attentionHeads: 4,
      dropout: 0.1,
      lstmLayers: 1,
      optimizer: 'adam',
      fusedGates: true,
    },
    training: {
      backend: 'wasm',
      seed: 42,
      epochsRun: 20,
      bestEpoch: 17,
      durationMs: 241_000,
      samplesPerSecond: 812.5,
      finalTrainLoss: 0.0812,
      finalValidationLoss: 0.0954,
      dataset: {
        description: 'simulated, 4 servers x 30 days, seed 42',
        servers: 4,
        profiles: ['ml_compute', 'database'],
        timeRange: { start: '2024-05-01T00:00:00.000Z', end: '2024-05-31T00:00:00.000Z' },
        windows: { train: 5000, validation: 1200 },
        positives: { train: 310, validation: 70 },
        trainingServers: ['ppml0001', 'ppdb001', 'ppml0002'],
      },
    },
    evaluation: { figures: { riskAuc: 0.91, p50MaeCpu: 3.2 }, alertThreshold: 0.42 },
    notes: 'fixture',
    ...overrides,
  };
}
