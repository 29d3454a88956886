import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isMetricName, METRIC_NAMES, type MetricName } from '@shared/contract';
import { replayHistory, formatReplayRows, REPLAY_CSV_HEADER, type ReplaySummary } from '../core/eval/replay';
import { replayNab, type NabReport } from '../core/eval/replay-nab';
import { FileFormatError, readSamplesFile, type ReadSamplesOptions } from '../core/metrics/io';
import { expectedTensors, loadModelFolder } from '../core/model/folder';
import { createInferenceSession } from '../core/model/infer';
import { writeFileAtomic } from '../core/util/atomic-write';
import { createMemoryLogger } from '../core/util/logger';
import { createProgressBar, type ProgressBar } from './progress';
import { UsageError } from './usage-error';

export const REPLAY_USAGE = `Usage: npm run replay -- --input FILE --output scores.csv [options]
       npm run replay -- --nab DIR --output nab.json [--model DIR]

Scores every 30-minute step of a history file as if it had been seen live: at each step t with
a full context (24 h for the default model) of which at least half was reported, the model's
inputs are built from data <= t only. Writes one CSV row per step:
  ${REPLAY_CSV_HEADER}
risk and failure_mode are the model's at t; p10/p50/p90 forecast the replayed metric's mean over
the next step (t, t + 30 min] in metric units (empty when the metric is not a model target:
cpu_percent, memory_percent, disk_percent, latency_ms, error_rate); actual is that mean when a
sample exists; anomaly_score is how far actual lies outside [p10, p90] in band widths (0 inside),
known at t + 30 min. The output appears only when complete (Ctrl-C leaves none).

Input: Parquet, Arrow IPC or a multi-metric CSV (timestamp, server, metric columns), or a
single-series CSV (timestamp,value, like the NAB files) with --server and --metric.

Options:
  --input FILE      the history to replay
  --output FILE     the CSV to write (with --nab: the JSON report)
  --model DIR       model folder (default resources/models/default)
  --server NAME     the server a single-series file belongs to
  --metric NAME     the contract metric a single-series file holds (${METRIC_NAMES.join(', ')});
                    for a multi-metric file, the metric whose bands the rows carry (default cpu_percent)
  --scale X         multiply single-series values by X first (unit conversion)
  --nab DIR         replay every file of a NAB AWS folder (with anomaly_windows.json) and report
                    per labelled window whether and how early the model alarmed, against a
                    reactive baseline on the raw value
  -h, --help        this text
`;

export interface ReplayCommandIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
  signal?: AbortSignal;
}

export type ReplayCommandResult =
  { mode: 'file'; summary: ReplaySummary; output: string } | { mode: 'nab'; report: NabReport; output: string };

function metricOption(text: string | undefined): MetricName | undefined {
  if (text === undefined) return undefined;
  if (!isMetricName(text))
    throw new UsageError(
      `--metric must be a data-contract metric (${METRIC_NAMES.join(', ')}); got "${text}". ` +
        "Map the file's metric to one, e.g. CloudWatch CPUUtilization -> --metric cpu_percent.",
    );
  return text;
}

export async function replayCommand(argv: string[], io: ReplayCommandIo = {}): Promise<ReplayCommandResult | null> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      input: { type: 'string' },
      output: { type: 'string' },
      model: { type: 'string' },
      server: { type: 'string' },
      metric: { type: 'string' },
      scale: { type: 'string' },
      nab: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    stdout.write(REPLAY_USAGE);
    return null;
  }
  if (positionals.length > 0)
    throw new UsageError(`Unexpected argument "${positionals[0]}"; the file goes after --input\n\n${REPLAY_USAGE}`);
  if (values.output === undefined) throw new UsageError(`--output is required\n\n${REPLAY_USAGE}`);
  if (values.nab !== undefined && values.input !== undefined)
    throw new UsageError('--nab and --input do not go together');
  if (
    values.nab !== undefined &&
    (values.server !== undefined || values.metric !== undefined || values.scale !== undefined)
  )
    throw new UsageError('--nab maps each file to a contract metric itself: no --server, --metric or --scale');
  if (values.nab === undefined && values.input === undefined)
    throw new UsageError(`--input (or --nab) is required\n\n${REPLAY_USAGE}`);
  const metric = metricOption(values.metric);
  if (values.server !== undefined && metric === undefined)
    throw new UsageError('--server needs --metric (a single-series file)');
  const scale = values.scale === undefined ? 1 : Number(values.scale);
  if (!Number.isFinite(scale) || scale <= 0)
    throw new UsageError(`--scale must be a positive number, got "${values.scale}"`);
  if (values.scale !== undefined && values.server === undefined)
    throw new UsageError('--scale applies to a single-series file (--server and --metric)');
  const output = resolve(values.output);
  const modelDir = resolve(values.model ?? 'resources/models/default');

  const model = await loadModelFolder(modelDir);
  const session = await createInferenceSession({
    modelBytes: model.onnxBytes,
    ...expectedTensors(model.manifest),
    provider: 'cpu',
    logger: createMemoryLogger(),
  });
  const spec = model.manifest.featureSpec;
  const knownServers = new Set(model.manifest.training.dataset.trainingServers);
  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new Error('interrupted (SIGINT)'));
  const ownSignal = io.signal === undefined;
  if (ownSignal) process.once('SIGINT', onSigint);
  const signal = io.signal ?? controller.signal;
  try {
    if (values.nab !== undefined) {
      const report = await replayNab({
        dir: resolve(values.nab),
        spec,
        session,
        knownServers,
        signal,
        log: (line) => stderr.write(`${line}\n`),
      });
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('interrupted');
      writeFileAtomic(output, `${JSON.stringify(report, null, 2)}\n`);
      stdout.write(`Wrote ${output}\n`);
      return { mode: 'nab', report, output };
    }
    const input = resolve(values.input!);
    const readOptions: ReadSamplesOptions = { signal };
    if (values.server !== undefined) readOptions.series = { server: values.server, metric: metric!, scale };
    const readBar = createProgressBar({ label: `read ${basename(input)}`, total: 1, unit: 'bytes', stream: stderr });
    let read;
    try {
      read = await readSamplesFile(input, {
        ...readOptions,
        onProgress: (p) => readBar.update(p.bytesRead, p.totalBytes),
      });
      readBar.done(`read ${basename(input)}: ${read.columns.length.toLocaleString('en-US')} rows (${read.format})`);
    } catch (error) {
      readBar.done(`read ${basename(input)}: failed`);
      if (error instanceof FileFormatError) throw new UsageError(error.message);
      throw error;
    }
    const bandMetric: MetricName | null = metric ?? (read.metrics.includes('cpu_percent') ? 'cpu_percent' : null);
    const summary = await replayToCsv(output, signal, stderr, (onRows, onProgress) =>
      replayHistory({
        columns: read.columns,
        spec,
        session,
        knownServers,
        metric: bandMetric,
        profiles: read.profiles,
        signal,
        onRows,
        onProgress,
      }),
    );
    stdout.write(
      `Wrote ${output}: ${summary.windows} rows for ${summary.servers} server(s)` +
        (summary.skippedLowCoverage
          ? `, ${summary.skippedLowCoverage} steps skipped (under half the context reported)`
          : '') +
        (bandMetric !== null && !summary.bands
          ? `; ${bandMetric} is not a model target, so no bands or anomaly score`
          : '') +
        '\n',
    );
    return { mode: 'file', summary, output };
  } catch (error) {
    if (signal.aborted) throw new UsageError(`Replay interrupted; nothing written to ${output}`);
    throw error;
  } finally {
    if (ownSignal) process.removeListener('SIGINT', onSigint);
    await session.close();
  }
}

/** Streams rows into a hidden temp file beside `output`, then fsyncs and renames; removes it on any failure. */
async function replayToCsv(
  output: string,
  signal: AbortSignal,
  stderr: NodeJS.WriteStream,
  run: (
    onRows: (rows: Parameters<typeof formatReplayRows>[0]) => Promise<void>,
    onProgress: (done: number, total: number) => void,
  ) => Promise<ReplaySummary>,
): Promise<ReplaySummary> {
  const tmp = join(dirname(output), `.${basename(output)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o644);
  let closed = false;
  let bar: ProgressBar | null = null;
  try {
    await handle.write(`${REPLAY_CSV_HEADER}\n`);
    const summary = await run(
      async (rows) => {
        await handle.write(formatReplayRows(rows));
      },
      (done, total) => {
        bar ??= createProgressBar({ label: 'replay', total, unit: 'steps', stream: stderr });
        bar.update(done, total);
      },
    );
    (bar as ProgressBar | null)?.done();
    signal.throwIfAborted();
    await handle.sync();
    await handle.close();
    closed = true;
    await rename(tmp, output);
    return summary;
  } catch (error) {
    (bar as ProgressBar | null)?.done('replay stopped');
    if (!closed) await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw error;
  }
}
