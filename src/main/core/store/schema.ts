import type { MetricName, ServerState } from '@shared/contract';

/**
 * The sample table's metric columns, in bit order of `nan_mask` and `neg_zero_mask`. This list
 * is the on-disk layout, not a view of the contract: reordering the contract's METRIC_NAMES
 * must never reinterpret old masks, so a new metric is appended here by a migration.
 */
export const SAMPLE_METRIC_COLUMNS: readonly MetricName[] = [
  'cpu_percent',
  'memory_percent',
  'disk_percent',
  'iowait_percent',
  'swap_percent',
  'load_average',
  'network_in_mbps',
  'network_out_mbps',
  'latency_ms',
  'error_rate',
];

/** `samples.state` codes, for the same reason: a stored small int must keep its meaning forever. */
export const STATE_CODES: readonly ServerState[] = [
  'healthy',
  'heavy_load',
  'morning_spike',
  'idle',
  'maintenance',
  'critical_issue',
  'recovery',
  'offline',
];

export const STATE_CODE_BY_NAME: ReadonlyMap<ServerState, number> = new Map(STATE_CODES.map((s, i) => [s, i]));

/** Metric columns then the masks and state, as selected by every sample query (`raw()` rows follow it). */
export const SAMPLE_VALUE_COLUMNS = [...SAMPLE_METRIC_COLUMNS, 'nan_mask', 'neg_zero_mask', 'state'] as const;

/** Index of the masks and state in a raw row of SAMPLE_VALUE_COLUMNS. */
export const NAN_MASK_INDEX = SAMPLE_METRIC_COLUMNS.length;
export const NEG_ZERO_MASK_INDEX = NAN_MASK_INDEX + 1;
export const STATE_INDEX = NAN_MASK_INDEX + 2;

export const META_CONTRACT_VERSION = 'data_contract_version';
export const META_CREATED_AT = 'created_at';
/** Bumped by every retention transaction that deletes samples: caches of old rows check it. */
export const META_RETENTION_EPOCH = 'retention_epoch';
