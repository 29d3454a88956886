import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_CONTRACT_VERSION, STEP_MS, type Profile } from '@shared/contract';
import type { DataCheck, Incident, SampleColumns, TrainData } from '@shared/domain';
import { concatColumns } from '../metrics/columns';
import { writeSamplesFile } from '../metrics/io';
import { defaultFleet } from '../metrics/simulator/fleet-sim';
import { generateFleet } from '../metrics/simulator/generate';
import { DEFAULT_FEATURE_SPEC, stepMs } from '../model/features';
import type { MetricsStore } from '../store';

/**
 * The data a training job trains on, prepared the way the CLI prepares it: a simulated fleet of
 * N servers x days (what `generate` writes), or a time range of the store with the incidents it
 * recorded, exported to a dataset folder (server_metrics.parquet + metrics_metadata.json) that
 * the training worker reads like any other.
 */
export interface PreparedData {
  /** metrics_metadata.json's generator section (simulated fleets; the store's data has none). */
  generator: Record<string, unknown> | null;
  columns: SampleColumns;
  incidents: Incident[];
  profiles: Map<string, Profile>;
  /** Server -> the server it depends on (metrics_metadata.json `dependencies`): training counts cascades along it. */
  dependencies: ReadonlyMap<string, string>;
  description: string;
  check: DataCheck;
}

const HOUR = 3_600_000;
/** Largest simulated fleet the wizard generates (servers x days): generation runs on the main thread. */
export const MAX_SIMULATED_SERVER_DAYS = 1_500;

/** Hours one window spans: context + horizon of the feature spec the app trains (32 h). */
export function windowHours(): number {
  const spec = DEFAULT_FEATURE_SPEC;
  return ((spec.contextSteps + spec.horizonSteps) * stepMs(spec)) / HOUR;
}

/**
 * Hours of data a run needs: one window must fit before the validation cut (the last 20 % of the
 * time range, buildDataset's default), plus two steps of grid alignment: 41 h.
 */
export function minimumHours(): number {
  return Math.ceil(windowHours() / 0.8 + (2 * stepMs(DEFAULT_FEATURE_SPEC)) / HOUR);
}

/** A fixed start for simulated fleets, so the same servers, days and seed give the same data. */
const SIMULATED_END = Date.UTC(2026, 0, 1);

/**
 * `topology`: the fleet's dependencies where a source knows them (the simulator), so that a model
 * trained on the store's data keeps the upstream term; the store itself records none.
 */
export function prepareData(
  data: TrainData,
  store: MetricsStore | null,
  topology: () => ReadonlyMap<string, string> = () => new Map(),
): PreparedData {
  if (data.kind === 'simulated') {
    if (data.servers * data.days > MAX_SIMULATED_SERVER_DAYS)
      throw new DataSourceError(
        'data.servers',
        `a simulated fleet of ${data.servers} servers x ${data.days} days is over the ${MAX_SIMULATED_SERVER_DAYS} server-days the app generates; use fewer servers or days`,
      );
    const hours = data.days * 24;
    const start = Math.floor((SIMULATED_END - hours * HOUR) / STEP_MS) * STEP_MS;
    const fleet = generateFleet({ seed: data.seed, start, servers: defaultFleet(data.servers), hours });
    const profiles = new Map<string, Profile>();
    for (const e of fleet.mapping.entries()) profiles.set(e.name, e.profile);
    const description = `simulated fleet: ${data.servers} servers x ${data.days} days, seed ${data.seed}`;
    return {
      generator: { seed: data.seed, hours, servers: data.servers },
      columns: fleet.columns,
      incidents: fleet.incidents,
      profiles,
      dependencies: fleet.dependencies,
      description,
      check: checkColumns('simulated', fleet.columns, fleet.incidents, profiles, fleet.start, fleet.end),
    };
  }
  if (store === null) throw new DataSourceError('data.kind', 'there is no metrics store to train on');
  const from = Date.parse(data.from);
  const to = Date.parse(data.to);
  if (!(to > from)) throw new DataSourceError('data.to', `must be after data.from (${data.from})`);
  const servers = store.listServers().filter((s) => s.firstSeen < to && s.lastSeen >= from);
  const batches = servers.map((s) => store.querySamples(s.name, from, to)).filter((c) => c.length > 0);
  const columns = batches.length > 0 ? concatColumns(batches) : concatColumns([]);
  const incidents = store.listIncidents({ fromMs: from, toMs: to });
  const profiles = new Map<string, Profile>(servers.map((s) => [s.name, s.profile]));
  return {
    generator: null,
    columns,
    incidents,
    profiles,
    dependencies: new Map([...topology()].filter(([server, upstream]) => profiles.has(server) && profiles.has(upstream))),
    description: `store: ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`,
    check: checkColumns('store', columns, incidents, profiles, from, to),
  };
}

export class DataSourceError extends Error {
  override readonly name = 'DataSourceError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The wizard's data check: what is there, and whether one can train on it. */
export function checkColumns(
  kind: DataCheck['kind'],
  columns: SampleColumns,
  incidents: readonly Incident[],
  profiles: ReadonlyMap<string, Profile>,
  rangeFrom: number,
  rangeTo: number,
): DataCheck {
  const perServer = new Map<string, { first: number; last: number; rows: number; gaps: number; prev: number }>();
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < columns.length; i++) {
    const name = columns.server[i]!;
    const t = columns.timestamp[i]!;
    if (t < first) first = t;
    if (t > last) last = t;
    const s = perServer.get(name);
    if (!s) perServer.set(name, { first: t, last: t, rows: 1, gaps: 0, prev: t });
    else {
      s.rows++;
      if (t - s.prev > STEP_MS) s.gaps++;
      if (t > s.last) s.last = t;
      s.prev = t;
    }
  }
  const byProfile: Record<string, number> = {};
  for (const name of perServer.keys()) {
    const p = profiles.get(name) ?? 'generic';
    byProfile[p] = (byProfile[p] ?? 0) + 1;
  }
  const span = Number.isFinite(first) ? last - first + STEP_MS : 0;
  const expected = perServer.size * Math.max(1, Math.round(Math.min(span, rangeTo - rangeFrom) / STEP_MS));
  const coverage = perServer.size === 0 ? 0 : Math.min(1, columns.length / expected);
  let gaps = 0;
  let longest = 0;
  for (const s of perServer.values()) {
    gaps += s.gaps;
    longest = Math.max(longest, s.last - s.first + STEP_MS);
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  const need = minimumHours();
  if (perServer.size === 0) problems.push('no samples in this range');
  else if (longest / HOUR < need)
    problems.push(
      `the longest server series spans ${(longest / HOUR).toFixed(1)} h; training needs ${need} h (a ${windowHours()} h window of context and horizon before the last 20 % kept for validation)`,
    );
  if (perServer.size === 1) warnings.push('one server only: validation uses held-out time, not held-out servers');
  if (perServer.size > 0 && incidents.length === 0)
    warnings.push('no incidents in this range: the risk head has nothing to learn from');
  if (coverage < 0.5 && perServer.size > 0) warnings.push(`only ${Math.round(coverage * 100)} % of the expected samples are there`);
  return {
    kind,
    servers: perServer.size,
    profiles: byProfile,
    from: Number.isFinite(first) ? new Date(first).toISOString() : null,
    to: Number.isFinite(last) ? new Date(last).toISOString() : null,
    hours: Math.round((span / HOUR) * 100) / 100,
    rows: columns.length,
    coverage: Math.round(coverage * 10_000) / 10_000,
    gaps,
    incidents: incidents.length,
    problems,
    warnings,
    ok: problems.length === 0,
  };
}

/** Writes the dataset folder the training worker reads (as `generate` does). */
export async function writeDataset(dir: string, prepared: PreparedData): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await writeSamplesFile(join(dir, 'server_metrics.parquet'), prepared.columns, 'parquet', {
    profileOf: (server) => prepared.profiles.get(server),
  });
  const iso = (ms: number): string => new Date(ms).toISOString();
  const metadata = {
    contractVersion: DATA_CONTRACT_VERSION,
    ...(prepared.generator === null ? {} : { generator: prepared.generator }),
    ...(prepared.dependencies.size > 0 ? { dependencies: Object.fromEntries(prepared.dependencies) } : {}),
    incidents: {
      total: prepared.incidents.length,
      list: prepared.incidents.map((i) => ({
        ...i,
        onset: iso(i.onset),
        end: iso(i.end),
        precursorStart: i.precursorStart === null ? null : iso(i.precursorStart),
      })),
    },
  };
  writeFileSync(join(dir, 'metrics_metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
  return dir;
}
