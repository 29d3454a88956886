import { tableFromIPC, tableToIPC } from 'apache-arrow';
import type * as ParquetWasmModule from 'parquet-wasm';
import { DATA_CONTRACT_VERSION, METRIC_NAMES } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { CONTRACT_METADATA_KEY, arrowTableToSamples, asFormatError, columnsToArrowTable, errorText, type ArrowReadOptions, type ColumnsToArrowOptions } from './arrow-io';
import { FileFormatError } from './file-format-error';
import type { SamplesFile } from './samples-file-types';

/**
 * Parquet through parquet-wasm (the Rust `parquet` crate compiled to WebAssembly), with Arrow IPC
 * as the bridge: columns -> Arrow table (arrow-io.ts) -> IPC stream -> parquet-wasm, and back.
 * Chosen over the pure-JS hyparquet + hyparquet-writer by measurement on this 2-core machine,
 * 172,800 rows x 10 nullable doubles, warm medians: hyparquet read + conversion to columns
 * 220-300 ms (it assembles nullable columns through its generic nested-list path) and
 * hyparquet-writer 0.7-0.85 s, against 110-130 ms and 140-180 ms here. Files written here read
 * in hyparquet (checked by hand; snappy, and zstd with its plug-in) and in pandas/pyarrow
 * (the Arrow schema is embedded).
 *
 * The module compiles ~2 MB of WebAssembly synchronously when first loaded (0.2-0.3 s here), so
 * it is imported on first use, not at startup.
 */
type ParquetWasm = typeof ParquetWasmModule;

let loading: Promise<ParquetWasm> | undefined;

function parquetWasm(): Promise<ParquetWasm> {
  loading ??= import('parquet-wasm');
  return loading;
}

export type ParquetCompression = 'snappy' | 'zstd' | 'none';

export interface ColumnsToParquetOptions extends ColumnsToArrowOptions {
  /**
   * Snappy by default: what pandas writes and every Parquet reader decodes. zstd made the
   * benchmark file ~30% smaller but wrote and read ~1.7x slower, and lightweight readers
   * (hyparquet) need a plug-in for it.
   */
  compression?: ParquetCompression;
  /** Rows per row group (default: all rows in one group up to 1,048,576). */
  rowGroupSize?: number;
}

export const PARQUET_CREATED_BY = 'tft-monitoring-prediction (parquet-wasm)';

/** Parquet bytes for the columns, in the schema documented in arrow-io.ts. */
export async function columnsToParquet(columns: SampleColumns, options: ColumnsToParquetOptions = {}): Promise<Uint8Array> {
  const pw = await parquetWasm();
  const ipc = tableToIPC(columnsToArrowTable(columns, options), 'stream');
  const codec = { snappy: pw.Compression.SNAPPY, zstd: pw.Compression.ZSTD, none: pw.Compression.UNCOMPRESSED }[options.compression ?? 'snappy'];
  // The builder and the table are consumed by the calls that take them (wasm-bindgen moves).
  let builder = new pw.WriterPropertiesBuilder();
  // Dictionary-encoding doubles tripled the write time (hashing every value, then usually
  // falling back) for ~30% smaller files; strings keep their dictionaries.
  for (const name of METRIC_NAMES) builder = builder.setColumnDictionaryEnabled(name, false);
  const properties = builder
    .setCompression(codec)
    .setMaxRowGroupSize(Math.max(1, options.rowGroupSize ?? 1 << 20))
    .setCreatedBy(PARQUET_CREATED_BY)
    // Also as plain key-value metadata, for readers that ignore the embedded Arrow schema.
    .setKeyValueMetadata(new Map([[CONTRACT_METADATA_KEY, DATA_CONTRACT_VERSION]]))
    .build();
  return pw.writeParquet(pw.Table.fromIPCStream(ipc), properties);
}

const PAR1 = [0x50, 0x41, 0x52, 0x31];

function hasMagicAt(bytes: Uint8Array, at: number): boolean {
  return at >= 0 && PAR1.every((b, i) => bytes[at + i] === b);
}

export function isParquet(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && hasMagicAt(bytes, 0);
}

/**
 * Samples from Parquet bytes. The frame (magic at both ends, footer length) is checked here
 * before the bytes reach the WebAssembly reader, so the commonest damage (a truncated copy, a
 * file that is not Parquet) gets a plain-words error rather than a decoder message.
 */
export async function parquetToSamples(bytes: Uint8Array, options: ArrowReadOptions): Promise<SamplesFile> {
  const file = options.fileName;
  if (!isParquet(bytes)) throw FileFormatError.single(file, {}, 'not a Parquet file: it does not start with "PAR1"');
  if (bytes.length < 12 || !hasMagicAt(bytes, bytes.length - 4)) {
    throw FileFormatError.single(file, {}, 'the Parquet file is incomplete: its footer is missing (was the copy cut short?)');
  }
  const footer = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(bytes.length - 8, true);
  if (footer + 12 > bytes.length) {
    throw FileFormatError.single(file, {}, `the Parquet footer claims ${footer} bytes but the file has ${bytes.length}: it is damaged`);
  }
  const pw = await parquetWasm();
  let ipc: Uint8Array;
  try {
    // One batch per 64k rows: few enough that per-batch costs vanish, small enough to stay cheap.
    ipc = pw.readParquet(bytes, { batchSize: 1 << 16 }).intoIPCStream();
  } catch (error) {
    throw FileFormatError.single(file, {}, `the Parquet file cannot be decoded (${errorText(error)})`);
  }
  return asFormatError(file, 'Parquet', () => arrowTableToSamples(tableFromIPC(ipc), { ...options, format: 'parquet' }));
}
