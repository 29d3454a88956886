import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { arrowIPCToSamples, columnsToArrowIPC } from '../src/main/core/metrics/io/arrow-io';
import { parseCsvSamples, readCsvSamples } from '../src/main/core/metrics/io/csv-import';
import { formatCsv } from '../src/main/core/metrics/io/csv-write';
import { columnsToParquet, parquetToSamples } from '../src/main/core/metrics/io/parquet-io';
import { fixtureColumns, sameSamples } from '../src/main/core/metrics/io/sample-fixtures';
import { readSamplesFile, writeSamplesFile } from '../src/main/core/metrics/io/samples-file';

/**
 * File IO benchmark: 20 servers x 720 h x 5 min = 172,800 rows x 10 metrics (the `generate`
 * size of the issue), medians of RUNS timed runs after one untimed warm-up; `firstMs` is the
 * cold first call in this process (for Parquet it includes compiling the WebAssembly module).
 *
 *   npx vitest run --config bench/io.vitest.config.ts
 *
 * Prints one JSON line starting with {"bench":"io".
 */
const SERVERS = 20;
const STEPS = 720 * 12;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

interface Timing {
  medianMs: number;
  firstMs: number;
  runsMs: number[];
}

async function time<T>(fn: () => T | Promise<T>): Promise<{ timing: Timing; result: T }> {
  const t0 = performance.now();
  let result = await fn();
  const firstMs = performance.now() - t0;
  const runsMs: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    const t = performance.now();
    result = await fn();
    runsMs.push(performance.now() - t);
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  const round = (x: number): number => Math.round(x * 10) / 10;
  return { timing: { medianMs: round(sorted[sorted.length >> 1]!), firstMs: round(firstMs), runsMs: runsMs.map(round) }, result };
}

test('io benchmark', async () => {
  const columns = fixtureColumns({ servers: SERVERS, steps: STEPS, missing: 0.01, special: 0.001 });
  const rows = columns.length;
  const dir = mkdtempSync(join(tmpdir(), 'io-bench-'));
  try {
    const parquetWrite = await time(() => columnsToParquet(columns));
    const parquetRead = await time(() => parquetToSamples(parquetWrite.result, { fileName: 'bench.parquet' }));
    expect(sameSamples(columns, parquetRead.result.columns)).toBeNull();
    const zstdWrite = await time(() => columnsToParquet(columns, { compression: 'zstd' }));
    const zstdRead = await time(() => parquetToSamples(zstdWrite.result, { fileName: 'bench.parquet' }));

    const parquetPath = join(dir, 'server_metrics.parquet');
    const parquetFileWrite = await time(() => writeSamplesFile(parquetPath, columns, 'parquet'));
    const parquetFileRead = await time(() => readSamplesFile(parquetPath));
    expect(parquetFileRead.result.columns.length).toBe(rows);

    const arrowFileWrite = await time(() => columnsToArrowIPC(columns, { format: 'file' }));
    const arrowFileRead = await time(() => arrowIPCToSamples(arrowFileWrite.result, { fileName: 'bench.arrow' }));
    expect(sameSamples(columns, arrowFileRead.result.columns)).toBeNull();
    const arrowStreamWrite = await time(() => columnsToArrowIPC(columns, { format: 'stream' }));
    const arrowStreamRead = await time(() => arrowIPCToSamples(arrowStreamWrite.result, { fileName: 'bench.arrows' }));

    const csvFormat = await time(() => formatCsv(columns));
    const csvParse = await time(() => parseCsvSamples(csvFormat.result, { fileName: 'bench.csv' }));
    expect(sameSamples(columns, csvParse.result.columns)).toBeNull();
    const csvPath = join(dir, 'server_metrics.csv');
    writeFileSync(csvPath, csvFormat.result);
    const csvStream = await time(() => readCsvSamples(csvPath));

    const rowsPerSecond = (t: Timing): number => Math.round(rows / (t.medianMs / 1000));
    const report = {
      bench: 'io',
      rows,
      metrics: 10,
      runs: RUNS,
      node: process.version,
      parquet: {
        library: 'parquet-wasm',
        snappy: { bytes: parquetWrite.result.length, write: parquetWrite.timing, read: parquetRead.timing },
        zstd: { bytes: zstdWrite.result.length, write: zstdWrite.timing, read: zstdRead.timing },
        file: { bytes: statSync(parquetPath).size, writeAtomic: parquetFileWrite.timing, readSamplesFile: parquetFileRead.timing },
      },
      arrow: {
        file: { bytes: arrowFileWrite.result.length, write: arrowFileWrite.timing, read: arrowFileRead.timing },
        stream: { bytes: arrowStreamWrite.result.length, write: arrowStreamWrite.timing, read: arrowStreamRead.timing },
      },
      csv: {
        bytes: Buffer.byteLength(csvFormat.result),
        format: csvFormat.timing,
        parseString: { ...csvParse.timing, rowsPerSecond: rowsPerSecond(csvParse.timing) },
        readFileStreaming: { ...csvStream.timing, rowsPerSecond: rowsPerSecond(csvStream.timing) },
      },
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
