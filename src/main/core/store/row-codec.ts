import type { SampleColumns } from '@shared/domain';
import {
  NAN_MASK_INDEX,
  NEG_ZERO_MASK_INDEX,
  SAMPLE_METRIC_COLUMNS,
  STATE_CODE_BY_NAME,
  STATE_CODES,
  STATE_INDEX,
} from './schema';

/** One sample as SQLite sees it: SAMPLE_VALUE_COLUMNS, in order. */
export type StoredValues = (number | null)[];

export const STORED_WIDTH = STATE_INDEX + 1;

/**
 * Row `i` of `batch` in its stored form, written into `out` from `offset` (reused buffers keep
 * the ingest loop allocation-free). Missing -> NULL; NaN -> NULL + nan bit; -0 -> 0 + neg_zero
 * bit (SQLite drops both NaN and the sign of zero); ±Inf is a REAL and stays one.
 */
export function encodeRow(batch: SampleColumns, i: number, out: StoredValues, offset = 0): void {
  let nanMask = 0;
  let negZeroMask = 0;
  for (let m = 0; m < SAMPLE_METRIC_COLUMNS.length; m++) {
    const column = batch.metrics[SAMPLE_METRIC_COLUMNS[m]!];
    if (column.present[i] === 0) {
      out[offset + m] = null;
      continue;
    }
    const v = column.values[i]!;
    if (Number.isNaN(v)) {
      out[offset + m] = null;
      nanMask |= 1 << m;
    } else if (v === 0 && 1 / v < 0) {
      out[offset + m] = 0;
      negZeroMask |= 1 << m;
    } else {
      out[offset + m] = v;
    }
  }
  out[offset + NAN_MASK_INDEX] = nanMask;
  out[offset + NEG_ZERO_MASK_INDEX] = negZeroMask;
  const state = batch.state[i];
  out[offset + STATE_INDEX] = state === null || state === undefined ? null : STATE_CODE_BY_NAME.get(state)!;
}

/** The inverse of encodeRow: stored values (a `raw()` row) into row `i` of `target`. */
export function decodeRow(stored: readonly unknown[], offset: number, target: SampleColumns, i: number): void {
  const nanMask = stored[offset + NAN_MASK_INDEX] as number;
  const negZeroMask = stored[offset + NEG_ZERO_MASK_INDEX] as number;
  for (let m = 0; m < SAMPLE_METRIC_COLUMNS.length; m++) {
    const column = target.metrics[SAMPLE_METRIC_COLUMNS[m]!];
    const v = stored[offset + m] as number | null;
    const bit = 1 << m;
    if (v !== null) {
      column.values[i] = negZeroMask & bit ? -0 : v;
      column.present[i] = 1;
    } else if (nanMask & bit) {
      column.values[i] = NaN;
      column.present[i] = 1;
    } else {
      column.values[i] = 0;
      column.present[i] = 0;
    }
  }
  const code = stored[offset + STATE_INDEX] as number | null;
  target.state[i] = code === null ? null : (STATE_CODES[code] ?? null);
}

/**
 * Index of the first stored column where two encoded rows differ, or -1 when they are the same
 * sample. Encoded rows compare exactly with ===: NaN is already NULL + a bit, -0 already 0 + a bit.
 */
export function firstDifference(a: StoredValues, b: readonly unknown[]): number {
  for (let k = 0; k < STORED_WIDTH; k++) if (a[k] !== b[k]) return k;
  return -1;
}
