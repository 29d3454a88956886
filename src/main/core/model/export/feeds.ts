import type { WindowBatch } from '../features/feature-spec';

/**
 * Graph input names of the exported TFT, in order. Here rather than in export-tft.ts so that
 * the runtime (the fleet loop, replay, evaluation) names its feeds without importing the
 * exporter and, through it, TF.js.
 */
export const TFT_INPUT_NAMES = ['observed', 'observed_mask', 'known', 'profile', 'server_bucket'] as const;

export type TftInputName = (typeof TFT_INPUT_NAMES)[number];

/** Each input of the exported TFT and the WindowBatch field that feeds it (same layout, no copy). */
export const TFT_INPUT_FIELDS = {
  observed: 'observed',
  observed_mask: 'observedMask',
  known: 'known',
  profile: 'profile',
  server_bucket: 'serverBucket',
} as const satisfies Record<TftInputName, keyof WindowBatch>;

/** A feature batch as the feeds of one inference run: the batch's own arrays, named as the graph names them. */
export function tftFeeds(batch: WindowBatch): Record<TftInputName, Float32Array | Int32Array> {
  const feeds = {} as Record<TftInputName, Float32Array | Int32Array>;
  for (const name of TFT_INPUT_NAMES) feeds[name] = batch[TFT_INPUT_FIELDS[name]];
  return feeds;
}

/**
 * The explanation outputs of the exported TFT (`tftExplanation`), by graph name; what
 * `fleet/explain.ts` reads together with `static_weights`. A model exported before they existed
 * lacks them and still serves predictions (`hasExplanationOutputs` is then false).
 */
export const TFT_EXPLANATION_OUTPUTS = {
  /** (B, G + K): encoder variable selection weights averaged over the context steps. */
  pastVariableWeights: 'past_variable_weights',
  /** (B, K): decoder variable selection weights averaged over the horizon steps. */
  futureVariableWeights: 'future_variable_weights',
  /** (B, 2): static variable selection weights [profile, server] (an output since the first export). */
  staticWeights: 'static_weights',
  /** (B, Te): attention of the horizon onto the context steps, renormalised over the context. */
  pastAttention: 'past_attention',
} as const;

export type TftExplanationOutputName = (typeof TFT_EXPLANATION_OUTPUTS)[keyof typeof TFT_EXPLANATION_OUTPUTS];

/** Whether a model's outputs (model.json's `onnx.outputs`) include every explanation output, as float32. */
export function hasExplanationOutputs(outputs: readonly { name: string; dtype: string }[]): boolean {
  return Object.values(TFT_EXPLANATION_OUTPUTS).every((name) =>
    outputs.some((o) => o.name === name && o.dtype === 'float32'),
  );
}
