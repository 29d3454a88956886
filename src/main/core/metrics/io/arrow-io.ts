import {
  type Data,
  DataType,
  DateUnit,
  Dictionary,
  Field,
  Float64,
  Int32,
  MessageHeader,
  MessageReader,
  Precision,
  RecordBatchReader,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Type,
  Utf8,
  makeData,
  makeVector,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import {
  DATA_CONTRACT_VERSION,
  METRIC_NAMES,
  isCompatibleContract,
  isMetricName,
  isProfile,
  isValidServerName,
  type MetricName,
  type Profile,
  type ServerState,
} from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { allocateColumns } from '../columns';
import { hardenArrowDecoding } from './arrow-hardening';
import { FileFormatError, ProblemCollector, type ProblemLocation } from './file-format-error';
import { STATES, checkTimestampsAndRanges, dedupeSamples, serverReason, stateReason } from './samples-check';
import type { SamplesFile, SamplesFormat } from './samples-file-types';
import { EPOCH_SECONDS_LIMIT } from './timestamp';

/**
 * The schema shared by Arrow IPC and Parquet (which is written from it):
 *
 *   timestamp  Timestamp(ms, "UTC"), not null   Parquet: INT64 TIMESTAMP(MILLIS, UTC)
 *   server     Dictionary<Int32, Utf8>, not null
 *   profile    Dictionary<Int32, Utf8>, nullable  only when the writer is given a profile per server
 *   state      Dictionary<Int32, Utf8>, nullable  null = the source reports no state
 *   <metric>   Float64, nullable, one per contract metric, null = missing
 *
 * plus schema metadata `data_contract_version`. Values are copied as raw IEEE-754 bytes, so
 * -0, ±Inf and NaN (payload included) survive a round trip bit for bit.
 */
export const CONTRACT_METADATA_KEY = 'data_contract_version';

export interface ColumnsToArrowOptions {
  /** Adds a `profile` column from this lookup (e.g. the server mapping); undefined leaves the row's profile null. */
  profileOf?: (server: string) => Profile | undefined;
  /** Extra schema metadata (the contract version is always recorded). */
  metadata?: Readonly<Record<string, string>>;
}

export interface ArrowReadOptions {
  /** The name errors show. */
  fileName: string;
  /** Stop after this many problems (default 20). */
  maxErrors?: number;
}

type StringDictionary = Dictionary<Utf8, Int32>;

function dictionaryData(values: readonly (string | null | undefined)[], length: number): Data<StringDictionary> {
  const index = new Map<string, number>();
  const keys = new Int32Array(length);
  let bitmap: Uint8Array | undefined;
  let nulls = 0;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      bitmap ??= new Uint8Array((length + 7) >> 3).fill(0xff);
      bitmap[i >> 3]! &= ~(1 << (i & 7));
      nulls++;
      continue;
    }
    let k = index.get(v);
    if (k === undefined) {
      k = index.size;
      index.set(v, k);
    }
    keys[i] = k;
  }
  const type = new Dictionary(new Utf8(), new Int32());
  const dictionary = vectorFromArray([...index.keys()], new Utf8());
  return makeData({ type, length, nullCount: nulls, nullBitmap: bitmap, data: keys, dictionary });
}

function float64Data(values: Float64Array, present: Uint8Array, length: number): Data<Float64> {
  let bitmap: Uint8Array | undefined;
  let nulls = 0;
  for (let i = 0; i < length; i++) {
    if (present[i]) continue;
    bitmap ??= new Uint8Array((length + 7) >> 3).fill(0xff);
    bitmap[i >> 3]! &= ~(1 << (i & 7));
    nulls++;
  }
  // The column's own buffer, not a copy: the bytes written are the bytes held.
  return makeData({ type: new Float64(), length, nullCount: nulls, nullBitmap: bitmap, data: values.subarray(0, length) });
}

function timestampData(timestamp: Float64Array, length: number): Data<TimestampMillisecond> {
  const data = new BigInt64Array(length);
  for (let i = 0; i < length; i++) {
    const t = timestamp[i]!;
    if (!Number.isSafeInteger(t)) throw new RangeError(`row ${i + 1}: timestamp ${t} is not a whole number of milliseconds`);
    data[i] = BigInt(t);
  }
  return makeData({ type: new TimestampMillisecond('UTC'), length, nullCount: 0, data });
}

/** SampleColumns as an Arrow table in the schema above (metric buffers are shared, not copied). */
export function columnsToArrowTable(columns: SampleColumns, options: ColumnsToArrowOptions = {}): Table {
  const n = columns.length;
  const fields: Field[] = [];
  const children: Data[] = [];
  const add = (name: string, data: Data, nullable: boolean): void => {
    fields.push(new Field(name, data.type, nullable));
    children.push(data);
  };
  add('timestamp', timestampData(columns.timestamp, n), false);
  add('server', dictionaryData(columns.server, n), false);
  const { profileOf } = options;
  if (profileOf) {
    const memo = new Map<string, Profile | undefined>();
    const profiles = columns.server.slice(0, n).map((s) => {
      if (!memo.has(s)) memo.set(s, profileOf(s));
      return memo.get(s);
    });
    add('profile', dictionaryData(profiles, n), true);
  }
  add('state', dictionaryData(columns.state, n), true);
  for (const name of METRIC_NAMES) add(name, float64Data(columns.metrics[name].values, columns.metrics[name].present, n), true);
  const metadata = new Map<string, string>(Object.entries(options.metadata ?? {}));
  metadata.set(CONTRACT_METADATA_KEY, DATA_CONTRACT_VERSION);
  const schema = new Schema(fields, metadata);
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}

/** Arrow IPC bytes: `file` (`.arrow`, random access) or `stream` (what crosses a process boundary). */
export function columnsToArrowIPC(columns: SampleColumns, options: ColumnsToArrowOptions & { format?: 'file' | 'stream' } = {}): Uint8Array {
  return tableToIPC(columnsToArrowTable(columns, options), options.format ?? 'stream');
}

/** Samples from Arrow IPC bytes (file or stream format, told apart by their first bytes). */
export function arrowIPCToSamples(bytes: Uint8Array, options: ArrowReadOptions): SamplesFile {
  let table: Table;
  try {
    hardenArrowDecoding();
    if (isArrowFile(bytes)) checkFileBlocks(bytes);
    table = tableFromIPC(bytes);
  } catch (error) {
    throw FileFormatError.single(options.fileName, {}, `not a readable Arrow IPC file (${errorText(error)})`);
  }
  // A row takes at least four bytes (a 32-bit timestamp): a row count beyond that is a damaged
  // header, and believing it would allocate columns for rows that do not exist.
  if (table.numRows > bytes.length / 4) {
    throw FileFormatError.single(options.fileName, {}, `the Arrow header claims ${table.numRows} rows, more than ${bytes.length} bytes can hold: it is damaged`);
  }
  return asFormatError(options.fileName, 'Arrow', () => arrowTableToSamples(table, { ...options, format: isArrowFile(bytes) ? 'arrow' : 'arrow-stream' }));
}

/**
 * Damaged bytes can get past the decoder and surface later as a TypeError or RangeError deep
 * in the conversion; they are still bad input, and the caller is promised a FileFormatError.
 */
export function asFormatError<T>(fileName: string, what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof FileFormatError) throw error;
    throw FileFormatError.single(fileName, {}, `the ${what} data is damaged (${errorText(error)})`);
  }
}

const ARROW_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

/**
 * apache-arrow's file reader loops forever when a footer block points at a message that is not
 * a record batch (found by the fuzz test: it re-reads the same block). Each block is checked to
 * hold a record batch first; the check reads only the message headers.
 */
function checkFileBlocks(bytes: Uint8Array): void {
  const reader = RecordBatchReader.from(bytes);
  reader.open();
  const footer = reader.footer;
  if (!footer) return;
  for (let i = 0; i < reader.numRecordBatches; i++) {
    const block = footer.getRecordBatch(i);
    const offset = block ? Number(block.offset) : -1;
    if (!(offset >= 8 && offset < bytes.length)) throw new Error(`record batch ${i + 1} lies outside the file`);
    if (new MessageReader(bytes.subarray(offset)).readMessage(MessageHeader.RecordBatch) === null) throw new Error(`record batch ${i + 1} is empty`);
  }
}

export function isArrowFile(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && ARROW_MAGIC.every((b, i) => bytes[i] === b);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type Role = 'timestamp' | 'server' | 'state' | 'profile' | MetricName;

/** A pandas `to_parquet` index column: carries nothing of ours. */
const PANDAS_INDEX = /^__index_level_\d+__$/;

/**
 * Samples from an Arrow table in (or close to) the schema above: string columns may be plain or
 * dictionary-encoded, metric columns any integer or float type, the timestamp any Arrow
 * timestamp or date type, or a number read like a CSV epoch (seconds below 1e11, else ms).
 * A timestamp type without a zone is read as UTC. Everything is checked before returning.
 */
export function arrowTableToSamples(table: Table, options: ArrowReadOptions & { format: SamplesFormat }): SamplesFile {
  const { fileName } = options;
  const problems = new ProblemCollector(fileName, options.maxErrors);
  const version = table.schema.metadata.get(CONTRACT_METADATA_KEY) ?? null;
  if (version !== null && !isCompatibleContract(version)) {
    problems.add({}, `written for data contract ${version}; this version reads ${DATA_CONTRACT_VERSION.split('.')[0]}.x.x`);
  }
  const roles = new Map<Role, number>();
  table.schema.fields.forEach((field, k) => {
    const name = field.name.trim().toLowerCase();
    if (PANDAS_INDEX.test(field.name)) return;
    if (roles.has(name as Role)) problems.add({ field: field.name }, `the column "${field.name}" appears twice`);
    else if (name === 'timestamp' || name === 'server' || name === 'state' || name === 'profile' || isMetricName(name)) roles.set(name, k);
    else problems.add({ field: field.name }, `unknown column "${field.name}"; the columns are timestamp, server, state, profile, ${METRIC_NAMES.join(', ')}`);
  });
  if (!roles.has('timestamp')) problems.add({ field: 'timestamp' }, 'the file has no "timestamp" column');
  if (!roles.has('server')) problems.add({ field: 'server' }, 'the file has no "server" column');
  problems.throwIfAny();

  const n = table.numRows;
  for (const [role, k] of roles) {
    const rows = table.getChildAt(k)?.length ?? 0;
    if (rows !== n) problems.add({ field: role }, `the column has ${rows} rows and the table ${n}: the file is damaged`);
  }
  problems.throwIfAny();
  const columns = allocateColumns(n);
  const locate = (row: number): ProblemLocation => ({ row: row + 1 });
  const chunks = (role: Role): readonly Data[] => table.getChildAt(roles.get(role)!)!.data as readonly Data[];

  readTimestamps(chunks('timestamp'), columns.timestamp, problems);
  readStrings(chunks('server'), 'server', problems, serverCheck, (i, s) => {
    if (s === null) problems.add({ ...locate(i), field: 'server' }, serverReason(''));
    else columns.server[i] = s;
  });
  if (roles.has('state')) {
    readStrings(chunks('state'), 'state', problems, stateCheck, (i, s) => (columns.state[i] = s as ServerState | null));
  }
  const profiles = new Map<string, Profile>();
  if (roles.has('profile')) {
    readStrings(chunks('profile'), 'profile', problems, profileCheck, (i, p) => {
      if (p === null || !isProfile(p)) return;
      const server = columns.server[i]!;
      const known = profiles.get(server);
      if (known === undefined) profiles.set(server, p);
      else if (known !== p) problems.add({ ...locate(i), field: 'profile' }, `${server} has profile ${p} here and ${known} in an earlier row`);
    });
  }
  const metrics: MetricName[] = [];
  for (const name of METRIC_NAMES) {
    if (!roles.has(name)) continue;
    metrics.push(name);
    readNumbers(chunks(name), name, columns.metrics[name].values, columns.metrics[name].present, problems);
  }
  problems.throwIfAny();
  const snapped = checkTimestampsAndRanges(columns, problems, locate);
  problems.throwIfAny();
  const deduped = dedupeSamples(columns, problems, locate, (row) => `row ${row + 1}`);
  problems.throwIfAny();
  return {
    format: options.format,
    columns: deduped.columns,
    metrics,
    profiles,
    duplicatesDropped: deduped.dropped,
    snapped,
    contractVersion: version,
  };
}

/** Bit i of a validity bitmap, where an absent bitmap means "all valid". */
function validityOf(data: Data): (i: number) => boolean {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || !bitmap || bitmap.length === 0) return () => true;
  const offset = data.offset;
  return (i) => ((bitmap[(offset + i) >> 3]! >> ((offset + i) & 7)) & 1) === 1;
}

/**
 * Sets `present` from a validity bitmap a byte at a time (all-valid bytes are the rule) and
 * zeroes the value of every missing slot, whatever bytes the writer left there.
 */
function unpackValidity(data: Data, present: Uint8Array, values: Float64Array, row: number): void {
  const n = data.length;
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || !bitmap || bitmap.length === 0) {
    present.fill(1, row, row + n);
    return;
  }
  const offset = data.offset;
  for (let i = 0; i < n; ) {
    const bit = offset + i;
    if ((bit & 7) === 0 && i + 8 <= n && bitmap[bit >> 3] === 0xff) {
      present.fill(1, row + i, row + i + 8);
      i += 8;
      continue;
    }
    if ((bitmap[bit >> 3]! >> (bit & 7)) & 1) present[row + i] = 1;
    else values[row + i] = 0;
    i++;
  }
}

function readNumbers(chunks: readonly Data[], name: string, values: Float64Array, present: Uint8Array, problems: ProblemCollector): void {
  let row = 0;
  for (const data of chunks) {
    const type: DataType = data.type;
    const n = data.length;
    if (DataType.isFloat(type) && type.precision === Precision.DOUBLE) {
      values.set((data.values as Float64Array).subarray(0, n), row);
    } else if (DataType.isFloat(type) || DataType.isInt(type)) {
      const vector = makeVector(data);
      for (let i = 0; i < n; i++) {
        const v: unknown = vector.get(i);
        values[row + i] = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : 0;
      }
    } else {
      problems.add({ field: name }, `the column holds ${typeName(type)}, not numbers (a metric column is DOUBLE)`);
      problems.throwIfAny();
    }
    unpackValidity(data, present, values, row);
    row += n;
  }
}

function readTimestamps(chunks: readonly Data[], out: Float64Array, problems: ProblemCollector): void {
  let row = 0;
  for (const data of chunks) {
    const type: DataType = data.type;
    const n = data.length;
    const valid = validityOf(data);
    let toMs: (v: number) => number;
    if (DataType.isTimestamp(type)) {
      const factor = [1000, 1, 1e-3, 1e-6][type.unit]!;
      toMs = (v) => v * factor;
    } else if (DataType.isDate(type)) {
      toMs = type.unit === DateUnit.DAY ? (v) => v * 86_400_000 : (v) => v;
    } else if (DataType.isInt(type) || DataType.isFloat(type)) {
      toMs = (v) => (v < EPOCH_SECONDS_LIMIT ? v * 1000 : v);
    } else {
      problems.add({ field: 'timestamp' }, `the column holds ${typeName(type)}, not timestamps`);
      problems.throwIfAny();
      return;
    }
    const raw = data.values as ArrayLike<number | bigint>;
    // Timestamp values are raw integers even where the vector's get() would make Dates.
    const plain = DataType.isTimestamp(type) || DataType.isInt(type) || (DataType.isFloat(type) && type.precision !== Precision.HALF);
    const vector = plain ? null : makeVector(data);
    for (let i = 0; i < n; i++) {
      if (!valid(i)) {
        problems.add({ row: row + i + 1, field: 'timestamp' }, 'the timestamp is empty');
        out[row + i] = 0;
        continue;
      }
      const v: unknown = vector ? vector.get(i) : raw[i];
      const num = typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Number.NaN;
      out[row + i] = toMs(num);
    }
    row += n;
  }
}

const serverCheck = (word: string): string | null => (isValidServerName(word) ? null : serverReason(word));
const stateCheck = (word: string): string | null => (STATES.has(word) ? null : stateReason(word));
const profileCheck = (word: string): string | null => (isProfile(word) ? null : `"${word}" is not a profile`);

/**
 * A text column, row by row, plain or dictionary-encoded. Each distinct word is checked once
 * and a bad one reported at its first row only (one bad name would otherwise fill the report).
 */
function readStrings(
  chunks: readonly Data[],
  name: string,
  problems: ProblemCollector,
  check: (word: string) => string | null,
  set: (row: number, value: string | null) => void,
): void {
  const checked = new Set<string>();
  const visit = (row: number, word: string | null): void => {
    if (word !== null && !checked.has(word)) {
      checked.add(word);
      const reason = check(word);
      if (reason !== null) problems.add({ row: row + 1, field: name }, reason);
    }
    set(row, word);
  };
  let row = 0;
  for (const data of chunks) {
    const type: DataType = data.type;
    const n = data.length;
    const valid = validityOf(data);
    if (DataType.isDictionary(type) && isStringType(type.dictionary as DataType)) {
      // Each key used is decoded once; keys never used are never decoded (a damaged dictionary
      // may claim millions of entries).
      const dictionary = data.dictionary;
      const size = dictionary?.length ?? 0;
      const words = new Map<number, string | null>();
      const keys = data.values as ArrayLike<number | bigint>;
      for (let i = 0; i < n; i++) {
        if (!valid(i)) {
          visit(row + i, null);
          continue;
        }
        const key = Number(keys[i]);
        let word = words.get(key);
        if (word === undefined) {
          const v: unknown = key >= 0 && key < size ? dictionary!.get(key) : null;
          words.set(key, (word = typeof v === 'string' ? v : null));
        }
        visit(row + i, word);
      }
    } else if (isStringType(type)) {
      const vector = makeVector(data);
      for (let i = 0; i < n; i++) {
        const v: unknown = vector.get(i);
        visit(row + i, typeof v === 'string' ? v : null);
      }
    } else {
      problems.add({ field: name }, `the column holds ${typeName(type)}, not text`);
      problems.throwIfAny();
    }
    row += n;
  }
}

function typeName(type: DataType): string {
  if (DataType.isDictionary(type)) return `dictionary-encoded ${typeName(type.dictionary as DataType)}`;
  return Type[type.typeId] ?? `type ${type.typeId}`;
}

function isStringType(type: DataType): boolean {
  return DataType.isUtf8(type) || DataType.isLargeUtf8(type) || DataType.isUtf8View(type);
}
