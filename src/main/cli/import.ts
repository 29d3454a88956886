import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isMetricName, METRIC_NAMES, type Profile } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { FileFormatError, readSamplesFile, type ReadSamplesOptions } from '../core/metrics/io';
import { defaultDataDir } from '../core/paths';
import { STORE_FILE } from '../core/app';
import { openStore, type IngestReport } from '../core/store';
import { createProgressBar } from './progress';
import { UsageError } from './usage-error';

export const IMPORT_USAGE = `Usage: npm run import -- FILE... [options]

Loads metric files (Parquet, Arrow IPC, CSV) into the store. Every file is read and checked
completely first; if any file has a problem, nothing is written and each problem is listed
with its file, line and field.

A multi-metric CSV has a header with timestamp, server and metric columns
(${METRIC_NAMES.join(', ')}; optional state, profile).
A single-series CSV (timestamp,value, like the NAB files) needs --server and --metric.

Options:
  --server NAME     the server a single-series file belongs to
  --metric NAME     the contract metric a single-series file holds
  --scale X         multiply single-series values by X first (unit conversion)
  --data-dir D      the store's folder (default: the desktop app's folder)
  -h, --help        this text
`;

export async function importCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      metric: { type: 'string' },
      scale: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(IMPORT_USAGE);
    return;
  }
  if (positionals.length === 0) throw new UsageError(`No file given.\n\n${IMPORT_USAGE}`);
  const options: ReadSamplesOptions = {};
  if (values.server !== undefined || values.metric !== undefined) {
    if (!values.server || !values.metric) throw new UsageError('--server and --metric go together');
    if (!isMetricName(values.metric)) throw new UsageError(`--metric must be one of ${METRIC_NAMES.join(', ')}; got "${values.metric}"`);
    const scale = values.scale === undefined ? 1 : Number(values.scale);
    if (!Number.isFinite(scale) || scale <= 0) throw new UsageError(`--scale must be a positive number, got "${values.scale}"`);
    options.series = { server: values.server, metric: values.metric, scale };
  }

  // Read and check everything before writing anything.
  const files: { path: string; columns: SampleColumns; profiles: Map<string, Profile> }[] = [];
  const failures: FileFormatError[] = [];
  for (const file of positionals) {
    const path = resolve(file);
    const bar = createProgressBar({ label: `read ${basename(path)}`, total: 1, unit: 'bytes' });
    try {
      const read = await readSamplesFile(path, { ...options, onProgress: (p) => bar.update(p.bytesRead, p.totalBytes) });
      bar.done(`read ${basename(path)}: ${read.columns.length.toLocaleString('en-US')} rows (${read.format}${read.snapped ? `, ${read.snapped} timestamps snapped to the 5-minute grid` : ''})`);
      files.push({ path, columns: read.columns, profiles: read.profiles });
    } catch (error) {
      bar.done(`read ${basename(path)}: failed`);
      if (error instanceof FileFormatError) failures.push(error);
      else throw error;
    }
  }
  if (failures.length > 0) {
    for (const failure of failures) process.stderr.write(`${failure.message}\n`);
    throw new UsageError(`Nothing imported: ${failures.length} of ${positionals.length} file(s) have problems.`);
  }

  const dataDir = values['data-dir'] ?? defaultDataDir();
  mkdirSync(dataDir, { recursive: true });
  const store = openStore(join(dataDir, STORE_FILE));
  try {
    for (const file of files) {
      const bar = createProgressBar({ label: `store ${basename(file.path)}`, total: file.columns.length, unit: 'rows' });
      const report: IngestReport = await store.ingestYielding(file.columns, {
        now: Date.now(),
        profiles: Object.fromEntries(file.profiles),
        onProgress: (p) => bar.update(p.rowsDone, p.rows),
      });
      bar.done(summarise(basename(file.path), report));
      for (const r of report.rejections) process.stderr.write(`  ${r.message}\n`);
    }
  } finally {
    store.close();
  }
}

function summarise(name: string, report: IngestReport): string {
  const rejected = Object.entries(report.rejected)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${n} ${reason.replace('_', ' ')}`);
  return (
    `store ${name}: ${report.accepted.toLocaleString('en-US')} rows stored, ${report.duplicates} duplicates skipped` +
    (rejected.length ? `, rejected: ${rejected.join(', ')}` : '') +
    (report.serversCreated ? `, ${report.serversCreated} new servers` : '')
  );
}
