import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DATA_CONTRACT_VERSION, METRIC_NAMES, inferProfile, type MetricName, type Profile } from '@shared/contract';
import { INCIDENT_TYPES, type Incident, type IncidentType, type SampleColumns } from '@shared/domain';
import { readSamplesFile } from '../../metrics/io';
import { buildDataset, DEFAULT_FEATURE_SPEC, stepMs, type FeatureDataset, type FeatureSpec } from '../features';

/**
 * A dataset folder that cannot be trained on: the message names the file and what is wrong.
 * Thrown before any training starts; crosses the training worker's boundary as itself
 * (train-worker-protocol.ts), and the CLI prints it without a stack trace (exit code 2).
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

export interface LoadedTrainingData {
  columns: SampleColumns;
  incidents: Incident[];
  profiles: Map<string, Profile>;
  metricsFile: string;
  metadataFile: string;
  /** From metrics_metadata.json's generator section, when there is one. */
  description: string;
  /** metrics_metadata.json's `dependencies` (server -> the server it depends on); empty without a topology. */
  dependencies: Map<string, string>;
}

export const METRICS_FILE_NAMES = ['server_metrics.parquet', 'server_metrics.arrow', 'server_metrics.csv'] as const;
export const METADATA_FILE_NAME = 'metrics_metadata.json';

/** The metrics file a dataset folder holds (first of METRICS_FILE_NAMES that exists), or undefined. */
export function findMetricsFile(folder: string): string | undefined {
  return METRICS_FILE_NAMES.map((n) => join(folder, n)).find((p) => existsSync(p));
}

/**
 * Reads and checks a dataset folder (what `generate` writes) before anything is trained: the
 * metrics file (contract checks of the reader), the incident list of metrics_metadata.json (ISO
 * times back to epoch ms), and that every metric the spec observes is present somewhere and the
 * data spans at least one window. Throws DatasetError naming the file.
 */
export async function loadTrainingData(dir: string, spec: FeatureSpec = DEFAULT_FEATURE_SPEC): Promise<LoadedTrainingData> {
  const folder = resolve(dir);
  if (!existsSync(folder)) throw new DatasetError(`dataset folder ${folder} does not exist`);
  const metricsFile = findMetricsFile(folder);
  if (!metricsFile) throw new DatasetError(`${join(folder, METRICS_FILE_NAMES[0])}: missing (run \`npm run generate -- --output ${dir}\`)`);
  const metadataFile = join(folder, METADATA_FILE_NAME);
  if (!existsSync(metadataFile)) throw new DatasetError(`${metadataFile}: missing (it holds the incident labels the risk head trains on)`);

  let metadata: unknown;
  try {
    metadata = JSON.parse(readFileSync(metadataFile, 'utf8'));
  } catch (error) {
    throw new DatasetError(`${metadataFile}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const incidents = parseIncidents(metadata, metadataFile);
  const dependencies = parseDependencies(metadata, metadataFile);
  const meta = metadata as { contractVersion?: unknown; generator?: Record<string, unknown> };
  checkContract(meta.contractVersion, metadataFile);

  let samples;
  try {
    samples = await readSamplesFile(metricsFile);
  } catch (error) {
    throw new DatasetError(`${metricsFile}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (samples.contractVersion !== null) checkContract(samples.contractVersion, metricsFile);
  const { columns } = samples;
  if (columns.length === 0) throw new DatasetError(`${metricsFile}: no samples`);

  const observedMetrics = new Set(spec.observed.map((c) => c.split(':')[0] as MetricName));
  const missing = METRIC_NAMES.filter((m) => observedMetrics.has(m) && !columns.metrics[m].present.some((p) => p === 1));
  if (missing.length > 0) throw new DatasetError(`${metricsFile}: metric${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing in every row (the model observes all of ${[...observedMetrics].join(', ')})`);

  // The longest single server span must hold one context + horizon.
  const span = new Map<string, [number, number]>();
  for (let i = 0; i < columns.length; i++) {
    const s = columns.server[i]!;
    const t = columns.timestamp[i]!;
    const r = span.get(s);
    if (!r) span.set(s, [t, t]);
    else {
      if (t < r[0]) r[0] = t;
      if (t > r[1]) r[1] = t;
    }
  }
  const need = (spec.contextSteps + spec.horizonSteps) * stepMs(spec);
  const longest = Math.max(...[...span.values()].map(([a, b]) => b - a));
  if (longest < need)
    throw new DatasetError(
      `${metricsFile}: too short for one window: the longest server history is ${(longest / 3_600_000).toFixed(1)} h, a window needs ${need / 3_600_000} h (context + horizon)`,
    );

  const generator = meta.generator;
  const description = generator
    ? `simulated, ${String(generator.servers)} servers x ${Number(generator.hours) / 24} days, seed ${String(generator.seed)}`
    : `dataset ${folder}`;
  return { columns, incidents, profiles: samples.profiles, metricsFile, metadataFile, description, dependencies };
}

/**
 * The FeatureDataset of loaded training data (profiles from the file, else from the server
 * name). Throws DatasetError naming the metrics file when windows cannot be built or none is a
 * training window.
 */
export function buildTrainingDataset(data: LoadedTrainingData, spec: FeatureSpec, seed: number): FeatureDataset {
  let dataset: FeatureDataset;
  try {
    dataset = buildDataset(data.columns, data.incidents, {
      spec,
      seed,
      profileOf: (server) => data.profiles.get(server) ?? inferProfile(server),
    });
  } catch (error) {
    throw new DatasetError(`${data.metricsFile}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const st = dataset.stats;
  if (st.train.windows === 0)
    throw new DatasetError(`${data.metricsFile}: no training windows (${st.points} points; skipped: ${JSON.stringify(st.skipped)})`);
  return dataset;
}

function checkContract(version: unknown, file: string): void {
  if (version === undefined || version === null) return;
  if (typeof version !== 'string' || version.split('.')[0] !== DATA_CONTRACT_VERSION.split('.')[0])
    throw new DatasetError(`${file}: data contract version ${JSON.stringify(version)}, this build reads ${DATA_CONTRACT_VERSION}`);
}

/**
 * metrics_metadata.json `dependencies` -> server -> upstream. Optional (a dataset without a
 * topology has none); when present, an object of non-empty server names, none its own upstream.
 */
export function parseDependencies(metadata: unknown, file: string): Map<string, string> {
  const raw = (metadata as { dependencies?: unknown } | null)?.dependencies;
  const out = new Map<string, string>();
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new DatasetError(`${file}: dependencies: expected an object of server -> the server it depends on`);
  for (const [server, upstream] of Object.entries(raw as Record<string, unknown>)) {
    if (server.length === 0) throw new DatasetError(`${file}: dependencies: a server name is empty`);
    if (typeof upstream !== 'string' || upstream.length === 0)
      throw new DatasetError(`${file}: dependencies.${server}: expected the name of the server it depends on`);
    if (upstream === server) throw new DatasetError(`${file}: dependencies.${server}: a server cannot depend on itself`);
    out.set(server, upstream);
  }
  return out;
}

/** metrics_metadata.json incidents.list -> Incident[] (ISO strings back to epoch ms). */
export function parseIncidents(metadata: unknown, file: string): Incident[] {
  const list = (metadata as { incidents?: { list?: unknown } } | null)?.incidents?.list;
  if (!Array.isArray(list)) throw new DatasetError(`${file}: incidents.list missing (an array of incidents is required, empty if none)`);
  return list.map((raw: unknown, i): Incident => {
    const at = `${file}: incidents.list[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw new DatasetError(`${at}: not an object`);
    const o = raw as Record<string, unknown>;
    const str = (k: string): string => {
      const v = o[k];
      if (typeof v !== 'string' || v.length === 0) throw new DatasetError(`${at}.${k}: expected a non-empty string`);
      return v;
    };
    const time = (k: string): number => {
      const ms = Date.parse(str(k));
      if (Number.isNaN(ms)) throw new DatasetError(`${at}.${k}: "${String(o[k])}" is not an ISO 8601 time`);
      return ms;
    };
    const type = str('type');
    if (!(INCIDENT_TYPES as readonly string[]).includes(type)) throw new DatasetError(`${at}.type: unknown incident type "${type}"`);
    const metric = str('metric');
    if (!(METRIC_NAMES as readonly string[]).includes(metric)) throw new DatasetError(`${at}.metric: unknown metric "${metric}"`);
    const onset = time('onset');
    const end = time('end');
    if (end < onset) throw new DatasetError(`${at}: end is before onset`);
    if (typeof o.precursor !== 'boolean') throw new DatasetError(`${at}.precursor: expected true or false`);
    const precursorStart = o.precursorStart === null || o.precursorStart === undefined ? null : time('precursorStart');
    const cause = o.cause === null || o.cause === undefined ? null : str('cause');
    return { id: str('id'), server: str('server'), type: type as IncidentType, onset, end, precursor: o.precursor, precursorStart, metric: metric as MetricName, cause };
  });
}
