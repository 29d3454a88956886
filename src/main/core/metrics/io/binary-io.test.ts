import { Float64, Table, Utf8, makeData, makeVector, tableToIPC, vectorFromArray } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, STEP_MS, type Profile } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { allocateColumns } from '../columns';
import { CONTRACT_METADATA_KEY, arrowIPCToSamples, arrowTableToSamples, columnsToArrowIPC, columnsToArrowTable } from './arrow-io';
import { FileFormatError } from './file-format-error';
import { columnsToParquet, parquetToSamples } from './parquet-io';
import { fixtureColumns, sameSamples } from './sample-fixtures';
import { arbitrarySampleColumns } from './testing/arbitrary-samples';

/** A NaN whose payload is not the canonical one: what a C producer may hand over. */
function payloadNaN(payload: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, 0x7ff00000 | (payload & 0xfffff));
  view.setUint32(4, 0xdead0000 | (payload & 0xffff));
  return view.getFloat64(0);
}

/** Rows with every awkward value a metric may hold, in every metric. */
function awkwardColumns(): SampleColumns {
  const specials = [0, -0, Number.NaN, payloadNaN(7), Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, 1];
  const n = specials.length + 1;
  const columns = allocateColumns(n);
  for (let i = 0; i < n; i++) {
    columns.server[i] = i % 2 ? 'ppdb001' : 'ppml0001';
    columns.timestamp[i] = Date.UTC(2024, 4, 1) + i * STEP_MS;
    columns.state[i] = i === 3 ? null : 'healthy';
    METRIC_NAMES.forEach((name, k) => {
      if (i === n - 1 || (i + k) % 5 === 4) return; // missing
      columns.metrics[name].values[i] = specials[(i + k) % specials.length]!;
      columns.metrics[name].present[i] = 1;
    });
  }
  return columns;
}

const readArrow = (bytes: Uint8Array) => arrowIPCToSamples(bytes, { fileName: 'x.arrow' });
const readParquet = (bytes: Uint8Array) => parquetToSamples(bytes, { fileName: 'x.parquet' });

describe('Arrow IPC', () => {
  it.each(['file', 'stream'] as const)('round-trips the %s format bit for bit, NaN payloads, -0, ±Inf and missing included', (format) => {
    const columns = awkwardColumns();
    const back = readArrow(columnsToArrowIPC(columns, { format }));
    expect(sameSamples(columns, back.columns)).toBeNull();
    expect(back.format).toBe(format === 'file' ? 'arrow' : 'arrow-stream');
    expect(back.contractVersion).toBe('1.0.0');
    expect(back.metrics).toEqual([...METRIC_NAMES]);
  });

  it('round-trips a realistic batch and writes the profile column from a lookup', () => {
    const columns = fixtureColumns({ servers: 7, steps: 300, special: 0.01 });
    const profileOf = (s: string): Profile => (s.startsWith('ppdb') ? 'database' : 'ml_compute');
    const back = readArrow(columnsToArrowIPC(columns, { profileOf }));
    expect(sameSamples(columns, back.columns)).toBeNull();
    expect(back.profiles.get('ppdb0001')).toBe('database');
    expect(back.profiles.get('ppml0000')).toBe('ml_compute');
  });

  it('records the schema the other tools expect', () => {
    const table = columnsToArrowTable(fixtureColumns({ servers: 2, steps: 3 }));
    expect(table.schema.metadata.get(CONTRACT_METADATA_KEY)).toBe('1.0.0');
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, `${String(f.type)}${f.nullable ? '?' : ''}`]));
    expect(types.timestamp).toBe('Timestamp<MILLISECOND, UTC>');
    expect(types.server).toBe('Dictionary<Int32, Utf8>');
    expect(types.state).toBe('Dictionary<Int32, Utf8>?');
    expect(types.cpu_percent).toBe('Float64?');
  });

  it('reads plain string and integer columns, and numeric epoch timestamps, as other writers produce', () => {
    const t0 = Date.UTC(2024, 0, 1) / 1000;
    const table = new Table({
      timestamp: makeVector(new Float64Array([t0, t0 + 300, t0 + 480])), // seconds; the last one snaps to the nearest mark, +600
      server: vectorFromArray(['web1', 'web1', 'web1'], new Utf8()),
      cpu_percent: makeVector(new Int32Array([1, 2, 3])),
    });
    const back = arrowTableToSamples(table, { fileName: 'x.arrow', format: 'arrow' });
    expect(Array.from(back.columns.timestamp)).toEqual([t0 * 1000, (t0 + 300) * 1000, (t0 + 600) * 1000]);
    expect(back.snapped).toBe(1);
    expect(Array.from(back.columns.metrics.cpu_percent.values)).toEqual([1, 2, 3]);
    expect(back.metrics).toEqual(['cpu_percent']);
  });

  it('refuses bytes that are not Arrow, naming the file', () => {
    expect(() => readArrow(new TextEncoder().encode('timestamp,server\n'))).toThrow(FileFormatError);
    expect(() => readArrow(new TextEncoder().encode('timestamp,server\n'))).toThrow(/^x\.arrow: /);
  });

  it('refuses contract violations with the row and field', () => {
    const columns = fixtureColumns({ servers: 1, steps: 5, missing: 0, special: 0 });
    columns.metrics.cpu_percent.values[3] = 120;
    let error: unknown;
    try {
      readArrow(columnsToArrowIPC(columns));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FileFormatError);
    expect((error as FileFormatError).row).toBe(4);
    expect((error as FileFormatError).field).toBe('cpu_percent');
    expect((error as FileFormatError).message).toBe('x.arrow row 4, field cpu_percent: 120 is outside the contract range for cpu_percent (0..100 %)');
  });

  it('refuses unknown columns, a missing server column, and another contract major version', () => {
    const ts = makeVector(new BigInt64Array([1_700_000_100_000n]));
    const unknown = new Table({ timestamp: ts, server: vectorFromArray(['a']), bogus: vectorFromArray([1]) });
    expect(() => arrowTableToSamples(unknown, { fileName: 'u.arrow', format: 'arrow' })).toThrow(/u\.arrow field bogus: unknown column "bogus"/);
    const noServer = new Table({ timestamp: ts });
    expect(() => arrowTableToSamples(noServer, { fileName: 'n.arrow', format: 'arrow' })).toThrow(/no "server" column/);
    const v2 = columnsToArrowTable(fixtureColumns({ servers: 1, steps: 2 }));
    v2.schema.metadata.set(CONTRACT_METADATA_KEY, '2.0.0');
    expect(() => readArrow(tableToIPC(v2))).toThrow(/x\.arrow: written for data contract 2\.0\.0; this version reads 1\.x\.x/);
  });

  it('collapses identical duplicates and refuses conflicting ones, naming both rows', () => {
    const columns = fixtureColumns({ servers: 1, steps: 3, missing: 0, special: 0 });
    const doubled = allocateColumns(4);
    for (const [to, from] of [[0, 0], [1, 1], [2, 1], [3, 2]] as const) {
      doubled.server[to] = columns.server[from]!;
      doubled.timestamp[to] = columns.timestamp[from]!;
      doubled.state[to] = columns.state[from]!;
      for (const name of METRIC_NAMES) {
        doubled.metrics[name].values[to] = columns.metrics[name].values[from]!;
        doubled.metrics[name].present[to] = 1;
      }
    }
    const back = readArrow(columnsToArrowIPC(doubled));
    expect(back.duplicatesDropped).toBe(1);
    expect(sameSamples(columns, back.columns)).toBeNull();
    doubled.metrics.memory_percent.values[2] = doubled.metrics.memory_percent.values[2]! + 1;
    expect(() => readArrow(columnsToArrowIPC(doubled))).toThrow(/row 3, field memory_percent: row 3 and row 2 are both ppml0000 at .* with different memory_percent/);
  });

  it('reads the values where the writer marked them missing as 0, whatever bytes were there', () => {
    const values = new Float64Array([1, 99, 3]);
    const bitmap = new Uint8Array([0b101]);
    const cpu = makeVector(makeData({ type: new Float64(), length: 3, nullCount: 1, nullBitmap: bitmap, data: values }));
    const t = Date.UTC(2024, 0, 1);
    const table = new Table({ timestamp: makeVector(new BigInt64Array([BigInt(t), BigInt(t + STEP_MS), BigInt(t + 2 * STEP_MS)])), server: vectorFromArray(['a', 'a', 'a']), cpu_percent: cpu });
    const back = arrowTableToSamples(table, { fileName: 'x.arrow', format: 'arrow' });
    expect(Array.from(back.columns.metrics.cpu_percent.values)).toEqual([1, 0, 3]);
    expect(Array.from(back.columns.metrics.cpu_percent.present)).toEqual([1, 0, 1]);
  });

  it('writes an empty batch that reads back empty', () => {
    expect(readArrow(columnsToArrowIPC(allocateColumns(0), { format: 'file' })).columns.length).toBe(0);
  });

  it('refuses columns of the wrong type, naming them', () => {
    const t = BigInt(Date.UTC(2024, 0, 1));
    const textMetric = new Table({ timestamp: makeVector(new BigInt64Array([t])), server: vectorFromArray(['a']), cpu_percent: vectorFromArray(['12'], new Utf8()) });
    expect(() => arrowTableToSamples(textMetric, { fileName: 'x.arrow', format: 'arrow' })).toThrow('x.arrow field cpu_percent: the column holds Utf8, not numbers (a metric column is DOUBLE)');
    const textTime = new Table({ timestamp: vectorFromArray(['2024-01-01']), server: vectorFromArray(['a']) });
    expect(() => arrowTableToSamples(textTime, { fileName: 'x.arrow', format: 'arrow' })).toThrow('x.arrow field timestamp: the column holds dictionary-encoded Utf8, not timestamps');
  });

  it.each([
    // Regressions found by this test: a footer block pointing at a non-batch message (the file
    // reader looped forever), a corrupted metadata count (a 2^31-step decode loop), a dictionary
    // claiming millions of entries.
    ['file', [[458, 0, 1], [7216, 0, 1], [178, 128, 1]]],
    ['stream', [[352, 64, 9]]],
  ] as const)('turns corrupted IPC %s bytes into FileFormatError, promptly (property)', (format, examples) => {
    const bytes = columnsToArrowIPC(fixtureColumns({ servers: 2, steps: 30 }), { format });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 16 }), (at, value, span) => {
        const broken = bytes.slice();
        broken.fill(value, at, at + span);
        const started = performance.now();
        try {
          readArrow(broken);
        } catch (error) {
          expect(error).toBeInstanceOf(FileFormatError);
        }
        expect(performance.now() - started).toBeLessThan(1000);
      }),
      { numRuns: 400, examples: examples.map(([a, v, s]) => [a, v, s] as [number, number, number]) },
    );
  });

  it('round-trips arbitrary generated batches (property)', () => {
    fc.assert(
      fc.property(arbitraryColumns(), (columns) => {
        expect(sameSamples(columns, readArrow(columnsToArrowIPC(columns)).columns)).toBeNull();
      }),
      { numRuns: 60 },
    );
  });
});

describe('Parquet', () => {
  it.each(['snappy', 'zstd', 'none'] as const)('round-trips bit for bit with %s compression', async (compression) => {
    const columns = awkwardColumns();
    const back = await readParquet(await columnsToParquet(columns, { compression }));
    expect(sameSamples(columns, back.columns)).toBeNull();
    expect(back.format).toBe('parquet');
    expect(back.contractVersion).toBe('1.0.0');
  });

  it('round-trips Parquet <-> columns <-> Arrow, with profiles, across several row groups', async () => {
    const columns = fixtureColumns({ servers: 5, steps: 500, special: 0.02, missing: 0.05 });
    const profileOf = (s: string): Profile => (s.startsWith('ppweb') ? 'web_api' : 'generic');
    const fromParquet = await readParquet(await columnsToParquet(columns, { profileOf, rowGroupSize: 999 }));
    expect(sameSamples(columns, fromParquet.columns)).toBeNull();
    expect(fromParquet.profiles.get('ppweb0002')).toBe('web_api');
    const fromArrow = readArrow(columnsToArrowIPC(fromParquet.columns, { format: 'file' }));
    expect(sameSamples(columns, fromArrow.columns)).toBeNull();
    const again = await readParquet(await columnsToParquet(fromArrow.columns));
    expect(sameSamples(columns, again.columns)).toBeNull();
  });

  it('writes an empty batch that reads back empty', async () => {
    const back = await readParquet(await columnsToParquet(allocateColumns(0)));
    expect(back.columns.length).toBe(0);
  });

  it('refuses a truncated file, a damaged footer and non-Parquet bytes, in plain words', async () => {
    const bytes = await columnsToParquet(fixtureColumns({ servers: 3, steps: 50 }));
    await expect(readParquet(bytes.subarray(0, bytes.length - 100))).rejects.toThrow(/x\.parquet: the Parquet file is incomplete: its footer is missing/);
    const damaged = bytes.slice();
    new DataView(damaged.buffer).setUint32(damaged.length - 8, 0x7fffffff, true);
    await expect(readParquet(damaged)).rejects.toThrow(/footer claims/);
    await expect(readParquet(new TextEncoder().encode('timestamp,server\n'))).rejects.toThrow(/not a Parquet file: it does not start with "PAR1"/);
    await expect(readParquet(new Uint8Array())).rejects.toBeInstanceOf(FileFormatError);
  });

  it('turns corrupted bytes into FileFormatError and keeps working afterwards', async () => {
    const columns = fixtureColumns({ servers: 2, steps: 40 });
    const bytes = await columnsToParquet(columns);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 4, max: bytes.length - 9 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 16 }), async (at, value, span) => {
        const broken = bytes.slice();
        broken.fill(value, at, Math.min(at + span, bytes.length - 8));
        try {
          await readParquet(broken);
        } catch (error) {
          expect(error).toBeInstanceOf(FileFormatError);
        }
      }),
      { numRuns: 150 },
    );
    // The WebAssembly reader is still sound after all those failures.
    expect(sameSamples(columns, (await readParquet(bytes)).columns)).toBeNull();
  });
});

/** Small batches of valid samples with every kind of value, NaN payloads included. */
function arbitraryColumns(): fc.Arbitrary<SampleColumns> {
  return arbitrarySampleColumns(
    fc.oneof(
      { weight: 6, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
      { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xfffff }).map(payloadNaN) },
    ),
  );
}
