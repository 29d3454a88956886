import { open, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { SampleColumns } from '@shared/domain';
import { writeFileAtomic } from '../../util/atomic-write';
import { arrowIPCToSamples, columnsToArrowIPC, isArrowFile, type ColumnsToArrowOptions } from './arrow-io';
import { readCsvSamples, type SingleSeriesTarget } from './csv-import';
import { formatCsv, type CsvWriteOptions } from './csv-write';
import { FileFormatError } from './file-format-error';
import { columnsToParquet, isParquet, parquetToSamples, type ParquetCompression } from './parquet-io';
import type { ReadProgress, SamplesFile, SamplesFormat } from './samples-file-types';

const EXTENSIONS: Readonly<Record<string, SamplesFormat>> = {
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.arrow': 'arrow',
  '.feather': 'arrow',
  '.ipc': 'arrow',
  '.arrows': 'arrow-stream',
  '.csv': 'csv',
  '.txt': 'csv',
};

/**
 * The format a file's first bytes announce: Parquet's "PAR1", Arrow's "ARROW1", or the Arrow
 * stream's continuation marker (0xFFFFFFFF). Null when the bytes announce nothing (text).
 */
export function sniffSamplesFormat(head: Uint8Array): SamplesFormat | null {
  if (isParquet(head)) return 'parquet';
  if (isArrowFile(head)) return 'arrow';
  if (head.length >= 8 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff) return 'arrow-stream';
  return null;
}

export function formatFromExtension(path: string): SamplesFormat | null {
  return EXTENSIONS[extname(path).toLowerCase()] ?? null;
}

export interface ReadSamplesOptions {
  /** The name errors show (default: the file's base name). */
  fileName?: string;
  /** For a single-series `timestamp,value` CSV: the server and metric it holds. */
  series?: SingleSeriesTarget;
  /** Stop after this many problems (default 20). */
  maxErrors?: number;
  signal?: AbortSignal;
  onProgress?: (progress: ReadProgress) => void;
  /**
   * Largest Parquet or Arrow file read (default 1 GiB): those are read whole, unlike CSV, which
   * streams.
   */
  maxBinaryBytes?: number;
}

/**
 * Reads samples from a file in any supported format: the magic bytes decide, then the
 * extension; a file that announces nothing is read as CSV. A `.parquet` or `.arrow` file whose
 * bytes say otherwise is refused rather than guessed at. The promise resolves only with fully
 * checked columns, so a caller that stores them afterwards never stores half a bad file.
 */
export async function readSamplesFile(path: string, options: ReadSamplesOptions = {}): Promise<SamplesFile> {
  const fileName = options.fileName ?? basename(path);
  options.signal?.throwIfAborted();
  const head = await readHead(path, 8);
  const byExtension = formatFromExtension(path);
  const sniffed = sniffSamplesFormat(head);
  if (sniffed === null && (byExtension === 'parquet' || byExtension === 'arrow' || byExtension === 'arrow-stream')) {
    const what = byExtension === 'parquet' ? 'Parquet' : 'Arrow IPC';
    throw FileFormatError.single(fileName, {}, `the name says ${what} but the content is not (${describeHead(head)})`);
  }
  if (sniffed === null) return readCsvSamples(path, { ...options, fileName });

  const { size } = await stat(path);
  const limit = options.maxBinaryBytes ?? 1 << 30;
  if (size > limit) throw FileFormatError.single(fileName, {}, `the file is ${size} bytes; files over ${limit} bytes are refused`);
  const bytes = await readWhole(path, size, options);
  options.onProgress?.({ bytesRead: bytes.length, totalBytes: size });
  options.signal?.throwIfAborted();
  const readOptions = { fileName, maxErrors: options.maxErrors };
  return sniffed === 'parquet' ? parquetToSamples(bytes, readOptions) : arrowIPCToSamples(bytes, readOptions);
}

function describeHead(head: Uint8Array): string {
  if (head.length === 0) return 'it is empty';
  return `it starts with bytes ${[...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}

async function readHead(path: string, n: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(n);
    const { bytesRead } = await handle.read(buffer, 0, n, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The whole file in steps of 8 MiB, so progress and cancellation work for large binary files too. */
async function readWhole(path: string, size: number, options: ReadSamplesOptions): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const bytes = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      options.signal?.throwIfAborted();
      const { bytesRead } = await handle.read(bytes, offset, Math.min(8 << 20, size - offset), offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      if (offset < size) options.onProgress?.({ bytesRead: offset, totalBytes: size });
    }
    return bytes.subarray(0, offset);
  } finally {
    await handle.close();
  }
}

export interface WriteSamplesOptions extends ColumnsToArrowOptions, Pick<CsvWriteOptions, 'metrics' | 'state'> {
  /** Parquet only (default snappy). */
  compression?: ParquetCompression;
}

/** The bytes of the columns in a format (what `writeSamplesFile` writes). */
export async function encodeSamples(columns: SampleColumns, format: SamplesFormat, options: WriteSamplesOptions = {}): Promise<Uint8Array | string> {
  switch (format) {
    case 'parquet':
      return columnsToParquet(columns, options);
    case 'arrow':
      return columnsToArrowIPC(columns, { ...options, format: 'file' });
    case 'arrow-stream':
      return columnsToArrowIPC(columns, { ...options, format: 'stream' });
    case 'csv':
      return formatCsv(columns, options);
  }
}

/**
 * Writes the columns to `path` atomically (temp file, fsync, rename): a reader or a crash sees
 * the previous file or the complete new one, never a torn one.
 */
export async function writeSamplesFile(path: string, columns: SampleColumns, format: SamplesFormat, options: WriteSamplesOptions = {}): Promise<void> {
  writeFileAtomic(path, await encodeSamples(columns, format, options));
}
