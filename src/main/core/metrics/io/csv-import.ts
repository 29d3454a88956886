import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  METRIC_NAMES,
  METRICS,
  isMetricName,
  isProfile,
  isValidServerName,
  type MetricName,
  type MetricSpec,
  type Profile,
  type ServerState,
} from '@shared/contract';
import { ColumnBuilder } from './column-builder';
import { CsvTokenizer, type CsvRecordSink } from './csv-tokenizer';
import { ProblemCollector } from './file-format-error';
import { METRIC_INDEX, STATES, dedupeSamples, parseMetricValue, rangeReason, serverReason, stateReason } from './samples-check';
import type { ReadProgress, SamplesFile } from './samples-file-types';
import { parseTimestamp, snapToGrid } from './timestamp';

/** A `timestamp,value` file holds one metric of one server; the file cannot say which. */
export interface SingleSeriesTarget {
  server: string;
  metric: MetricName;
  /**
   * Multiplies every value before the range check, for unit conversion: CloudWatch's
   * NetworkIn in bytes per 5-minute period is `8 / 300 / 1e6` to Mbit/s.
   */
  scale?: number;
}

export interface CsvParseOptions {
  /** The name errors show (the file's base name when reading from a path). */
  fileName: string;
  /** Set for a single-series `timestamp,value` file; leave out for a multi-metric file. */
  series?: SingleSeriesTarget;
  /** Stop after this many problems (default 20). */
  maxErrors?: number;
}

export interface CsvReadOptions extends Omit<CsvParseOptions, 'fileName'> {
  fileName?: string;
  signal?: AbortSignal;
  onProgress?: (progress: ReadProgress) => void;
  /** Bytes read per step (default 1 MiB). */
  chunkBytes?: number;
}

/** One shape for every column, so the per-row loop reads them without polymorphic lookups. */
interface Role {
  kind: 'timestamp' | 'server' | 'state' | 'profile' | 'metric';
  /** Index in METRIC_NAMES (metric columns only, else -1). */
  metric: number;
  spec: MetricSpec;
}

const SPECS: readonly MetricSpec[] = METRIC_NAMES.map((name) => METRICS.find((m) => m.name === name)!);
const role = (kind: Role['kind']): Role => ({ kind, metric: -1, spec: SPECS[0]! });
const metricRole = (name: MetricName): Role => ({ kind: 'metric', metric: METRIC_INDEX[name], spec: SPECS[METRIC_INDEX[name]]! });
const KNOWN_COLUMNS = `timestamp, server, state, profile, ${METRIC_NAMES.join(', ')}`;

/**
 * Samples from CSV text, pushed in chunks of any size. Everything is checked before `finish`
 * returns: a caller that stores the result only after `finish` never half-writes a bad file.
 */
export class CsvSamplesParser implements CsvRecordSink {
  private readonly tokenizer = new CsvTokenizer(this);
  private readonly problems: ProblemCollector;
  private readonly builder = new ColumnBuilder();
  private readonly profiles = new Map<string, { profile: Profile; line: number }>();
  private roles: Role[] | null = null;
  private readonly metricsSeen: MetricName[] = [];
  private snapped = 0;
  private readonly scale: number;
  private headerProblems = false;
  private first = true;
  /** Per-row scratch, reused: a metric's value and whether the row has one. */
  private values = new Float64Array(0);
  private has = new Uint8Array(0);
  private lastTimeText: string | null = null;
  private lastTime: number | string = 0;
  /** Server names already found valid. */
  private readonly servers = new Set<string>();

  constructor(private readonly options: CsvParseOptions) {
    this.problems = new ProblemCollector(options.fileName, options.maxErrors);
    this.scale = options.series?.scale ?? 1;
    const series = options.series;
    if (series) {
      if (!isValidServerName(series.server)) throw new RangeError(`series.server: ${serverReason(series.server)}`);
      if (!isMetricName(series.metric)) throw new RangeError(`series.metric: "${String(series.metric)}" is not a contract metric`);
      if (!(Number.isFinite(this.scale) && this.scale > 0)) throw new RangeError(`series.scale must be a positive number, got ${this.scale}`);
    }
  }

  push(text: string): void {
    if (this.first && text.length > 0) {
      this.first = false;
      // A byte order mark is what Excel puts in front of "CSV UTF-8"; it is not part of the header.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.tokenizer.push(text);
  }

  /** The bytes could not be decoded: reported at the line reached so far. */
  badText(reason: string): never {
    this.problems.add({ line: this.tokenizer.currentLine }, reason);
    this.problems.throwIfAny();
    throw new Error('unreachable');
  }

  finish(): SamplesFile {
    this.tokenizer.end();
    if (this.roles === null) this.problems.add({ line: 1 }, 'the file is empty: it has no header line');
    this.problems.throwIfAny();
    const built = this.builder.finish();
    const { columns, dropped } = dedupeSamples(
      built.columns,
      this.problems,
      (row) => ({ line: built.origin[row]! }),
      (row) => `line ${built.origin[row]!}`,
    );
    this.problems.throwIfAny();
    const profiles = new Map<string, Profile>();
    for (const [server, { profile }] of this.profiles) profiles.set(server, profile);
    return {
      format: 'csv',
      columns,
      metrics: [...this.metricsSeen],
      profiles,
      duplicatesDropped: dropped,
      snapped: this.snapped,
      contractVersion: null,
    };
  }

  problem(line: number, reason: string, fatal: boolean): void {
    this.problems.add({ line }, reason);
    if (fatal) this.problems.throwIfAny();
  }

  record(fields: string[], lines: number[]): void {
    if (this.roles === null) {
      this.header(fields, lines[0] ?? 1);
      return;
    }
    if (this.headerProblems) return;
    const roles = this.roles;
    const line = lines[0]!;
    if (fields.length !== roles.length) {
      this.problems.add({ line }, `this line has ${fields.length} fields; the header has ${roles.length}`);
      return;
    }
    this.row(fields, lines, roles);
  }

  private header(fields: string[], line: number): void {
    const roles: Role[] = [];
    const seen = new Set<string>();
    const fail = (field: string | null, reason: string): void => {
      this.headerProblems = true;
      this.problems.add({ line, field }, reason);
    };
    const names = fields.map((f) => f.trim().toLowerCase());
    if (this.options.series) {
      const { metric } = this.options.series;
      if (names.length !== 2 || !names.includes('timestamp') || !names.includes('value')) {
        fail(null, `a single-series file has the header "timestamp,value"; this one has "${fields.join(',')}"`);
      } else {
        for (const name of names) {
          roles.push(name === 'timestamp' ? role('timestamp') : metricRole(metric));
        }
        this.metricsSeen.push(metric);
      }
    } else {
      for (const [k, name] of names.entries()) {
        const field = fields[k]!.trim();
        if (seen.has(name)) {
          fail(field, `the column "${field}" appears twice`);
          continue;
        }
        seen.add(name);
        if (name === 'timestamp' || name === 'server' || name === 'state' || name === 'profile') roles.push(role(name));
        else if (isMetricName(name)) {
          roles.push(metricRole(name));
          this.metricsSeen.push(name);
        } else if (name === 'value') {
          fail(field, 'this is a single-series "timestamp,value" file: say which server and metric it holds (the series option)');
        } else if (name === '') fail(null, `column ${k + 1} of the header has no name; the columns are ${KNOWN_COLUMNS}`);
        else fail(field, `unknown column "${field}"; the columns are ${KNOWN_COLUMNS}`);
      }
      if (!seen.has('server')) fail('server', 'the header has no "server" column (a multi-metric file needs timestamp, server and metric columns)');
    }
    if (!seen.has('timestamp') && !this.options.series) fail('timestamp', 'the header has no "timestamp" column');
    this.roles = roles;
    this.values = new Float64Array(roles.length);
    this.has = new Uint8Array(roles.length);
    if (this.headerProblems) this.problems.throwIfAny();
  }

  private row(fields: string[], lines: number[], roles: Role[]): void {
    const before = this.problems.count;
    let timestamp = 0;
    let server = this.options.series?.server ?? '';
    let state: ServerState | null = null;
    let profile: Profile | null = null;
    let profileField = 0;
    const { values, has } = this;
    has.fill(0);
    for (let k = 0; k < roles.length; k++) {
      const { kind, spec } = roles[k]!;
      const text = trim(fields[k]!);
      const line = lines[k]!;
      switch (kind) {
        case 'timestamp': {
          // Multi-server files repeat each timestamp once per server: parse it once.
          if (text !== this.lastTimeText || text === '') {
            this.lastTimeText = text;
            this.lastTime = text === '' ? 'the timestamp is empty' : parseTimestamp(text);
          }
          const t = this.lastTime;
          if (typeof t === 'string') this.problems.add({ line, field: 'timestamp' }, t);
          else timestamp = t;
          break;
        }
        case 'server':
          if (this.servers.has(text) || isValidServerName(text)) {
            this.servers.add(text);
            server = text;
          } else this.problems.add({ line, field: 'server' }, serverReason(text));
          break;
        case 'state':
          if (text === '') break;
          if (STATES.has(text)) state = text as ServerState;
          else this.problems.add({ line, field: 'state' }, stateReason(text));
          break;
        case 'profile':
          if (text === '') break;
          if (isProfile(text)) {
            profile = text;
            profileField = k;
          } else this.problems.add({ line, field: 'profile' }, `"${text}" is not a profile (ml_compute, database, web_api, conductor_mgmt, data_ingest, risk_analytics, generic, or empty)`);
          break;
        case 'metric': {
          const parsed = parseMetricValue(text);
          if (parsed === null) break;
          const field = this.options.series ? 'value' : spec.name;
          if (typeof parsed === 'string') {
            this.problems.add({ line, field }, parsed);
            break;
          }
          const value = this.scale === 1 ? parsed : parsed * this.scale;
          const bad = rangeReason(spec, value);
          if (bad !== null) this.problems.add({ line, field }, this.scale === 1 ? bad : `${bad} after scaling "${text}" by ${this.scale}`);
          else {
            values[k] = value;
            has[k] = 1;
          }
          break;
        }
      }
    }
    if (profile !== null && this.problems.count === before) {
      const known = this.profiles.get(server);
      if (known === undefined) this.profiles.set(server, { profile, line: lines[profileField]! });
      else if (known.profile !== profile) {
        this.problems.add(
          { line: lines[profileField]!, field: 'profile' },
          `${server} has profile ${profile} here but ${known.profile} on line ${known.line}`,
        );
      }
    }
    if (this.problems.count !== before) return;
    const grid = snapToGrid(timestamp);
    if (grid !== timestamp) this.snapped++;
    const row = this.builder.push(server, grid, state, lines[0]!);
    for (let k = 0; k < roles.length; k++) if (has[k] === 1) this.builder.setMetric(row, roles[k]!.metric, values[k]!);
  }
}

/** String.trim, without allocating for the usual field that has nothing to trim. */
function trim(text: string): string {
  const n = text.length;
  return n > 0 && (text.charCodeAt(0) <= 32 || text.charCodeAt(n - 1) <= 32) ? text.trim() : text;
}

/** Samples from CSV held in memory (tests, small uploads). */
export function parseCsvSamples(data: string | Uint8Array, options: CsvParseOptions): SamplesFile {
  const parser = new CsvSamplesParser(options);
  if (typeof data === 'string') parser.push(data);
  else {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch {
      return parser.badText('the file is not UTF-8 text');
    }
    parser.push(text);
  }
  return parser.finish();
}

/**
 * Samples from a CSV file, read in chunks: memory follows the rows kept, progress is reported
 * after each chunk, and `signal` stops the read between chunks (rejecting with its reason).
 */
export async function readCsvSamples(path: string, options: CsvReadOptions = {}): Promise<SamplesFile> {
  const fileName = options.fileName ?? basename(path);
  const parser = new CsvSamplesParser({ ...options, fileName });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  options.signal?.throwIfAborted();
  const handle = await open(path, 'r');
  try {
    const totalBytes = (await handle.stat()).size;
    const buffer = Buffer.allocUnsafe(Math.max(4096, options.chunkBytes ?? 1 << 20));
    let bytesRead = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const { bytesRead: n } = await handle.read(buffer, 0, buffer.length, null);
      if (n === 0) break;
      bytesRead += n;
      let text: string;
      try {
        text = decoder.decode(buffer.subarray(0, n), { stream: true });
      } catch {
        return parser.badText(`the file is not UTF-8 text (an invalid byte within bytes ${bytesRead - n}..${bytesRead})`);
      }
      parser.push(text);
      options.onProgress?.({ bytesRead, totalBytes });
    }
    try {
      parser.push(decoder.decode());
    } catch {
      return parser.badText('the file is not UTF-8 text (it ends in the middle of a character)');
    }
    options.signal?.throwIfAborted();
    return parser.finish();
  } finally {
    await handle.close();
  }
}
