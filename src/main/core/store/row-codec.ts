import type { SampleColumns } from '@shared/domain';
import {
  NAN_MASK_INDEX as NAN_MASK_AT,
  NEG_ZERO_MASK_INDEX as NEG_ZERO_MASK_AT,
  SAMPLE_METRIC_COLUMNS,
  STATE_CODE_BY_NAME as STATE_CODE_OF,
  STATE_CODES,
  STATE_INDEX as STATE_AT,
} from './schema';

// Module constants for what encodeRow reads per row: under vitest's module runner (the tests and
// the benches) every read of an imported binding is a getter call.
const NAN_MASK_INDEX = NAN_MASK_AT;
const NEG_ZERO_MASK_INDEX = NEG_ZERO_MASK_AT;
const STATE_INDEX = STATE_AT;
const STATE_CODE_BY_NAME = STATE_CODE_OF;

/** One sample as SQLite sees it: SAMPLE_VALUE_COLUMNS, in order. */
export type StoredValues = (number | null)[];

export const STORED_WIDTH = STATE_INDEX + 1;
const METRIC_COUNT = SAMPLE_METRIC_COLUMNS.length;

/**
 * A batch's metric columns in SAMPLE_METRIC_COLUMNS order, looked up once per batch: reading
 * `batch.metrics[name]` per row and metric is a megamorphic keyed load each, a few % of ingest's CPU.
 */
export interface MetricArrays {
  values: readonly Float64Array[];
  present: readonly Uint8Array[];
}

export function metricArrays(batch: SampleColumns): MetricArrays {
  return {
    values: SAMPLE_METRIC_COLUMNS.map((m) => batch.metrics[m].values),
    present: SAMPLE_METRIC_COLUMNS.map((m) => batch.metrics[m].present),
  };
}

/** The finite values each metric accepts, [min[m], max[m]], in SAMPLE_METRIC_COLUMNS order. */
export interface MetricBounds {
  min: readonly number[];
  max: readonly number[];
}

/**
 * Row `i` of `batch` (its metrics as `metricArrays(batch)`) in its stored form, written into
 * `out` from `offset` (reused buffers keep the ingest loop allocation-free). Missing -> NULL;
 * NaN -> NULL + nan bit; -0 -> 0 + neg_zero bit (SQLite drops both NaN and the sign of zero);
 * ±Inf is a REAL and stays one. With `bounds`, the range check rides along (ingest reads each
 * value once): returns the index of the first metric with a finite value outside its bounds
 * (`out` is then incomplete), else -1.
 */
export function encodeRow(
  batch: SampleColumns,
  columns: MetricArrays,
  i: number,
  out: StoredValues,
  offset = 0,
  bounds?: MetricBounds,
): number {
  let nanMask = 0;
  let negZeroMask = 0;
  const { values, present } = columns;
  for (let m = 0; m < METRIC_COUNT; m++) {
    if (present[m]![i] === 0) {
      out[offset + m] = null;
      continue;
    }
    const v = values[m]![i]!;
    if (Number.isNaN(v)) {
      out[offset + m] = null;
      nanMask |= 1 << m;
    } else if (v === 0 && 1 / v < 0) {
      out[offset + m] = 0;
      negZeroMask |= 1 << m;
    } else {
      // NaN and ±Inf are legal readings (a broken exporter is information); only finite values have a range.
      if (bounds !== undefined && (v < bounds.min[m]! || v > bounds.max[m]!) && Number.isFinite(v)) return m;
      out[offset + m] = v;
    }
  }
  out[offset + NAN_MASK_INDEX] = nanMask;
  out[offset + NEG_ZERO_MASK_INDEX] = negZeroMask;
  const state = batch.state[i];
  out[offset + STATE_INDEX] = state === null || state === undefined ? null : STATE_CODE_BY_NAME.get(state)!;
  return -1;
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
