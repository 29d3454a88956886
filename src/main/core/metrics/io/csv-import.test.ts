import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetricName } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { CsvSamplesParser, parseCsvSamples, readCsvSamples, type CsvParseOptions } from './csv-import';
import { CsvTokenizer } from './csv-tokenizer';
import { formatCsv, formatMetricValue, quoteCsvField } from './csv-write';
import { FileFormatError } from './file-format-error';
import { parseMetricValue } from './samples-check';
import { fixtureColumns, sameSamples } from './sample-fixtures';
import { arbitrarySampleColumns } from './testing/arbitrary-samples';

const dir = mkdtempSync(join(tmpdir(), 'csv-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Feeds text in pieces cut at the given fractions, the way a streamed file arrives. */
function parseInPieces(text: string, cuts: readonly number[], options: CsvParseOptions) {
  const parser = new CsvSamplesParser(options);
  const points = [...new Set(cuts.map((c) => Math.floor(c * text.length)))].sort((a, b) => a - b);
  let from = 0;
  for (const p of [...points, text.length]) {
    parser.push(text.slice(from, p));
    from = p;
  }
  return parser.finish();
}

function tokenize(text: string, cuts: readonly number[]): string[][] {
  const records: string[][] = [];
  const tokenizer = new CsvTokenizer({
    record: (fields) => records.push(fields),
    problem: (line, reason) => {
      throw new Error(`line ${line}: ${reason}`);
    },
  });
  const points = [...new Set(cuts.map((c) => Math.floor(c * text.length)))].sort((a, b) => a - b);
  let from = 0;
  for (const p of [...points, text.length]) {
    tokenizer.push(text.slice(from, p));
    from = p;
  }
  tokenizer.end();
  return records;
}

function errorOf(run: () => unknown): FileFormatError {
  try {
    run();
  } catch (error) {
    if (error instanceof FileFormatError) return error;
    throw error;
  }
  throw new Error('expected a FileFormatError');
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 });

describe('CSV tokenizer', () => {
  it('reads back any table written with RFC 4180 quoting, whatever the line ending and chunking (property)', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ',', '"', '\r', '\n', ' ', 'é', '\u{1F600}'), maxLength: 6 });
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }).chain((width) => fc.array(fc.array(field, { minLength: width, maxLength: width }), { minLength: 1, maxLength: 8 })),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        cuts,
        (table, eol, finalEol, at) => {
          const text = table.map((row) => row.map(quoteCsvField).join(',')).join(eol) + (finalEol ? eol : '');
          expect(tokenize(text, at)).toEqual(table);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('counts lines as an editor does, across quoted line breaks and CRLF', () => {
    const lines: number[][] = [];
    const tokenizer = new CsvTokenizer({ record: (_f, l) => lines.push(l), problem: () => undefined });
    tokenizer.push('a,b\r\n"x\r\ny",z\r\n\r\nq,"r\nr"\n');
    tokenizer.end();
    expect(lines).toEqual([[1, 1], [2, 3], [5, 5]]);
  });
});

/** Valid samples with every kind of value CSV can spell (a NaN's payload it cannot). */
function arbitrarySamples(): fc.Arbitrary<SampleColumns> {
  return arbitrarySampleColumns(
    fc.oneof(
      { weight: 8, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
      { weight: 2, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1e-300, 5e-324) },
    ),
    30,
  );
}

describe('CSV samples', () => {
  it('round-trips generated tables through the writer: NaN, ±Inf, -0, missing, quoting, CRLF, BOM, any chunking (property)', () => {
    fc.assert(
      fc.property(arbitrarySamples(), fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n'), fc.boolean(), fc.boolean(), cuts, (columns, eol, bom, quoteAll, at) => {
        let text = formatCsv(columns, { lineEnding: eol });
        // Quoting fields that need none is legal RFC 4180 and must read the same.
        if (quoteAll) text = text.split(eol).map((line) => (line === '' ? line : line.split(',').map((f) => `"${f}"`).join(','))).join(eol);
        if (bom) text = `\uFEFF${text}`;
        const back = parseInPieces(text, at, { fileName: 'gen.csv' });
        expect(sameSamples(columns, back.columns)).toBeNull();
        expect(back.duplicatesDropped).toBe(0);
        expect(back.snapped).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('never fails with anything but FileFormatError on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          parseCsvSamples(bytes, { fileName: 'fuzz.csv' });
        } catch (error) {
          expect(error).toBeInstanceOf(FileFormatError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never fails with anything but FileFormatError on CSV-shaped noise (property)', () => {
    const token = fc.constantFrom(
      'timestamp', 'server', 'state', 'profile', 'value', 'cpu_percent', 'error_rate', 'bogus',
      ',', ',', '"', '""', '\n', '\r\n', '\r', ' ', '', 'ppml01', '2024-01-01 00:00:00', '2024-02-30T25:00Z',
      '1700000000', '1700000000000', '-1', '1e999', 'NaN', '-Inf', 'inf', '12,5', '101', '0.5', '-0', 'healthy', 'web_api', '\uFEFF', '\u0000',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), fc.boolean(), (tokens, single) => {
        try {
          parseCsvSamples(tokens.join(''), { fileName: 'noise.csv', ...(single ? { series: { server: 'web1', metric: 'cpu_percent' } } : {}) });
        } catch (error) {
          expect(error).toBeInstanceOf(FileFormatError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a subset of metrics, state and profile, with the others missing', () => {
    const csv = 'Timestamp,server,profile,state,cpu_percent,latency_ms\n2024-05-01T00:00:00Z,db1,database,healthy,12.5,\n2024-05-01T00:05:00Z,db1,,,nan,3e2\n';
    const { columns, metrics, profiles } = parseCsvSamples(csv, { fileName: 'm.csv' });
    expect(metrics).toEqual(['cpu_percent', 'latency_ms']);
    expect(profiles.get('db1')).toBe('database');
    expect(columns.state).toEqual(['healthy', null]);
    expect(Array.from(columns.metrics.cpu_percent.values)).toEqual([12.5, Number.NaN]);
    expect(Array.from(columns.metrics.latency_ms.present)).toEqual([0, 1]);
    expect(columns.metrics.latency_ms.values[1]).toBe(300);
    expect(Array.from(columns.metrics.memory_percent.present)).toEqual([0, 0]);
  });

  it.each([
    ['2024-05-01T12:00:00Z', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T12:00:00', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01 12:00:00', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T14:00:00+02:00', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T07:30:00-0430', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01 12:00:00.000000', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01', Date.UTC(2024, 4, 1)],
    [String(Date.UTC(2024, 4, 1, 12) / 1000), Date.UTC(2024, 4, 1, 12)],
    [String(Date.UTC(2024, 4, 1, 12)), Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T12:02:29Z', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T12:02:30Z', Date.UTC(2024, 4, 1, 12, 5)],
    ['2024-05-01T11:57:31Z', Date.UTC(2024, 4, 1, 12)],
  ])('reads timestamp %s as %d (UTC, nearest 5-minute mark)', (text, expected) => {
    const { columns } = parseCsvSamples(`timestamp,server,cpu_percent\n${text},a,1\n`, { fileName: 't.csv' });
    expect(columns.timestamp[0]).toBe(expected);
  });

  it('keeps NAB-style series with a constant phase on consecutive marks', () => {
    const rows = ['2014-02-14 14:27:00,1', '2014-02-14 14:32:00,2', '2014-02-14 14:37:00,3', '2014-04-10 00:04:00,4', '2014-04-10 00:09:00,5'];
    const { columns, snapped } = parseCsvSamples(`timestamp,value\n${rows.join('\n')}\n`, { fileName: 'nab.csv', series: { server: 'i-1', metric: 'cpu_percent' } });
    expect(Array.from(columns.timestamp).map((t) => new Date(t).toISOString().slice(11, 16))).toEqual(['14:25', '14:30', '14:35', '00:05', '00:10']);
    expect(snapped).toBe(5);
    expect(columns.server).toEqual(['i-1', 'i-1', 'i-1', 'i-1', 'i-1']);
  });

  it('scales single-series values before the range check', () => {
    const { columns } = parseCsvSamples('timestamp,value\n2014-02-14 14:30:00,37500000\n', {
      fileName: 'net.csv',
      series: { server: 'i-1', metric: 'network_in_mbps', scale: 8 / 300 / 1e6 },
    });
    expect(columns.metrics.network_in_mbps.values[0]).toBeCloseTo(1, 12);
  });

  it('collapses identical duplicates and refuses conflicting ones, naming both lines', () => {
    const same = parseCsvSamples('timestamp,server,cpu_percent\n2024-05-01 00:00:00,a,1\n2024-05-01 00:00:10,a,1\n2024-05-01 00:05:00,a,2\n', { fileName: 'd.csv' });
    expect(same.columns.length).toBe(2);
    expect(same.duplicatesDropped).toBe(1);
    const error = errorOf(() => parseCsvSamples('timestamp,server,cpu_percent\n2024-05-01 00:00:00,a,1\n2024-05-01 00:05:00,a,2\n2024-05-01 00:01:00,a,3\n', { fileName: 'd.csv' }));
    expect(error.line).toBe(4);
    expect(error.field).toBe('cpu_percent');
    expect(error.message).toBe('d.csv line 4, field cpu_percent: line 4 and line 2 are both a at 2024-05-01T00:00:00.000Z (nearest 5-minute mark) with different cpu_percent: 3 vs 1');
  });

  it.each([
    ['a bad number', 'timestamp,server,cpu_percent\n2024-05-01 00:00:00,a,1\n2024-05-01 00:05:00,a,"12,5"\n', 3, 'cpu_percent', 'bad.csv line 3, field cpu_percent: "12,5" is not a number'],
    ['a bad timestamp', 'timestamp,server,cpu_percent\n2024-13-01 00:00:00,a,1\n', 2, 'timestamp', 'bad.csv line 2, field timestamp: "2024-13-01 00:00:00" has month 13, outside 01..12'],
    ['an impossible day', 'timestamp,server,cpu_percent\n2023-02-29,a,1\n', 2, 'timestamp', 'bad.csv line 2, field timestamp: "2023-02-29" has day 29, which 2023-02 does not have'],
    ['an unknown column', 'timestamp,server,cpu_pct\n', 1, 'cpu_pct', 'bad.csv line 1, field cpu_pct: unknown column "cpu_pct"; the columns are timestamp, server, state, profile, cpu_percent, memory_percent, disk_percent, iowait_percent, swap_percent, load_average, network_in_mbps, network_out_mbps, latency_ms, error_rate'],
    ['no server column', 'timestamp,cpu_percent\n2024-05-01,1\n', 1, 'server', 'bad.csv line 1, field server: the header has no "server" column (a multi-metric file needs timestamp, server and metric columns)'],
    ['a value out of range', 'timestamp,server,cpu_percent\n2024-05-01,a,120\n', 2, 'cpu_percent', 'bad.csv line 2, field cpu_percent: 120 is outside the contract range for cpu_percent (0..100 %)'],
    ['a negative ratio', 'timestamp,server,error_rate\n2024-05-01,a,-0.5\n', 2, 'error_rate', 'bad.csv line 2, field error_rate: -0.5 is outside the contract range for error_rate (0..1 ratio)'],
    ['an overflowing literal', 'timestamp,server,latency_ms\n2024-05-01,a,1e999\n', 2, 'latency_ms', 'bad.csv line 2, field latency_ms: "1e999" is too large for a 64-bit number'],
    ['an unknown state', 'timestamp,server,state\n2024-05-01,a,sleepy\n', 2, 'state', 'bad.csv line 2, field state: "sleepy" is not a server state (healthy, heavy_load, morning_spike, idle, maintenance, critical_issue, recovery, offline, or empty)'],
    ['a bad server name', 'timestamp,server,cpu_percent\n2024-05-01,bad name,1\n', 2, 'server', 'bad.csv line 2, field server: "bad name" is not a valid server name (letters, digits and . _ : -, starting with a letter or digit, at most 128 characters)'],
    ['a short line', 'timestamp,server,cpu_percent\n2024-05-01,a\n', 2, null, 'bad.csv line 2: this line has 2 fields; the header has 3'],
    ['an unclosed quote', 'timestamp,server,cpu_percent\n2024-05-01,a,"1\n2024-05-01,a,1\n', 2, null, 'bad.csv line 2: a quoted field opened on line 2 never closes'],
    ['a stray quote', 'timestamp,server,cpu_percent\n2024-05-01,a,1"2\n', 2, null, 'bad.csv line 2: a quote in the middle of an unquoted field (quote the whole field and double the quotes inside it)'],
    ['an empty file', '', 1, null, 'bad.csv line 1: the file is empty: it has no header line'],
    ['a value file without a target', 'timestamp,value\n2024-05-01,1\n', 1, 'value', 'bad.csv line 1, field value: this is a single-series "timestamp,value" file: say which server and metric it holds (the series option)'],
    ['a field after a multi-line quoted one', 'timestamp,server,profile,cpu_percent\n2024-05-01,a,"web_api\n",x\n', 3, 'cpu_percent', 'bad.csv line 3, field cpu_percent: "x" is not a number'],
  ])('names file, line and field for %s', (_what, csv, line, field, message) => {
    const error = errorOf(() => parseCsvSamples(csv, { fileName: 'bad.csv' }));
    expect(error.file).toBe('bad.csv');
    expect(error.line).toBe(line);
    expect(error.field).toBe(field);
    if (message !== null) expect(error.problems[0]!.message).toBe(message);
  });

  it('refuses bytes that are not UTF-8', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('timestamp,server\n'), 0xff, 0xfe, 0x41]);
    expect(errorOf(() => parseCsvSamples(bytes, { fileName: 'x.csv' })).message).toMatch(/^x\.csv line 1: the file is not UTF-8 text/);
  });

  it('collects up to maxErrors problems, then stops', () => {
    const bad = Array.from({ length: 100 }, (_, i) => `2024-05-01T00:${String(i % 60).padStart(2, '0')}:00Z,a,x${i}`).join('\n');
    const error = errorOf(() => parseCsvSamples(`timestamp,server,cpu_percent\n${bad}\n`, { fileName: 'many.csv' }));
    expect(error.problems).toHaveLength(20);
    expect(error.truncated).toBe(true);
    expect(error.problems.map((p) => p.line)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    expect(error.message).toMatch(/stopped after 20 problems/);
    const five = errorOf(() => parseCsvSamples(`timestamp,server,cpu_percent\n${bad}\n`, { fileName: 'many.csv', maxErrors: 5 }));
    expect(five.problems).toHaveLength(5);
  });
});

describe('CSV files', () => {
  const columns = fixtureColumns({ servers: 4, steps: 3000, special: 0.01 });
  const path = join(dir, 'big.csv');
  writeFileSync(path, formatCsv(columns, { lineEnding: '\r\n' }));

  it('streams a file in chunks with progress and reads it exactly', async () => {
    const progress: number[] = [];
    let total = 0;
    const back = await readCsvSamples(path, {
      chunkBytes: 4096,
      onProgress: (p) => {
        progress.push(p.bytesRead);
        total = p.totalBytes;
      },
    });
    expect(sameSamples(columns, back.columns)).toBeNull();
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.every((b, i) => i === 0 || b > progress[i - 1]!)).toBe(true);
    expect(progress.at(-1)).toBe(total);
  });

  it('decodes UTF-8 split across chunk edges', async () => {
    const p = join(dir, 'utf8.csv');
    const row = '2024-05-01,a,"é€😀",1\n';
    writeFileSync(p, `timestamp,server,state,cpu_percent\n${row.repeat(2000)}`);
    const error = await readCsvSamples(p, { chunkBytes: 4099 }).catch((e: unknown) => e);
    // The decoded text survives intact: the problem reported is the state, not mojibake.
    expect(error).toBeInstanceOf(FileFormatError);
    expect((error as FileFormatError).problems[0]!.reason).toMatch(/^"é€😀" is not a server state/);
  });

  it('stops when the signal aborts, with the signal reason', async () => {
    const controller = new AbortController();
    const result = readCsvSamples(path, {
      chunkBytes: 4096,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.bytesRead >= 8192) controller.abort();
      },
    });
    await expect(result).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('does not start when the signal has already aborted', async () => {
    await expect(readCsvSamples(path, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('names the file by its base name', async () => {
    const p = join(dir, 'server_metrics.csv');
    writeFileSync(p, 'timestamp,server,cpu_percent\n2024-05-01,a,1\n2024-05-01T00:05Z,a,12;5\n');
    await expect(readCsvSamples(p)).rejects.toThrow('server_metrics.csv line 3, field cpu_percent: "12;5" is not a number');
  });
});

describe('metric values', () => {
  it('parse exactly as Number() does, fast path or not (property)', () => {
    const decimal = fc
      .tuple(fc.constantFrom('', '-', '+'), fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 18 }), fc.integer({ min: -1, max: 24 }))
      .map(([sign, digits, dot]) => (dot < 0 || dot > digits.length ? sign + digits : `${sign}${digits.slice(0, dot)}.${digits.slice(dot)}`));
    fc.assert(
      fc.property(fc.oneof(decimal, fc.double({ noNaN: true, noDefaultInfinity: true }).map(String)), (text) => {
        const expected = Number(text);
        const parsed = parseMetricValue(text);
        if (!/\d/.test(text)) expect(typeof parsed).toBe('string');
        else expect(Object.is(parsed, expected)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('spells special values in any case and refuses the rest', () => {
    expect(['NaN', 'nan', 'Inf', '+Inf', '-Inf', 'inf', 'Infinity', '-infinity'].map(parseMetricValue)).toEqual([NaN, NaN, Infinity, Infinity, -Infinity, Infinity, Infinity, -Infinity]);
    expect(['0x10', '1_000', '.', '-', '1e', '--1', '1.2.3', 'NaNa'].map((t) => typeof parseMetricValue(t))).toEqual(Array(8).fill('string'));
    expect(parseMetricValue('')).toBeNull();
    expect(Object.is(parseMetricValue('-0'), -0)).toBe(true);
    expect(parseMetricValue('.5')).toBe(0.5);
    expect(parseMetricValue('5.')).toBe(5);
    expect(parseMetricValue('1E3')).toBe(1000);
  });
});

describe('CSV writer', () => {
  it('spells values the reader takes back', () => {
    expect([Number.NaN, Infinity, -Infinity, -0, 0, 0.1, 1e-7, 5e-324].map(formatMetricValue)).toEqual(['NaN', 'Inf', '-Inf', '-0', '0', '0.1', '1e-7', '5e-324']);
  });

  it('writes chosen metrics and a profile column', () => {
    const columns = fixtureColumns({ servers: 1, steps: 1, missing: 0, special: 0 });
    const metrics: MetricName[] = ['cpu_percent'];
    const text = formatCsv(columns, { metrics, profileOf: () => 'ml_compute', state: false });
    expect(text).toBe(`timestamp,server,profile,cpu_percent\n2024-01-01T00:00:00.000Z,ppml0000,ml_compute,${columns.metrics.cpu_percent.values[0]}\n`);
  });
});
