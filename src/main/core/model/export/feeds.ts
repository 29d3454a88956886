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
