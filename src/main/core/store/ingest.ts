import type Database from 'better-sqlite3';
import {
  METRIC_BY_NAME,
  METRIC_NAMES,
  STEP_MS as GRID_STEP_MS,
  inferProfile,
  isProfile,
  isValidServerName,
  type MetricName,
  type Profile,
  type ProfileRule,
} from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { serverId } from '../metrics/server-encoding';
import {
  STORED_WIDTH,
  encodeRow as encodeStoredRow,
  firstDifference,
  metricArrays,
  type MetricBounds,
  type StoredValues,
} from './row-codec';
import {
  NAN_MASK_INDEX,
  NEG_ZERO_MASK_INDEX,
  SAMPLE_METRIC_COLUMNS,
  SAMPLE_VALUE_COLUMNS,
  STATE_CODE_BY_NAME as STATE_CODE_OF,
} from './schema';

// Module constants for what the per-row loop reads: under vitest's module runner (the tests and
// the benches) every read of an imported binding is a getter call, through each re-exporting module.
const STEP_MS = GRID_STEP_MS;
const STATE_CODE_BY_NAME = STATE_CODE_OF;
const encodeRow = encodeStoredRow;

export const REJECT_REASONS = ['conflict', 'out_of_order', 'future', 'invalid'] as const;
/**
 * conflict: a sample already exists at (server, ts) with other values; out_of_order: older than
 * the window before the server's newest sample; future: beyond the tolerance after `now`;
 * invalid: breaks the data contract (name, grid, range, state).
 */
export type RejectReason = (typeof REJECT_REASONS)[number];

export type RejectionField = 'server' | 'timestamp' | 'state' | MetricName;

export interface RejectionDetail {
  /** Row index in the batch handed to `ingest`. */
  row: number;
  server: string;
  timestamp: number;
  field: RejectionField;
  reason: RejectReason;
  message: string;
}

export interface IngestOptions {
  /** Wall clock (epoch ms) for the future check: injected, so replays and tests are deterministic. */
  now: number;
  /** Profiles for named servers (created or re-profiled); other servers get the inferred one. */
  profiles?: Readonly<Record<string, Profile>>;
}

/**
 * What happened to a batch. Ack semantics: when `ingest` returns, every accepted row is durable
 * (committed with synchronous=FULL). Rows are decided in chunks of `chunkRows`, one transaction
 * each; if a chunk fails (I/O error, disk full) `ingest` throws an IngestError whose report covers
 * rows [0, committedRows) only: those chunks are durable, the failed one and the rest are not.
 */
export interface IngestReport {
  file: string;
  rows: number;
  accepted: number;
  /** Identical to a stored sample (values, NaN/missing pattern and state): a no-op. */
  duplicates: number;
  rejected: Record<RejectReason, number>;
  /** The first few rejections, in row order (the store keeps a bounded log of them too). */
  rejections: RejectionDetail[];
  serversCreated: number;
  /** Rows [0, committedRows) are decided and durable; equals `rows` when `ingest` returns. */
  committedRows: number;
  chunksCommitted: number;
  chunkRows: number;
}

export interface IngestProgress {
  rowsDone: number;
  rows: number;
  accepted: number;
  chunksCommitted: number;
}

export class IngestError extends Error {
  override readonly name = 'IngestError';
  constructor(
    message: string,
    /** Counts for the committed chunks only. */
    readonly report: IngestReport,
    /** The rows of the chunk that failed and was rolled back: [start, end). */
    readonly failedChunk: { start: number; end: number },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static forChunk(report: IngestReport, failedChunk: { start: number; end: number }, cause: unknown): IngestError {
    const why = cause instanceof Error ? cause.message : String(cause);
    return new IngestError(
      `${report.file}: ingest failed in rows ${failedChunk.start}..${failedChunk.end - 1} (rolled back; rows before ${report.committedRows} are committed): ${why}`,
      report,
      failedChunk,
      { cause },
    );
  }
}

export interface IngestSettings {
  chunkRows: number;
  outOfOrderWindowMs: number;
  futureToleranceMs: number;
  maxRejectionDetails: number;
  rejectionLogLimit: number;
  profileRules: readonly ProfileRule[];
  /**
   * Rows per multi-row INSERT: one statement for 32 rows costs ~30% less CPU per row than 32
   * statements in better-sqlite3 (measured here); 32 x 15 parameters is far below SQLite's limit.
   */
  groupRows: number;
}

export const DEFAULT_INGEST_SETTINGS: IngestSettings = {
  chunkRows: 10_000,
  outOfOrderWindowMs: 60 * 60 * 1000,
  futureToleranceMs: 10 * 60 * 1000,
  maxRejectionDetails: 20,
  rejectionLogLimit: 1_000,
  profileRules: [],
  groupRows: 32,
};

export function emptyReport(file: string, rows: number, chunkRows: number): IngestReport {
  return {
    file,
    rows,
    accepted: 0,
    duplicates: 0,
    rejected: { conflict: 0, out_of_order: 0, future: 0, invalid: 0 },
    rejections: [],
    serversCreated: 0,
    committedRows: 0,
    chunksCommitted: 0,
    chunkRows,
  };
}

/** Per-chunk knowledge of one server, read inside the chunk's write transaction. */
interface ServerSlot {
  id: number;
  name: string;
  /** The name passes the contract's pattern; an invalid name gets a slot too, so it is checked once. */
  valid: boolean;
  inDb: boolean;
  /** Newest accepted ts (stored or earlier in this chunk): the out-of-order reference. */
  newest: number | undefined;
  minTs: number;
  maxTs: number;
  touched: boolean;
  /** Another name already owns this 48-bit id. */
  collidesWith: string | null;
}

interface ChunkResult {
  accepted: number;
  duplicates: number;
  rejected: Record<RejectReason, number>;
  details: RejectionDetail[];
  serversCreated: number;
}

const ID_CACHE_LIMIT = 100_000;
const ROW_PARAMS = STORED_WIDTH + 2;

/**
 * The write path for samples. Every chunk runs in a BEGIN IMMEDIATE transaction and reads the
 * servers' newest timestamps inside it, so two connections (the main thread and the store
 * worker) may both ingest without either deciding on stale state.
 */
export class SampleIngestor {
  private readonly selectServer: Database.Statement<[number], { name: string; last_seen: number }>;
  private readonly insertServer: Database.Statement<[number, string, string, number, number]>;
  private readonly updateSeen: Database.Statement<[number, number, number]>;
  private readonly updateProfile: Database.Statement<[string, number, string]>;
  private readonly insertSample: Database.Statement<unknown[]>;
  private readonly insertGroup: Database.Statement<unknown[]>;
  private readonly selectSample: Database.Statement<[number, number], unknown[]>;
  private readonly bumpRejections: Database.Statement<[string, number]>;
  private readonly logRejection: Database.Statement<[number, string, number, number, string, string, string]>;
  private readonly trimLog: Database.Statement<[number]>;
  private readonly chunkTx: Database.Transaction<
    (batch: SampleColumns, start: number, end: number, opts: IngestOptions, detailRoom: number) => ChunkResult
  >;
  private readonly ids = new Map<string, number>();
  private readonly params: StoredValues = new Array<number | null>(ROW_PARAMS).fill(null);
  private readonly groupParams: StoredValues;
  private readonly groupRows: Int32Array;
  private readonly groupSlots: (ServerSlot | null)[];

  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    private readonly settings: IngestSettings,
  ) {
    const valueColumns = SAMPLE_VALUE_COLUMNS.join(', ');
    this.selectServer = db.prepare('SELECT name, last_seen FROM servers WHERE id = ?');
    this.insertServer = db.prepare(
      'INSERT INTO servers (id, name, profile, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)',
    );
    this.updateSeen = db.prepare(
      'UPDATE servers SET first_seen = min(first_seen, ?), last_seen = max(last_seen, ?) WHERE id = ?',
    );
    this.updateProfile = db.prepare('UPDATE servers SET profile = ? WHERE id = ? AND profile <> ?');
    const rowValues = `(${new Array(ROW_PARAMS).fill('?').join(', ')})`;
    this.insertSample = db.prepare(
      `INSERT INTO samples (server_id, ts, ${valueColumns}) VALUES ${rowValues} ON CONFLICT DO NOTHING`,
    );
    // No ON CONFLICT here: one existing key aborts the statement (and only the statement), and
    // the group is redone row by row to find out which row it was.
    const groupSize = settings.groupRows;
    this.insertGroup = db.prepare(
      `INSERT INTO samples (server_id, ts, ${valueColumns}) VALUES ${new Array(groupSize).fill(rowValues).join(', ')}`,
    );
    this.groupParams = new Array<number | null>(ROW_PARAMS * groupSize).fill(null);
    this.groupRows = new Int32Array(groupSize);
    this.groupSlots = new Array<ServerSlot | null>(groupSize).fill(null);
    this.selectSample = db
      .prepare<[number, number], unknown[]>(`SELECT ${valueColumns} FROM samples WHERE server_id = ? AND ts = ?`)
      .raw(true);
    this.bumpRejections = db.prepare(
      'INSERT INTO ingest_rejections (reason, count) VALUES (?, ?) ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count',
    );
    this.logRejection = db.prepare(
      'INSERT INTO ingest_rejection_log (at, server, ts, row_index, field, reason, message) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.trimLog = db.prepare(
      'DELETE FROM ingest_rejection_log WHERE id <= (SELECT max(id) FROM ingest_rejection_log) - ?',
    );
    this.chunkTx = db.transaction(
      (batch: SampleColumns, start: number, end: number, opts: IngestOptions, detailRoom: number) =>
        this.decideChunk(batch, start, end, opts, detailRoom),
    );
  }

  /** Ingests all of `batch`, chunk by chunk, yielding after each committed chunk. */
  *run(batch: SampleColumns, opts: IngestOptions): Generator<IngestProgress, IngestReport, void> {
    checkBatch(batch, opts, this.file);
    const { chunkRows } = this.settings;
    const report = emptyReport(this.file, batch.length, chunkRows);
    for (let start = 0; start < batch.length; start += chunkRows) {
      const end = Math.min(batch.length, start + chunkRows);
      let chunk: ChunkResult;
      try {
        chunk = this.chunkTx.immediate(
          batch,
          start,
          end,
          opts,
          this.settings.maxRejectionDetails - report.rejections.length,
        );
      } catch (error) {
        throw IngestError.forChunk(report, { start, end }, error);
      }
      report.accepted += chunk.accepted;
      report.duplicates += chunk.duplicates;
      for (const reason of REJECT_REASONS) report.rejected[reason] += chunk.rejected[reason];
      report.rejections.push(...chunk.details);
      report.serversCreated += chunk.serversCreated;
      report.committedRows = end;
      report.chunksCommitted++;
      yield { rowsDone: end, rows: batch.length, accepted: report.accepted, chunksCommitted: report.chunksCommitted };
    }
    return report;
  }

  private idOf(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      if (this.ids.size >= ID_CACHE_LIMIT) this.ids.clear();
      id = serverId(name);
      this.ids.set(name, id);
    }
    return id;
  }

  private decideChunk(
    batch: SampleColumns,
    start: number,
    end: number,
    opts: IngestOptions,
    detailRoom: number,
  ): ChunkResult {
    const { outOfOrderWindowMs, futureToleranceMs, profileRules } = this.settings;
    const result: ChunkResult = {
      accepted: 0,
      duplicates: 0,
      rejected: { conflict: 0, out_of_order: 0, future: 0, invalid: 0 },
      details: [],
      serversCreated: 0,
    };
    const slots = new Map<string, ServerSlot>();
    const futureLimit = opts.now + futureToleranceMs;
    const params = this.params;
    const columns = metricArrays(batch);

    // Rows wait in a group of `groupRows` for one multi-row INSERT, so a conflict found when the
    // group is written can come after rejections of later rows: keep up to `groupRows` extra
    // details and cut to the lowest rows at the end, which is exactly the first `detailRoom`.
    const groupSize = this.settings.groupRows;
    const detailSlack = detailRoom + groupSize;
    const reject = (row: number, reason: RejectReason, field: RejectionField, message: string): void => {
      result.rejected[reason]++;
      if (result.details.length < detailSlack) {
        result.details.push({
          row,
          server: String(batch.server[row]),
          timestamp: batch.timestamp[row]!,
          field,
          reason,
          message,
        });
      }
    };

    const accept = (slot: ServerSlot, ts: number): void => {
      result.accepted++;
      slot.touched = true;
      if (ts < slot.minTs) slot.minTs = ts;
      if (ts > slot.maxTs) slot.maxTs = ts;
    };

    /** Row i could not be inserted because (server, ts) is taken: a duplicate or a conflict. */
    const classifyExisting = (
      i: number,
      slot: ServerSlot,
      incoming: StoredValues,
      existing: readonly unknown[],
    ): void => {
      if (firstDifference(incoming, existing) < 0) {
        result.duplicates++;
      } else {
        const field = conflictField(incoming, existing);
        reject(
          i,
          'conflict',
          field,
          `${rowLabel(i, slot.name, batch.timestamp[i]!)}: a sample with another ${field} is already stored at this timestamp`,
        );
      }
    };

    /** Inserts one encoded row (ON CONFLICT DO NOTHING) and decides it. */
    const insertOne = (i: number, slot: ServerSlot, row: StoredValues): void => {
      // Parameters as arguments, not one array: better-sqlite3 then reads them without a
      // property lookup each (about half the binding cost, measured here).
      if (this.insertSample.run(...row).changes === 1) {
        accept(slot, row[1] as number);
        return;
      }
      classifyExisting(i, slot, row.slice(2), this.selectSample.get(slot.id, row[1] as number)!);
    };

    const slotFor = (name: string): ServerSlot => {
      let slot = slots.get(name);
      if (slot) return slot;
      if (!isValidServerName(name)) {
        slot = {
          id: 0,
          name,
          valid: false,
          inDb: false,
          newest: undefined,
          minTs: Infinity,
          maxTs: -Infinity,
          touched: false,
          collidesWith: null,
        };
        slots.set(name, slot);
        return slot;
      }
      const id = this.idOf(name);
      const stored = this.selectServer.get(id);
      slot = {
        id,
        name,
        valid: true,
        inDb: stored !== undefined,
        newest: stored?.last_seen,
        minTs: Infinity,
        maxTs: -Infinity,
        touched: false,
        collidesWith: stored !== undefined && stored.name !== name ? stored.name : null,
      };
      const wanted = opts.profiles?.[name];
      if (stored !== undefined && slot.collidesWith === null && wanted !== undefined)
        this.updateProfile.run(wanted, id, wanted);
      slots.set(name, slot);
      return slot;
    };

    const group = this.groupParams;
    let grouped = 0;
    const flush = (): void => {
      if (grouped === 0) return;
      let written = false;
      if (grouped === groupSize) {
        try {
          this.insertGroup.run(...group);
          written = true;
        } catch (error) {
          if ((error as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw error;
        }
      }
      for (let g = 0; g < grouped; g++) {
        const slot = this.groupSlots[g]!;
        if (written) accept(slot, group[g * ROW_PARAMS + 1] as number);
        else insertOne(this.groupRows[g]!, slot, group.slice(g * ROW_PARAMS, (g + 1) * ROW_PARAMS));
        this.groupSlots[g] = null;
      }
      grouped = 0;
    };

    // Names repeat across a chunk: validate (and look up) each once, not once per row; a run of
    // rows of one server (a file import, a window) usually shares one string, so check that first.
    let lastName: unknown = undefined;
    let lastSlot: ServerSlot | null = null;
    for (let i = start; i < end; i++) {
      const name = batch.server[i]!;
      const ts = batch.timestamp[i]!;
      let slot: ServerSlot | null;
      if (name === lastName) {
        slot = lastSlot;
      } else {
        slot = typeof name === 'string' ? slotFor(name) : null;
        lastName = name;
        lastSlot = slot;
      }
      if (slot === null || !slot.valid) {
        reject(
          i,
          'invalid',
          'server',
          `${rowLabel(i, name, ts)}: server name ${JSON.stringify(name)} is not a valid server name`,
        );
        continue;
      }
      const problem = rowProblem(batch, i);
      if (problem) {
        reject(i, 'invalid', problem.field, `${rowLabel(i, name, ts)}: ${problem.message}`);
        continue;
      }
      // Encoded into the group's next slot now, which checks the metric ranges on the way; the
      // slot is only taken (`grouped` moves on) once the row passes every other check too.
      const base = grouped * ROW_PARAMS;
      const outOfRange = encodeRow(batch, columns, i, group, base + 2, METRIC_BOUNDS);
      if (outOfRange >= 0) {
        const metric = SAMPLE_METRIC_COLUMNS[outOfRange]!;
        reject(
          i,
          'invalid',
          metric,
          `${rowLabel(i, name, ts)}: ${metric} = ${columns.values[outOfRange]![i]} is outside [${METRIC_BOUNDS.min[outOfRange]}, ${METRIC_BOUNDS.max[outOfRange]}]`,
        );
        continue;
      }
      if (ts > futureLimit) {
        reject(
          i,
          'future',
          'timestamp',
          `${rowLabel(i, name, ts)}: timestamp is ${Math.round((ts - opts.now) / 60_000)} min after now (${iso(opts.now)}); the limit is ${futureToleranceMs / 60_000} min`,
        );
        continue;
      }
      if (slot.collidesWith !== null) {
        reject(
          i,
          'invalid',
          'server',
          `${rowLabel(i, name, ts)}: server id ${slot.id} already belongs to "${slot.collidesWith}" (48-bit hash collision)`,
        );
        continue;
      }

      if (slot.newest !== undefined && ts < slot.newest - outOfOrderWindowMs) {
        // Beyond the window, unless the very same sample is stored: duplicates are checked
        // first so that re-importing old data stays an idempotent no-op. Pending rows first,
        // since the stored sample may be one of them.
        flush();
        const existing = this.selectSample.get(slot.id, ts);
        if (existing === undefined) {
          reject(
            i,
            'out_of_order',
            'timestamp',
            `${rowLabel(i, name, ts)}: more than ${outOfOrderWindowMs / 60_000} min before the server's newest sample (${iso(slot.newest)})`,
          );
        } else {
          params[0] = slot.id;
          params[1] = ts;
          encodeRow(batch, columns, i, params, 2);
          classifyExisting(i, slot, params.slice(2), existing);
        }
        continue;
      }

      if (!slot.inDb) {
        this.insertServer.run(slot.id, name, opts.profiles?.[name] ?? inferProfile(name, profileRules), ts, ts);
        slot.inDb = true;
        result.serversCreated++;
      }
      // Raising `newest` before the row is written is exact: if the row turns out to be a
      // duplicate or conflict, a stored sample at ts already made newest >= ts.
      if (slot.newest === undefined || ts > slot.newest) slot.newest = ts;
      group[base] = slot.id;
      group[base + 1] = ts;
      this.groupRows[grouped] = i;
      this.groupSlots[grouped] = slot;
      if (++grouped === groupSize) flush();
    }
    flush();
    if (
      result.details.length > detailRoom ||
      result.details.some((d, k) => k > 0 && d.row < result.details[k - 1]!.row)
    ) {
      result.details.sort((a, b) => a.row - b.row);
      result.details.length = Math.min(result.details.length, Math.max(0, detailRoom));
    }

    for (const slot of slots.values()) if (slot.touched) this.updateSeen.run(slot.minTs, slot.maxTs, slot.id);
    for (const reason of REJECT_REASONS)
      if (result.rejected[reason] > 0) this.bumpRejections.run(reason, result.rejected[reason]);
    if (result.details.length > 0) {
      for (const d of result.details)
        this.logRejection.run(opts.now, d.server, d.timestamp, d.row, d.field, d.reason, d.message);
      this.trimLog.run(this.settings.rejectionLogLimit);
    }
    return result;
  }
}

/** Batch-level shape errors are programming errors of the caller, not row rejections: throw. */
function checkBatch(batch: SampleColumns, opts: IngestOptions, file: string): void {
  const n = batch.length;
  const fail = (what: string): never => {
    throw new TypeError(`${file}: ingest batch is malformed: ${what}`);
  };
  if (!Number.isSafeInteger(n) || n < 0) fail(`length ${String(n)} is not a row count`);
  if (!Array.isArray(batch.server) || batch.server.length < n) fail(`server has fewer than ${n} entries`);
  if (!(batch.timestamp instanceof Float64Array) || batch.timestamp.length < n)
    fail(`timestamp is not a Float64Array of ${n} entries`);
  if (!Array.isArray(batch.state) || batch.state.length < n) fail(`state has fewer than ${n} entries`);
  for (const name of METRIC_NAMES) {
    const column = (batch.metrics as Partial<SampleColumns['metrics']>)[name];
    if (!column || !(column.values instanceof Float64Array) || !(column.present instanceof Uint8Array)) {
      fail(`metric ${name} is not a {values: Float64Array, present: Uint8Array} column`);
    } else if (column.values.length < n || column.present.length < n) {
      fail(`metric ${name} has fewer than ${n} entries`);
    }
  }
  if (!Number.isFinite(opts.now)) fail(`now ${String(opts.now)} is not an epoch-ms time`);
  for (const [name, profile] of Object.entries(opts.profiles ?? {})) {
    if (!isProfile(profile)) fail(`profile "${String(profile)}" given for server "${name}" is not a contract profile`);
  }
}

const METRIC_BOUNDS: MetricBounds = {
  min: SAMPLE_METRIC_COLUMNS.map((m) => METRIC_BY_NAME[m].min),
  max: SAMPLE_METRIC_COLUMNS.map((m) => METRIC_BY_NAME[m].max),
};

/**
 * The first way row i's timestamp or state breaks the contract (its server name is checked per
 * name, its metric ranges by encodeRow, in that order after this).
 */
function rowProblem(batch: SampleColumns, i: number): { field: RejectionField; message: string } | null {
  const ts = batch.timestamp[i]!;
  if (!Number.isSafeInteger(ts) || ts < 0)
    return { field: 'timestamp', message: `timestamp ${ts} is not a non-negative integer epoch-ms time` };
  if (ts % STEP_MS !== 0)
    return { field: 'timestamp', message: `timestamp ${iso(ts)} is not on the ${STEP_MS / 60_000}-minute grid` };
  const state = batch.state[i];
  if (state !== null && state !== undefined && !STATE_CODE_BY_NAME.has(state)) {
    return { field: 'state', message: `state ${JSON.stringify(state)} is not a contract server state` };
  }
  return null;
}

/** The first field (metrics in column order, then state) in which two encoded rows differ. */
function conflictField(a: StoredValues, b: readonly unknown[]): RejectionField {
  const nanDiff = (a[NAN_MASK_INDEX] as number) ^ (b[NAN_MASK_INDEX] as number);
  const negZeroDiff = (a[NEG_ZERO_MASK_INDEX] as number) ^ (b[NEG_ZERO_MASK_INDEX] as number);
  for (let m = 0; m < SAMPLE_METRIC_COLUMNS.length; m++) {
    if (a[m] !== b[m] || ((nanDiff | negZeroDiff) & (1 << m)) !== 0) return SAMPLE_METRIC_COLUMNS[m]!;
  }
  return 'state';
}

function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

function rowLabel(i: number, name: unknown, ts: number): string {
  return `row ${i} (server ${JSON.stringify(name)}, ${iso(ts)})`;
}
