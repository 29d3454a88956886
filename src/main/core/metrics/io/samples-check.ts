import {
  METRIC_NAMES,
  METRICS,
  STEP_MS,
  SERVER_STATES,
  type MetricName,
  type MetricSpec,
} from '@shared/contract';
import type { MetricColumn, SampleColumns } from '@shared/domain';
import type { ProblemCollector, ProblemLocation } from './file-format-error';
import { MAX_TIMESTAMP_MS, formatTimestamp, snapToGrid } from './timestamp';

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL = new Map<string, number>([
  ['nan', Number.NaN],
  ['inf', Number.POSITIVE_INFINITY],
  ['+inf', Number.POSITIVE_INFINITY],
  ['infinity', Number.POSITIVE_INFINITY],
  ['+infinity', Number.POSITIVE_INFINITY],
  ['-inf', Number.NEGATIVE_INFINITY],
  ['-infinity', Number.NEGATIVE_INFINITY],
]);

/**
 * A metric field's value: a number, `null` for missing (empty field), or a sentence saying
 * why the text is neither. NaN and ±Inf are values a source reported (a failed probe, a
 * division by zero) and are kept distinct from missing; their spellings are matched without
 * regard to case (NaN, nan, Inf, -inf, Infinity...).
 */
export function parseMetricValue(text: string): number | null | string {
  if (text === '') return null;
  const fast = shortDecimal(text);
  if (fast !== undefined) return fast;
  if (NUMBER.test(text)) {
    const value = Number(text);
    // A literal such as 1e400 is a typo or a unit error, not a reported infinity.
    if (!Number.isFinite(value)) return `"${text}" is too large for a 64-bit number`;
    return value;
  }
  const special = SPECIAL.get(text.toLowerCase());
  if (special !== undefined) return special;
  return `"${text}" is not a number`;
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The common case of a metric field, `[-+]digits[.digits]` with at most 15 digits, without
 * a regular expression or the general string-to-double path: the digits form an exact integer
 * and 10^k is exact for k <= 22, so one correctly rounded division gives exactly what
 * Number(text) gives (Clinger's fast path). Undefined sends anything else the slow way.
 */
function shortDecimal(text: string): number | undefined {
  const n = text.length;
  let i = 0;
  let c = text.charCodeAt(0);
  const negative = c === 45;
  if (negative || c === 43) i = 1;
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  let dot = false;
  for (; i < n; i++) {
    c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (dot) fraction++;
    } else if (c === 46 && !dot) dot = true;
    else return undefined;
  }
  if (digits === 0 || digits > 15) return undefined;
  const value = fraction === 0 ? mantissa : mantissa / POW10[fraction]!;
  return negative ? -value : value;
}

/** Why a reported value breaks the contract, or null when it is fine (NaN and ±Inf are always fine). */
export function rangeReason(spec: MetricSpec, value: number): string | null {
  if (!Number.isFinite(value) || (value >= spec.min && value <= spec.max)) return null;
  return `${formatNumber(value)} is outside the contract range for ${spec.name} (${formatNumber(spec.min)}..${formatNumber(spec.max)} ${spec.unit})`;
}

function formatNumber(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

export const STATES: ReadonlySet<string> = new Set(SERVER_STATES);
const METRIC_SPECS: readonly MetricSpec[] = METRIC_NAMES.map((name) => METRICS.find((m) => m.name === name)!);

export type Locate = (row: number) => ProblemLocation;

/**
 * Contract checks for columns that came from a binary file (Parquet, Arrow), where each value
 * was typed by the writer but not checked by us: ranges, and timestamps, which are snapped to
 * the grid in place (the same rule as CSV). Returns how many moved. Server names and states
 * are checked as they are decoded (once per distinct string).
 */
export function checkTimestampsAndRanges(columns: SampleColumns, collector: ProblemCollector, locate: Locate): number {
  let snapped = 0;
  const { length, timestamp } = columns;
  for (let i = 0; i < length; i++) {
    const t = timestamp[i]!;
    if (!(t >= 0 && t <= MAX_TIMESTAMP_MS)) {
      collector.add({ ...locate(i), field: 'timestamp' }, `${t} ms is outside 1970-01-01..9999-12-31 UTC`);
      continue;
    }
    const grid = snapToGrid(t);
    if (grid !== t) {
      timestamp[i] = grid;
      snapped++;
    }
  }
  for (const spec of METRIC_SPECS) {
    const { values, present } = columns.metrics[spec.name];
    const { min, max } = spec;
    for (let i = 0; i < length; i++) {
      const v = values[i]!;
      // NaN fails both comparisons and lands in rangeReason, which lets it through.
      if ((v >= min && v <= max) || present[i] === 0) continue;
      const reason = rangeReason(spec, v);
      if (reason !== null) collector.add({ ...locate(i), field: spec.name }, reason);
    }
  }
  return snapped;
}

export function serverReason(name: string): string {
  if (name === '') return 'the server name is empty';
  return `"${name}" is not a valid server name (letters, digits and . _ : -, starting with a letter or digit, at most 128 characters)`;
}

export function stateReason(state: string): string {
  return `"${state}" is not a server state (healthy, heavy_load, morning_spike, idle, maintenance, critical_issue, recovery, offline, or empty)`;
}

/** The first metric where two rows differ, or null if the rows are the same sample. */
function difference(columns: SampleColumns, a: number, b: number): { field: string; a: string; b: string } | null {
  for (const name of METRIC_NAMES) {
    const { values, present } = columns.metrics[name];
    const show = (i: number): string => (present[i] ? formatNumber(values[i]!) : 'missing');
    if (present[a] !== present[b] || (present[a] && !Object.is(values[a], values[b]))) return { field: name, a: show(a), b: show(b) };
  }
  if ((columns.state[a] ?? null) !== (columns.state[b] ?? null)) {
    return { field: 'state', a: columns.state[a] ?? 'empty', b: columns.state[b] ?? 'empty' };
  }
  return null;
}

/**
 * The store's ingest rule applied to the file itself, so a file is refused before anything is
 * written rather than half-ingested: rows for one server on one grid point must be the same
 * sample (the later copies are dropped) or the file is refused, naming both rows. File order is
 * kept otherwise.
 */
export function dedupeSamples(
  columns: SampleColumns,
  collector: ProblemCollector,
  locate: Locate,
  describe: (row: number) => string,
): { columns: SampleColumns; dropped: number } {
  const { length, server, timestamp } = columns;
  // Fast path: every server's timestamps strictly increase in file order (what writers produce).
  const last = new Map<string, number>();
  let increasing = true;
  for (let i = 0; i < length; i++) {
    const name = server[i]!;
    const previous = last.get(name);
    if (previous !== undefined && timestamp[i]! <= previous) {
      increasing = false;
      break;
    }
    last.set(name, timestamp[i]!);
  }
  if (increasing) return { columns, dropped: 0 };

  const serverIndex = new Map<string, number>();
  // (server, step) packed in one exact double: steps since 1970 stay under 2^30 until 9999.
  const keys = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const name = server[i]!;
    let s = serverIndex.get(name);
    if (s === undefined) {
      s = serverIndex.size;
      serverIndex.set(name, s);
    }
    keys[i] = s * 2 ** 31 + Math.round(timestamp[i]! / STEP_MS);
  }
  const order = new Uint32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  // Ties keep file order, so the first copy of a sample is the one kept.
  order.sort((a, b) => keys[a]! - keys[b]! || a - b);
  const drop = new Uint8Array(length);
  let dropped = 0;
  let first = order[0] ?? 0;
  for (let k = 1; k < length; k++) {
    const i = order[k]!;
    if (keys[i] !== keys[first]) {
      first = i;
      continue;
    }
    const diff = difference(columns, first, i);
    if (diff === null) {
      drop[i] = 1;
      dropped++;
    } else {
      collector.add(
        { ...locate(i), field: diff.field },
        `${describe(i)} and ${describe(first)} are both ${server[i]} at ${formatTimestamp(timestamp[i]!)} (nearest 5-minute mark) with different ${diff.field}: ${diff.b} vs ${diff.a}`,
      );
    }
  }
  if (dropped === 0) return { columns, dropped };
  return { columns: keepRows(columns, drop, dropped), dropped };
}

function keepRows(columns: SampleColumns, drop: Uint8Array, dropped: number): SampleColumns {
  const n = columns.length - dropped;
  const keep = new Uint32Array(n);
  for (let i = 0, j = 0; i < columns.length; i++) if (drop[i] === 0) keep[j++] = i;
  const metrics = {} as Record<MetricName, MetricColumn>;
  for (const name of METRIC_NAMES) {
    const source = columns.metrics[name];
    const values = new Float64Array(n);
    const present = new Uint8Array(n);
    for (let j = 0; j < n; j++) {
      values[j] = source.values[keep[j]!]!;
      present[j] = source.present[keep[j]!]!;
    }
    metrics[name] = { values, present };
  }
  const timestamp = new Float64Array(n);
  const server = new Array<string>(n);
  const state = new Array<SampleColumns['state'][number]>(n);
  for (let j = 0; j < n; j++) {
    const i = keep[j]!;
    timestamp[j] = columns.timestamp[i]!;
    server[j] = columns.server[i]!;
    state[j] = columns.state[i] ?? null;
  }
  return { length: n, server, timestamp, state, metrics };
}

export const METRIC_INDEX: Readonly<Record<MetricName, number>> = Object.fromEntries(
  METRIC_NAMES.map((name, k) => [name, k]),
) as Record<MetricName, number>;
