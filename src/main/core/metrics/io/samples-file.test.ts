import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STEP_MS, type MetricName } from '@shared/contract';
import { FileFormatError } from './file-format-error';
import { fixtureColumns, sameSamples } from './sample-fixtures';
import { SAMPLES_FORMATS } from './samples-file-types';
import { readSamplesFile, sniffSamplesFormat, writeSamplesFile } from './samples-file';

const dir = mkdtempSync(join(tmpdir(), 'samples-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readSamplesFile / writeSamplesFile', () => {
  const columns = fixtureColumns({ servers: 3, steps: 200, special: 0.02 });

  it.each(SAMPLES_FORMATS)('round-trips %s through a file, found by its bytes whatever its name', async (format) => {
    const path = join(dir, `any-name-${format}.dat`);
    await writeSamplesFile(path, columns, format, { profileOf: () => 'generic' });
    const back = await readSamplesFile(path);
    expect(back.format).toBe(format);
    expect(sameSamples(columns, back.columns)).toBeNull();
    expect(back.profiles.get('ppml0000')).toBe('generic');
  });

  it('replaces a file atomically and leaves no temp file behind', async () => {
    const path = join(dir, 'server_metrics.parquet');
    await writeSamplesFile(path, fixtureColumns({ servers: 1, steps: 5 }), 'parquet');
    await writeSamplesFile(path, columns, 'parquet');
    expect(sameSamples(columns, (await readSamplesFile(path)).columns)).toBeNull();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('sniffs magic bytes', () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(sniffSamplesFormat(bytes('PAR1\x15\x04'))).toBe('parquet');
    expect(sniffSamplesFormat(bytes('ARROW1\0\0'))).toBe('arrow');
    expect(sniffSamplesFormat(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0]))).toBe('arrow-stream');
    expect(sniffSamplesFormat(bytes('timestamp,server'))).toBeNull();
  });

  it('refuses a .parquet or .arrow name over other content, naming the file', async () => {
    const path = join(dir, 'server_metrics.parquet');
    writeFileSync(path, 'timestamp,server,cpu_percent\n');
    await expect(readSamplesFile(path)).rejects.toThrow('server_metrics.parquet: the name says Parquet but the content is not (it starts with bytes 74 69 6d 65)');
    const arrow = join(dir, 'x.arrow');
    writeFileSync(arrow, '');
    await expect(readSamplesFile(arrow)).rejects.toThrow('x.arrow: the name says Arrow IPC but the content is not (it is empty)');
  });

  it('refuses a truncated Parquet file', async () => {
    const path = join(dir, 'cut.parquet');
    await writeSamplesFile(path, columns, 'parquet');
    writeFileSync(path, readFileSync(path).subarray(0, 2000));
    await expect(readSamplesFile(path)).rejects.toThrow(/cut\.parquet: the Parquet file is incomplete/);
  });

  it('refuses binary files over the size limit and reports progress on the others', async () => {
    const path = join(dir, 'p.arrow');
    await writeSamplesFile(path, columns, 'arrow');
    await expect(readSamplesFile(path, { maxBinaryBytes: 100 })).rejects.toBeInstanceOf(FileFormatError);
    const seen: number[] = [];
    await readSamplesFile(path, { onProgress: (p) => seen.push(p.bytesRead / p.totalBytes) });
    expect(seen.at(-1)).toBe(1);
  });

  it('reads a CSV by default and passes the series target through', async () => {
    const path = join(dir, 'cpu.txt');
    writeFileSync(path, 'timestamp,value\n2024-05-01 00:00:00,1\n2024-05-01 00:05:00,2\n');
    const back = await readSamplesFile(path, { series: { server: 'i-1', metric: 'cpu_percent' } });
    expect(back.format).toBe('csv');
    expect(back.columns.length).toBe(2);
  });

  it('honours an aborted signal before reading', async () => {
    await expect(readSamplesFile(join(dir, 'p.arrow'), { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

/**
 * The real CloudWatch series of ../shared/datasets/nab-aws (never copied into the repo). CI has
 * ../shared beside the clone; a checkout without it skips, saying so.
 */
const NAB = resolve(__dirname, '../../../../../../shared/datasets/nab-aws');
const nabFiles = existsSync(NAB) ? readdirSync(NAB).filter((f) => f.endsWith('.csv')) : [];

/** Bytes per 5-minute CloudWatch period -> Mbit/s. */
const BYTES_PER_PERIOD_TO_MBPS = 8 / 300 / 1e6;

function nabTarget(file: string): { metric: MetricName; scale?: number } {
  if (file.includes('cpu') || file.startsWith('grok_asg')) return { metric: 'cpu_percent' };
  if (/network_?in/i.test(file)) return { metric: 'network_in_mbps', scale: BYTES_PER_PERIOD_TO_MBPS };
  // Contract v1 has no disk-throughput metric; an Mbit/s metric stands in, which is all a parse test needs.
  return { metric: 'network_out_mbps', scale: BYTES_PER_PERIOD_TO_MBPS };
}

describe.skipIf(nabFiles.length === 0)('NAB AWS CloudWatch files (../shared/datasets/nab-aws)', () => {
  it.each(nabFiles)('imports %s', async (file) => {
    const back = await readSamplesFile(join(NAB, file), { series: { server: 'nab-host', ...nabTarget(file) } });
    const lines = readFileSync(join(NAB, file), 'utf8').trim().split('\n').length - 1;
    expect(back.columns.length + back.duplicatesDropped).toBe(lines);
    const t = back.columns.timestamp;
    for (let i = 1; i < back.columns.length; i++) expect(t[i]! - t[i - 1]!).toBeGreaterThanOrEqual(STEP_MS);
    expect(t.every((x) => x % STEP_MS === 0)).toBe(true);
  });
});

if (nabFiles.length === 0) {
  describe('NAB AWS CloudWatch files', () => {
    it.skip(`skipped: ${NAB} is not present in this checkout`, () => undefined);
  });
}
