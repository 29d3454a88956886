import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DATA_CONTRACT_VERSION, isProfile, METRIC_NAMES, STEP_MS } from '@shared/contract';
import type { GeneratedFleet } from '../core/metrics/simulator/generate';
import { generateFleet } from '../core/metrics/simulator/generate';
import { defaultFleet, type FleetServerSpec } from '../core/metrics/simulator/fleet-sim';
import { writeSamplesFile } from '../core/metrics/io';
import { writeFileAtomic } from '../core/util/atomic-write';
import { createProgressBar } from './progress';
import { UsageError } from './usage-error';

export const GENERATE_USAGE = `Usage: npm run generate -- [options]

Generates a simulated fleet's metrics with labelled incidents (the seed's metrics_generator.py).
Writes OUTPUT/server_metrics.parquet, OUTPUT/server_mapping.json, OUTPUT/metrics_metadata.json.

Options:
  --servers N        fleet size, servers named like ppml0001, ppdb001... (default 20)
  --hours H          hours of history (default 720 = 30 days)
  --output DIR       where to write (default ./training/)
  --seed S           random seed: same seed, same data (default 42)
  --start ISO        first timestamp, UTC (default: H hours before today 00:00 UTC)
  --unseen N         add N servers with names a default fleet never has (ppml9001...),
                     one per profile first: for testing transfer to unseen servers
  --add-server NAME[:PROFILE]
                     add a server by name (repeatable); its profile comes from its name
                     prefix unless given
  --format F         parquet (default), arrow or csv
  -h, --help         this text
`;

export async function generateCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      servers: { type: 'string', default: '20' },
      hours: { type: 'string', default: '720' },
      output: { type: 'string', default: './training/' },
      seed: { type: 'string', default: '42' },
      start: { type: 'string' },
      unseen: { type: 'string', default: '0' },
      'add-server': { type: 'string', multiple: true, default: [] },
      format: { type: 'string', default: 'parquet' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(GENERATE_USAGE);
    return;
  }
  const servers = positiveInt('--servers', values.servers);
  const hours = positiveNumber('--hours', values.hours);
  const unseen = nonNegativeInt('--unseen', values.unseen);
  const format = values.format;
  if (format !== 'parquet' && format !== 'arrow' && format !== 'csv') {
    throw new UsageError(`--format must be parquet, arrow or csv, got "${format}"`);
  }
  let start: number;
  if (values.start !== undefined) {
    start = Date.parse(values.start.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(values.start) ? values.start : `${values.start}Z`);
    if (Number.isNaN(start)) throw new UsageError(`--start must be an ISO 8601 date, got "${values.start}"`);
  } else {
    const today = new Date();
    start = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - hours * 3_600_000;
  }
  start = Math.floor(start / STEP_MS) * STEP_MS;

  const fleet: FleetServerSpec[] = defaultFleet(servers);
  if (unseen > 0) fleet.push(...defaultFleet(unseen, 9001));
  for (const spec of values['add-server']) {
    const [name, profile] = spec.split(':');
    if (!name) throw new UsageError(`--add-server needs a name, got "${spec}"`);
    if (profile !== undefined && !isProfile(profile)) throw new UsageError(`--add-server ${spec}: unknown profile "${profile}"`);
    fleet.push(profile ? { name, profile } : { name });
  }

  const output = resolve(values.output);
  mkdirSync(output, { recursive: true });
  const started = performance.now();
  const bar = createProgressBar({ label: 'generate', total: Math.round(hours * 12), unit: 'steps' });
  let generated: GeneratedFleet;
  try {
    generated = generateFleet({ seed: values.seed, start, servers: fleet, hours, onProgress: (done) => bar.update(done) });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  bar.done(`generate: ${generated.columns.length.toLocaleString('en-US')} rows, ${generated.incidents.length} incidents`);

  const extension = format === 'parquet' ? 'parquet' : format === 'arrow' ? 'arrow' : 'csv';
  const metricsFile = join(output, `server_metrics.${extension}`);
  const mapping = generated.mapping;
  await writeSamplesFile(metricsFile, generated.columns, format, {
    profileOf: (server) => mapping.get(server)?.profile,
    metadata: { generator: 'tft-monitoring-prediction generate', seed: values.seed },
  });
  writeFileAtomic(join(output, 'server_mapping.json'), `${JSON.stringify(mapping.toJSON(), null, 2)}\n`);
  writeFileAtomic(
    join(output, 'metrics_metadata.json'),
    `${JSON.stringify(datasetMetadata(generated, { seed: values.seed, hours, servers: fleet.length, format }), null, 2)}\n`,
  );
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `Wrote ${metricsFile}, server_mapping.json and metrics_metadata.json (${fleet.length} servers, ${hours} h, ${seconds.toFixed(2)} s)\n`,
  );
}

/** metrics_metadata.json: what the dataset holds, per metric and per profile, and its incidents. */
export function datasetMetadata(
  generated: GeneratedFleet,
  params: { seed: string; hours: number; servers: number; format: string },
): Record<string, unknown> {
  const { columns, incidents, mapping } = generated;
  const metrics: Record<string, { min: number; max: number; mean: number; missingShare: number }> = {};
  for (const name of METRIC_NAMES) {
    const col = columns.metrics[name];
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < columns.length; i++) {
      if (!col.present[i]) continue;
      const v = col.values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      n++;
    }
    metrics[name] = n > 0 ? { min, max, mean: sum / n, missingShare: 1 - n / columns.length } : { min: 0, max: 0, mean: 0, missingShare: 1 };
  }
  const states: Record<string, number> = {};
  for (const s of columns.state) states[s ?? 'none'] = (states[s ?? 'none'] ?? 0) + 1;
  const profiles: Record<string, number> = {};
  for (const e of mapping.entries()) profiles[e.profile] = (profiles[e.profile] ?? 0) + 1;
  const byType: Record<string, number> = {};
  for (const i of incidents) byType[i.type] = (byType[i.type] ?? 0) + 1;
  return {
    contractVersion: DATA_CONTRACT_VERSION,
    generator: { seed: params.seed, hours: params.hours, servers: params.servers, format: params.format },
    rows: columns.length,
    start: new Date(generated.start).toISOString(),
    end: new Date(generated.end).toISOString(),
    stepSeconds: STEP_MS / 1000,
    profiles,
    states,
    metrics,
    // The topology: server -> the server it depends on (training counts how often failures there cascade).
    dependencies: Object.fromEntries([...generated.dependencies].sort(([a], [b]) => a.localeCompare(b))),
    incidents: {
      total: incidents.length,
      withPrecursor: incidents.filter((i) => i.precursor).length,
      byType,
      list: incidents.map((i) => ({
        ...i,
        onset: new Date(i.onset).toISOString(),
        end: new Date(i.end).toISOString(),
        precursorStart: i.precursorStart === null ? null : new Date(i.precursorStart).toISOString(),
      })),
    },
  };
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  return n;
}

function nonNegativeInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a whole number, got "${text}"`);
  return n;
}

function positiveNumber(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got "${text}"`);
  return n;
}
