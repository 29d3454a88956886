import {
  METRIC_BY_NAME,
  STEP_MS,
  SERVER_NAME_PATTERN,
  inferProfile,
  isProfile,
  type MetricName,
  type Profile,
} from '@shared/contract';
import type { SampleColumns, SourceProblem } from '@shared/domain';
import { allocateColumns } from '../../metrics/columns';

/** One series of a Prometheus answer: its labels and its points (epoch ms, value). */
export interface PromSeries {
  labels: Record<string, string>;
  points: [number, number][];
}

/** A Prometheus answer that is not a usable success: the message says what was wrong. */
export class PromResponseError extends Error {
  override readonly name = 'PromResponseError';
}

const MAX_PROBLEMS = 50;

/**
 * Parses the body of /api/v1/query (vector or scalar) or /api/v1/query_range (matrix). Values are
 * Prometheus's strings: "NaN", "+Inf", "-Inf" are those values; anything else that is not a
 * number, a point that is not [time, "value"], a label that is not a string: the series is
 * skipped with a problem (one bad series does not lose the others). A body that is not JSON, an
 * error status or an unknown result type throws PromResponseError.
 */
export function parsePromResponse(text: string, metric: MetricName | null = null): { series: PromSeries[]; problems: SourceProblem[] } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PromResponseError(`response is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (!isObject(body)) throw new PromResponseError('response is not a JSON object');
  if (body.status === 'error') {
    const type = typeof body.errorType === 'string' ? body.errorType : 'error';
    const message = typeof body.error === 'string' ? body.error : 'no message';
    throw new PromResponseError(`Prometheus answered ${type}: ${message}`);
  }
  if (body.status !== 'success') throw new PromResponseError(`response status is ${JSON.stringify(body.status)}, not "success"`);
  const data = body.data;
  if (!isObject(data)) throw new PromResponseError('response has no "data" object');
  const problems: SourceProblem[] = [];
  const problem = (instance: string | null, reason: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ metric, instance, reason });
  };
  const type = data.resultType;
  const result = data.result;
  if (type === 'scalar' || type === 'string') {
    throw new PromResponseError(`the query returns a ${type}, not one series per instance (add the instance label, e.g. "by (instance)")`);
  }
  if (type !== 'vector' && type !== 'matrix') throw new PromResponseError(`unknown resultType ${JSON.stringify(type)}`);
  if (!Array.isArray(result)) throw new PromResponseError('"data.result" is not an array');
  const series: PromSeries[] = [];
  for (const item of result) {
    if (!isObject(item) || !isObject(item.metric)) {
      problem(null, 'a result without a "metric" label object');
      continue;
    }
    const labels: Record<string, string> = {};
    let badLabel: string | null = null;
    for (const [key, value] of Object.entries(item.metric)) {
      if (typeof value !== 'string') badLabel = key;
      else labels[key] = value;
    }
    const who = labels.instance ?? describeLabels(labels);
    if (badLabel !== null) {
      problem(who, `label "${badLabel}" is not a string`);
      continue;
    }
    const raw = type === 'vector' ? [item.value] : item.values;
    if (!Array.isArray(raw)) {
      problem(who, type === 'vector' ? 'a vector result without "value"' : 'a matrix result without "values"');
      continue;
    }
    const points: [number, number][] = [];
    let error: string | null = null;
    for (const point of raw) {
      const parsed = parsePoint(point);
      if (typeof parsed === 'string') {
        error = parsed;
        break;
      }
      points.push(parsed);
    }
    if (error !== null) {
      problem(who, error);
      continue;
    }
    series.push({ labels, points });
  }
  return { series, problems };
}

/** [unix seconds, "value"] -> [epoch ms, value], or why not. */
export function parsePoint(point: unknown): [number, number] | string {
  if (!Array.isArray(point) || point.length !== 2) return `a point is not [time, "value"]: ${short(point)}`;
  const [time, text] = point as [unknown, unknown];
  if (typeof time !== 'number' || !Number.isFinite(time)) return `a point's time is not a number: ${short(time)}`;
  if (typeof text !== 'string') return `a point's value is not a string: ${short(text)}`;
  const value = parsePromValue(text);
  if (value === null) return `a point's value is not a number: ${short(text)}`;
  return [Math.round(time * 1000), value];
}

/** Prometheus's float text: Go's strconv format plus NaN/+Inf/-Inf. */
export function parsePromValue(text: string): number | null {
  switch (text) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  const value = Number(text);
  // "1e999" overflows to Infinity: Prometheus never writes it so; refuse rather than guess.
  return Number.isFinite(value) ? value : null;
}

/**
 * A Prometheus instance label to a contract server name: a URL keeps its host, a `:port` suffix
 * goes (IPv6 `[::1]:9100` keeps `::1`), characters the contract does not allow become "-",
 * leading ones that cannot start a name are dropped, and the name is cut at 128 characters.
 */
export function serverNameFromInstance(instance: string): { name: string } | { error: string } {
  let host = instance.trim();
  if (host.length === 0) return { error: 'the instance label is empty' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    try {
      host = new URL(host).host;
    } catch {
      return { error: `the instance label ${short(instance)} looks like a URL but does not parse` };
    }
  }
  const ipv6 = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (ipv6) host = ipv6[1]!;
  else {
    const port = /^([^:]+):\d{1,5}$/.exec(host);
    if (port) host = port[1]!;
  }
  const name = host
    .replace(/[^A-Za-z0-9._:-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  if (!SERVER_NAME_PATTERN.test(name)) {
    return { error: `the instance label ${short(instance)} has no character a server name may start with (A-Z, a-z, 0-9)` };
  }
  return { name };
}

export interface MappedValues {
  /** server -> instance label (the first one seen), profile, and per time the metric values. */
  servers: Map<string, { instance: string; profile: Profile; rows: Map<number, Partial<Record<MetricName, number>>> }>;
  problems: SourceProblem[];
  /** Values not kept (each with a problem while there is room for one). */
  dropped: number;
  series: number;
}

export interface MapOptions {
  instanceLabel: string;
  profileLabel: string | null;
}

export function emptyMapped(): MappedValues {
  return { servers: new Map(), problems: [], dropped: 0, series: 0 };
}

/**
 * Folds one metric's series into per-server rows. A point off the 5-minute grid, a finite value
 * outside the contract's range, a series without the instance label, a second instance mapping
 * to an already-taken server name: dropped with a problem naming why. NaN and ±Inf are values
 * (the data contract keeps them). A series absent at a step leaves that step missing, never zero.
 */
export function mapSeries(out: MappedValues, metric: MetricName, series: readonly PromSeries[], options: MapOptions): void {
  const spec = METRIC_BY_NAME[metric];
  const owners = new Map<string, string>();
  for (const [server, info] of out.servers) owners.set(server, info.instance);
  const problem = (instance: string | null, reason: string): void => {
    if (out.problems.length < MAX_PROBLEMS) out.problems.push({ metric, instance, reason });
  };
  // Deterministic: a name collision keeps the instance that sorts first.
  const sorted = [...series].sort((a, b) => (a.labels[options.instanceLabel] ?? '').localeCompare(b.labels[options.instanceLabel] ?? ''));
  const seenThisMetric = new Set<string>();
  for (const s of sorted) {
    out.series++;
    const instance = s.labels[options.instanceLabel];
    if (instance === undefined) {
      out.dropped += s.points.length;
      problem(describeLabels(s.labels), `the series has no "${options.instanceLabel}" label (aggregate "by (${options.instanceLabel})")`);
      continue;
    }
    const mapped = serverNameFromInstance(instance);
    if ('error' in mapped) {
      out.dropped += s.points.length;
      problem(instance, mapped.error);
      continue;
    }
    const server = mapped.name;
    const owner = owners.get(server);
    if ((owner !== undefined && owner !== instance) || seenThisMetric.has(server)) {
      out.dropped += s.points.length;
      problem(instance, `maps to server "${server}", already taken by instance "${owner ?? instance}" (two series for one server)`);
      continue;
    }
    seenThisMetric.add(server);
    let entry = out.servers.get(server);
    if (!entry) {
      entry = { instance, profile: inferProfile(server), rows: new Map() };
      out.servers.set(server, entry);
      owners.set(server, instance);
    }
    if (options.profileLabel !== null) {
      const label = s.labels[options.profileLabel];
      if (label !== undefined) {
        if (isProfile(label)) entry.profile = label;
        else problem(instance, `label ${options.profileLabel}="${label}" is not a profile; using "${entry.profile}" from the name`);
      }
    }
    for (const [time, value] of s.points) {
      if (time % STEP_MS !== 0) {
        out.dropped++;
        problem(instance, `a point at ${new Date(time).toISOString()} is off the 5-minute grid`);
        continue;
      }
      if (Number.isFinite(value) && (value < spec.min || value > spec.max)) {
        out.dropped++;
        problem(instance, `value ${value} is outside ${metric}'s range ${spec.min}..${spec.max} ${spec.unit}`);
        continue;
      }
      let row = entry.rows.get(time);
      if (!row) {
        row = {};
        entry.rows.set(time, row);
      }
      row[metric] = value;
    }
  }
}

/** The mapped rows as a batch, ordered by time then server (the store's out-of-order check likes time order). */
export function toColumns(mapped: MappedValues): { batch: SampleColumns; profiles: Record<string, Profile> } {
  const rows: { server: string; time: number; values: Partial<Record<MetricName, number>> }[] = [];
  const profiles: Record<string, Profile> = {};
  for (const [server, info] of mapped.servers) {
    profiles[server] = info.profile;
    for (const [time, values] of info.rows) rows.push({ server, time, values });
  }
  rows.sort((a, b) => a.time - b.time || (a.server < b.server ? -1 : a.server > b.server ? 1 : 0));
  const batch = allocateColumns(rows.length);
  rows.forEach((row, i) => {
    batch.server[i] = row.server;
    batch.timestamp[i] = row.time;
    for (const [name, value] of Object.entries(row.values) as [MetricName, number][]) {
      batch.metrics[name].values[i] = value;
      batch.metrics[name].present[i] = 1;
    }
  });
  return { batch, profiles };
}

function describeLabels(labels: Record<string, string>): string {
  const text = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return `{${text.slice(0, 200)}}`;
}

function short(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
