import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FEATURE_SPEC } from '../core/model/features';
import { REPLAY_CSV_HEADER } from '../core/eval/replay';
import { writeSamplesFile } from '../core/metrics/io';
import { defaultFleet } from '../core/metrics/simulator/fleet-sim';
import { generateFleet } from '../core/metrics/simulator/generate';
import { replayCommand } from './replay';
import { captureIo } from './testing/capture-io';
import { UsageError } from './usage-error';

let root: string;
const START = Date.UTC(2024, 0, 1);
const FIVE_MIN = 300_000;
const HALF_HOUR = 1_800_000;
const DAYS = 4;

/** A hand-made single-series CPU history: a daily wave plus a deterministic wiggle, 5-minute samples. */
function cpuSeries(change?: (t: number, v: number) => number | null): string {
  const lines = ['timestamp,value'];
  for (let i = 0; i < DAYS * 288; i++) {
    const t = START + i * FIVE_MIN;
    let v: number | null = 30 + 15 * Math.sin((2 * Math.PI * i) / 288) + 3 * Math.sin(i * 1.7);
    if (change) v = change(t, v);
    if (v === null) continue;
    lines.push(`${new Date(t).toISOString().replace('T', ' ').slice(0, 19)},${v.toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

function write(name: string, text: string): string {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
}

async function replay(input: string, output: string, extra: string[] = []): Promise<string[]> {
  const io = captureIo();
  await replayCommand(
    ['--input', input, '--output', output, '--server', 'web001', '--metric', 'cpu_percent', ...extra],
    io,
  );
  return readFileSync(output, 'utf8').trimEnd().split('\n');
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'replay-cli-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('replay command', () => {
  it(
    'writes one row per 30-minute step after the first 24 h, risk in [0, 1], bands and actuals',
    { timeout: 60_000 },
    async () => {
      const input = write('cpu.csv', cpuSeries());
      const lines = await replay(input, join(root, 'scores.csv'));
      expect(lines[0]).toBe(REPLAY_CSV_HEADER);
      const rows = lines.slice(1).map((l) => l.split(','));
      // First t: the first grid point with a full 24 h context; last: the last sample's step.
      expect(rows).toHaveLength((DAYS - 1) * 48);
      rows.forEach((r, i) => expect(r[0]).toBe(new Date(START + 86_400_000 + i * HALF_HOUR).toISOString()));
      for (const r of rows) {
        expect(r[1]).toBe('web001');
        const risk = Number(r[2]);
        expect(risk).toBeGreaterThanOrEqual(0);
        expect(risk).toBeLessThanOrEqual(1);
        expect(DEFAULT_FEATURE_SPEC.failureModes).toContain(r[3]);
        const [p10, p50, p90] = [Number(r[4]), Number(r[5]), Number(r[6])];
        expect(p10).toBeLessThanOrEqual(p50);
        expect(p50).toBeLessThanOrEqual(p90);
      }
      // Every step has the next step's actual mean (the last one's from its 5 samples), so an anomaly score.
      expect(rows.every((r) => r[7] !== '' && Number(r[8]) >= 0)).toBe(true);
    },
  );

  it('replays a multi-metric Parquet file: every server, bands for --metric', { timeout: 60_000 }, async () => {
    const fleet = generateFleet({ seed: 'replay-test', start: START, servers: defaultFleet(2, 900), hours: 36 });
    const input = join(root, 'fleet.parquet');
    await writeSamplesFile(input, fleet.columns, 'parquet');
    const output = join(root, 'fleet-scores.csv');
    const result = await replayCommand(
      ['--input', input, '--output', output, '--metric', 'memory_percent'],
      captureIo(),
    );
    // 36 h: steps t = 24:00 ... 35:30 for each server.
    expect(result).toMatchObject({ mode: 'file', summary: { servers: 2, windows: 2 * 24, bands: true } });
    const rows = readFileSync(output, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    expect(new Set(rows.map((r) => r[1])).size).toBe(2);
    expect(rows.every((r) => Number(r[4]) <= Number(r[6]) && Number(r[6]) <= 100)).toBe(true);
  });

  it('never lets data after t change the row at t (leakage)', { timeout: 60_000 }, async () => {
    const base = await replay(write('base.csv', cpuSeries()), join(root, 'base-scores.csv'));
    const cut = START + 2 * 86_400_000 + 7 * HALF_HOUR;
    // Everything after `cut` replaced by a spike, or removed.
    const spiked = await replay(
      write(
        'spiked.csv',
        cpuSeries((t, v) => (t > cut ? 99 : v)),
      ),
      join(root, 'spiked-scores.csv'),
    );
    const cutOff = await replay(
      write(
        'cut.csv',
        cpuSeries((t, v) => (t > cut ? null : v)),
      ),
      join(root, 'cut-scores.csv'),
    );
    const at = base.findIndex((l) => l.startsWith(new Date(cut).toISOString()));
    expect(at).toBeGreaterThan(1);
    for (const other of [spiked, cutOff]) {
      // Rows before t: identical (their actual is the step ending <= t).
      expect(other.slice(0, at)).toEqual(base.slice(0, at));
      // The row at t: identical predictions (actual and anomaly score are the next step's, known at t + 30 min).
      expect(other[at]!.split(',').slice(0, 7)).toEqual(base[at]!.split(',').slice(0, 7));
    }
    // The spike does change later rows: the test would notice a replay that ignored the data.
    expect(spiked.slice(at + 2)).not.toEqual(base.slice(at + 2));
  });

  it('Ctrl-C (abort) leaves no output and no temp file', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(root, 'cancel-'));
    const input = join(dir, 'cpu.csv');
    writeFileSync(input, cpuSeries());
    const controller = new AbortController();
    const stderr = new PassThrough();
    // Abort as soon as the replay's progress bar appears, i.e. mid-run.
    stderr.on('data', (c: Buffer) => {
      if (c.toString().startsWith('replay')) controller.abort(new Error('interrupted (SIGINT)'));
    });
    const run = replayCommand(
      ['--input', input, '--output', join(dir, 'scores.csv'), '--server', 'web001', '--metric', 'cpu_percent'],
      {
        stdout: new PassThrough(),
        stderr: stderr as unknown as NodeJS.WriteStream,
        signal: controller.signal,
      },
    );
    await expect(run).rejects.toThrow(/interrupted; nothing written/);
    expect(controller.signal.aborted).toBe(true);
    expect(readdirSync(dir)).toEqual(['cpu.csv']);
  });

  it('refuses a metric outside the data contract as a usage error naming --metric', async () => {
    const input = write('nab-like.csv', cpuSeries());
    const run = replayCommand(
      ['--input', input, '--output', join(root, 'x.csv'), '--server', 'a', '--metric', 'CPUUtilization'],
      captureIo(),
    );
    await expect(run).rejects.toThrow(UsageError);
    await expect(
      replayCommand(
        ['--input', input, '--output', join(root, 'x.csv'), '--server', 'a', '--metric', 'CPUUtilization'],
        captureIo(),
      ),
    ).rejects.toThrow(/--metric .*cpu_percent/);
    expect(readdirSync(root)).not.toContain('x.csv');
  });

  it("reports a bad input file with the reader's file, line and field", { timeout: 30_000 }, async () => {
    const input = write('bad.csv', 'timestamp,value\n2024-01-01 00:00:00,12\n2024-01-01 00:05:00,abc\n');
    await expect(
      replayCommand(
        ['--input', input, '--output', join(root, 'bad-scores.csv'), '--server', 'a', '--metric', 'cpu_percent'],
        captureIo(),
      ),
    ).rejects.toThrow(/bad\.csv.*(line|row) 3/s);
  });
});
