import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '@shared/contract';
import {
  FileFormatError,
  arrowIPCToSamples,
  columnsToArrowIPC,
  columnsToParquet,
  formatCsv,
  parquetToSamples,
  parseCsvSamples,
} from '../../src/main/core/metrics/io';
import { arbitrarySampleColumns } from '../../src/main/core/metrics/io/testing/arbitrary-samples';
import { PromResponseError, parsePromResponse } from '../../src/main/core/sources/prometheus/parse';
import { FUZZ_RUNS, Tally, applyMutations, describeBytes, fuzzTimeout, mutations } from './fuzz-kit';

/**
 * Every file parser and the Prometheus response parser, fed random and mutated input: each case
 * either parses or throws the parser's own error class (FileFormatError, PromResponseError);
 * anything else is a crash and fails the property with the input that caused it.
 */

const tallies: Tally[] = [];
afterAll(() => {
  for (const t of tallies) t.save();
});

function tally(target: string): Tally {
  const t = new Tally(target);
  tallies.push(t);
  return t;
}

function judge(t: Tally, errorClass: abstract new (...args: never[]) => Error, error: unknown, input: string): void {
  if (error instanceof errorClass) {
    t.rejected(errorClass.name);
    return;
  }
  t.crashed(error, input);
  throw error;
}

/** In every metric's range (error_rate is a 0..1 ratio), so unmutated files must parse. */
const value = fc.oneof(
  fc.constantFrom(0, 1, 0.5),
  fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000),
);
const validColumns = arbitrarySampleColumns(value, 12);

/** A CSV line made of fields that look like the real ones, or random text. */
const csvField = fc.oneof(
  fc.constantFrom(
    'timestamp',
    'server',
    'state',
    'profile',
    ...METRIC_NAMES,
    'healthy',
    'critical_issue',
    'NaN',
    '-Inf',
    '',
    '""',
    '"a,b"',
  ),
  fc.constantFrom('2024-01-01T00:00:00Z', '1704067200', '1704067200000', '2024-01-01 00:05:00', 'ppml0001', 'db-2'),
  fc.double().map(String),
  fc.string({ maxLength: 12 }),
);
const csvText = fc
  .tuple(fc.array(fc.array(csvField, { maxLength: 10 }), { maxLength: 8 }), fc.constantFrom('\n', '\r\n'))
  .map(([rows, eol]) => rows.map((r) => r.join(',')).join(eol));

describe('fuzz seeds: the valid files mutated below parse unmutated', () => {
  it('CSV, Arrow (stream and file) and Parquet written from valid samples read back', async () => {
    for (const columns of fc.sample(validColumns, 20)) {
      const rows = columns.server.length;
      expect(parseCsvSamples(formatCsv(columns), { fileName: 'seed.csv' }).columns.server.length).toBe(rows);
      expect(
        arrowIPCToSamples(columnsToArrowIPC(columns, { format: 'file' }), { fileName: 'seed.arrow' }).columns.server
          .length,
      ).toBe(rows);
      expect(
        (await parquetToSamples(await columnsToParquet(columns), { fileName: 'seed.parquet' })).columns.server.length,
      ).toBe(rows);
    }
  });
});

describe('fuzz: CSV parser', () => {
  const t = tally('csv');
  it(
    `random text, random byte strings and mutated valid files (${FUZZ_RUNS} cases): parsed or FileFormatError`,
    () => {
      const input = fc.oneof(
        csvText,
        validColumns.map((columns) => formatCsv(columns)),
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.uint8Array({ maxLength: 400 }),
        fc
          .tuple(validColumns, mutations())
          .map(([columns, ms]) => applyMutations(new TextEncoder().encode(formatCsv(columns)), ms)),
      );
      fc.assert(
        fc.property(input, fc.boolean(), (data, singleSeries) => {
          try {
            const options = singleSeries
              ? { fileName: 'fuzz.csv', series: { server: 'ppml0001', metric: 'cpu_percent' } }
              : { fileName: 'fuzz.csv' };
            const file = parseCsvSamples(data, options as Parameters<typeof parseCsvSamples>[1]);
            expect(file).toBeTruthy();
            t.succeeded();
          } catch (error) {
            judge(t, FileFormatError, error, typeof data === 'string' ? JSON.stringify(data) : describeBytes(data));
          }
        }),
        { numRuns: FUZZ_RUNS },
      );
      expect(t.crashes).toBe(0);
    },
    fuzzTimeout(2),
  );
});

describe('fuzz: Arrow IPC parser', () => {
  const t = tally('arrow');
  it(
    `random bytes and mutated valid stream/file IPC (${FUZZ_RUNS} cases): parsed or FileFormatError`,
    () => {
      const input = fc.oneof(
        { arbitrary: fc.uint8Array({ maxLength: 600 }), weight: 1 },
        {
          arbitrary: fc
            .tuple(validColumns, fc.constantFrom('stream' as const, 'file' as const))
            .map(([columns, format]) => columnsToArrowIPC(columns, { format })),
          weight: 1,
        },
        {
          arbitrary: fc
            .tuple(validColumns, fc.constantFrom('stream' as const, 'file' as const), mutations())
            .map(([columns, format, ms]) => applyMutations(columnsToArrowIPC(columns, { format }), ms)),
          weight: 4,
        },
      );
      fc.assert(
        fc.property(input, (bytes) => {
          try {
            arrowIPCToSamples(bytes, { fileName: 'fuzz.arrow' });
            t.succeeded();
          } catch (error) {
            judge(t, FileFormatError, error, describeBytes(bytes));
          }
        }),
        { numRuns: FUZZ_RUNS },
      );
      expect(t.crashes).toBe(0);
    },
    fuzzTimeout(5),
  );
});

describe('fuzz: Parquet parser', () => {
  const t = tally('parquet');
  it(
    `random bytes and mutated valid files (${FUZZ_RUNS} cases): parsed or FileFormatError`,
    async () => {
      // Valid files are written once (parquet-wasm is async), then mutated per case.
      const seeds = await Promise.all(
        fc
          .sample(validColumns, 8)
          .map((columns, i) =>
            columnsToParquet(columns, { compression: (['snappy', 'zstd', 'none'] as const)[i % 3] }),
          ),
      );
      const input = fc.oneof(
        { arbitrary: fc.uint8Array({ maxLength: 600 }), weight: 1 },
        {
          arbitrary: fc
            .uint8Array({ maxLength: 600 })
            .map((b) => Uint8Array.from([0x50, 0x41, 0x52, 0x31, ...b, 0x50, 0x41, 0x52, 0x31])),
          weight: 1,
        },
        { arbitrary: fc.constantFrom(...seeds), weight: 1 },
        {
          arbitrary: fc.tuple(fc.constantFrom(...seeds), mutations()).map(([bytes, ms]) => applyMutations(bytes, ms)),
          weight: 4,
        },
      );
      await fc.assert(
        fc.asyncProperty(input, async (bytes) => {
          try {
            await parquetToSamples(bytes, { fileName: 'fuzz.parquet' });
            t.succeeded();
          } catch (error) {
            judge(t, FileFormatError, error, describeBytes(bytes));
          }
        }),
        { numRuns: FUZZ_RUNS },
      );
      expect(t.crashes).toBe(0);
    },
    fuzzTimeout(10),
  );
});

describe('fuzz: Prometheus response parser', () => {
  const t = tally('prometheus');
  it(
    `any JSON, Prometheus-shaped JSON and mutated bodies (${FUZZ_RUNS} cases): parsed or PromResponseError`,
    () => {
      const labelSet = fc.dictionary(
        fc.oneof(fc.constantFrom('instance', '__name__', 'job', 'profile'), fc.string({ maxLength: 8 })),
        fc.oneof(fc.string(), fc.jsonValue()),
      );
      const point = fc.oneof(
        fc.tuple(
          fc.oneof(fc.double(), fc.integer()),
          fc.oneof(fc.constantFrom('NaN', '+Inf', '-Inf', '1e308', '-0'), fc.double().map(String), fc.string()),
        ),
        fc.jsonValue(),
      );
      const item = fc.record(
        { metric: fc.oneof(labelSet, fc.jsonValue()), value: point, values: fc.array(point, { maxLength: 5 }) },
        { requiredKeys: [] },
      );
      const shaped = fc
        .record(
          {
            status: fc.oneof(fc.constantFrom('success', 'error'), fc.jsonValue()),
            data: fc.record(
              {
                resultType: fc.oneof(fc.constantFrom('vector', 'matrix', 'scalar', 'string'), fc.jsonValue()),
                result: fc.oneof(fc.array(item, { maxLength: 5 }), fc.jsonValue()),
              },
              { requiredKeys: [] },
            ),
            errorType: fc.string(),
            error: fc.string(),
          },
          { requiredKeys: [] },
        )
        .map((body) => JSON.stringify(body));
      const wellFormed = fc
        .array(
          fc.record({
            metric: fc.record({ instance: fc.constantFrom('ppml0001:9100', 'db-2', 'web.3:80') }),
            value: fc.tuple(fc.integer({ min: 1.6e9, max: 1.8e9 }), fc.double().map(String)),
          }),
          { maxLength: 4 },
        )
        .map((result) => JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
      const body = fc.oneof(
        wellFormed,
        shaped,
        fc.jsonValue().map((j) => JSON.stringify(j)),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc
          .tuple(shaped, mutations(3))
          .map(([text, ms]) => Buffer.from(applyMutations(new TextEncoder().encode(text), ms)).toString('utf8')),
      );
      fc.assert(
        fc.property(body, fc.option(fc.constantFrom(...METRIC_NAMES), { nil: null }), (text, metric) => {
          try {
            const { series } = parsePromResponse(text, metric);
            for (const s of series)
              for (const [time, v] of s.points) expect(typeof time === 'number' && typeof v === 'number').toBe(true);
            t.succeeded();
          } catch (error) {
            judge(t, PromResponseError, error, JSON.stringify(text));
          }
        }),
        { numRuns: FUZZ_RUNS },
      );
      expect(t.crashes).toBe(0);
    },
    fuzzTimeout(1),
  );
});
