import Database from 'better-sqlite3';
import {
  DATA_CONTRACT_VERSION,
  isCompatibleContract,
  type Profile,
  type ProfileRule,
  type ServerState,
} from '@shared/contract';
import type { Incident, SampleColumns } from '@shared/domain';
import { allocateColumns } from '../metrics/columns';
import { serverId } from '../metrics/server-encoding';
import { IncidentTable, type IncidentQuery } from './incidents';
import {
  DEFAULT_INGEST_SETTINGS,
  REJECT_REASONS,
  SampleIngestor,
  type IngestOptions,
  type IngestProgress,
  type IngestReport,
  type IngestSettings,
  type RejectReason,
} from './ingest';
import { LATEST_SCHEMA_VERSION, migrate, schemaVersion } from './migrations';
import { decodeRow } from './row-codec';
import { FleetWindowCache } from './window-cache';
import {
  META_CONTRACT_VERSION,
  META_CREATED_AT,
  META_RETENTION_EPOCH,
  SAMPLE_VALUE_COLUMNS,
  STATE_CODES,
} from './schema';

export interface StoreOptions {
  /**
   * Path to a better_sqlite3.node built for another runtime: the desktop app in development runs
   * under Electron's ABI while node_modules holds the Node build (see scripts/ensure-electron.mjs).
   */
  nativeBinding?: string;
  /** Open for reading only (no migration, no writes); the schema must already be current. */
  readonly?: boolean;
  /** How long a statement waits for another connection's write lock before SQLITE_BUSY. Default 5 s. */
  busyTimeoutMs?: number;
  /** Rows per ingest transaction. Default 10,000: large enough that fsync costs little per row. */
  chunkRows?: number;
  /** A row older than this before its server's newest sample is rejected. Default 1 h. */
  outOfOrderWindowMs?: number;
  /** A row newer than `now` + this is rejected. Default 10 min. */
  futureToleranceMs?: number;
  /** Rejection details an IngestReport carries. Default 20. */
  maxRejectionDetails?: number;
  /** Rejection details the store keeps in `ingest_rejection_log`. Default 1,000. */
  rejectionLogLimit?: number;
  /** User profile rules, consulted before the contract's (inferProfile). */
  profileRules?: readonly ProfileRule[];
  /** WAL size the file is truncated back to after checkpoints. Default 64 MiB. */
  walSizeLimitBytes?: number;
  /**
   * WAL pages before an automatic checkpoint, which runs inside the commit that crosses it.
   * Default 1,000 (~4 MiB, SQLite's own): short stalls on the thread that commits. The store
   * worker uses 10,000: fewer, longer checkpoints off the main thread, fewer fsyncs per row.
   */
  walAutocheckpointPages?: number;
  /** Rows per multi-row INSERT (tuning and tests; default 32). */
  insertGroupRows?: number;
  /** SQLite page cache per connection, KiB. Default 32 MiB: ingest touches one b-tree leaf per server. */
  cacheSizeKiB?: number;
}

export type StoreErrorCode = 'open_failed' | 'not_a_store' | 'schema_too_new' | 'schema_outdated' | 'contract_mismatch';

/** A store that cannot be used as it is; the message names the file and what to do. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
  }
}

export interface StoredServer {
  id: number;
  name: string;
  profile: Profile;
  /** Oldest and newest accepted sample timestamps (epoch ms); they outlive retention. */
  firstSeen: number;
  lastSeen: number;
  /** State at the newest sample, null when it reported none or retention removed it. */
  state: ServerState | null;
}

export interface FleetSummary {
  serversTotal: number;
  /** Servers whose newest sample is at most 15 minutes older than `nowMs`. */
  serversReporting: number;
  newestSampleTs: number | null;
}

export interface RetentionReport {
  cutoffMs: number;
  samplesDeleted: number;
  predictionsDeleted: number;
  /** Transactions used: each deleted at most `chunkRows` rows. */
  chunks: number;
}

export interface CheckpointResult {
  busy: boolean;
  /** WAL frames before the checkpoint, and how many of them reached the database file. */
  walFrames: number;
  checkpointedFrames: number;
}

export interface RejectionLogEntry {
  at: number;
  server: string;
  timestamp: number | null;
  row: number;
  field: string;
  reason: RejectReason;
  message: string;
}

export interface LatestWindowOptions {
  /** Every server with a sample in the window gets all `steps` rows; rows it lacks are all-missing. */
  dense?: boolean;
}

export const REPORTING_WINDOW_MS = 15 * 60 * 1000;
const WINDOW_CACHES = 3;
const SAMPLE_SELECT = SAMPLE_VALUE_COLUMNS.join(', ');

/**
 * Opens (creating or migrating) a metrics store. Durability: WAL with synchronous=FULL, so a
 * committed ingest chunk survives kill -9 and power loss, and readers never block the writer.
 */
export function openStore(path: string, options: StoreOptions = {}): MetricsStore {
  let db: Database.Database;
  try {
    db = new Database(path, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
      ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
    });
  } catch (error) {
    throw new StoreError('open_failed', path, `cannot open the metrics store: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    configure(db, path, options);
    return new MetricsStore(db, path, options);
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError('open_failed', path, `cannot open the metrics store: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function configure(db: Database.Database, file: string, options: StoreOptions): void {
  // busy_timeout first: the WAL switch below already needs a lock another connection may hold.
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`);
  db.pragma('foreign_keys = ON');
  if (!options.readonly) {
    const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
    if (mode !== 'wal') throw new StoreError('open_failed', file, `cannot switch to WAL journaling (got "${mode}")`);
    db.pragma('synchronous = FULL');
    db.pragma(`journal_size_limit = ${Math.floor(options.walSizeLimitBytes ?? 64 * 1024 * 1024)}`);
    db.pragma(`wal_autocheckpoint = ${Math.floor(options.walAutocheckpointPages ?? 1_000)}`);
  }
  db.pragma(`cache_size = ${-Math.floor(options.cacheSizeKiB ?? 32 * 1024)}`);

  const version = schemaVersion(db);
  if (version === 0) {
    // A version-0 file with tables is someone else's database: never "migrate" into it.
    const foreign = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").get() as {
      n: number;
    };
    if (foreign.n > 0)
      throw new StoreError(
        'not_a_store',
        file,
        'is an SQLite database but not a metrics store (it has tables and no store schema version)',
      );
  }
  if (version > LATEST_SCHEMA_VERSION) {
    throw new StoreError(
      'schema_too_new',
      file,
      `store schema version ${version} is newer than this build supports (${LATEST_SCHEMA_VERSION}); upgrade the app`,
    );
  }
  // Check the contract before migrating, so a store we refuse is left exactly as it was.
  if (version >= 1) checkContract(db, file);
  if (options.readonly) {
    if (version !== LATEST_SCHEMA_VERSION) {
      throw new StoreError(
        'schema_outdated',
        file,
        `store schema version ${version} needs migrating to ${LATEST_SCHEMA_VERSION}; open it writable once`,
      );
    }
    return;
  }
  migrate(db, file);
  const insertMeta = db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)');
  insertMeta.run(META_CONTRACT_VERSION, DATA_CONTRACT_VERSION);
  insertMeta.run(META_CREATED_AT, new Date().toISOString());
}

function checkContract(db: Database.Database, file: string): void {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(META_CONTRACT_VERSION) as
    { value: string } | undefined;
  if (row !== undefined && !isCompatibleContract(row.value)) {
    throw new StoreError(
      'contract_mismatch',
      file,
      `was written under data contract ${row.value}, incompatible with this build's ${DATA_CONTRACT_VERSION} (major versions differ); export and re-import its data, or use another store file`,
    );
  }
}

interface ServerRow {
  id: number;
  name: string;
  profile: string;
  first_seen: number;
  last_seen: number;
  state: number | null;
}

export class MetricsStore {
  readonly settings: Readonly<IngestSettings>;
  private readonly ingestor: SampleIngestor | null;
  private readonly incidents: IncidentTable;
  private readonly stmts: {
    serverName: Database.Statement<[number], { name: string }>;
    range: Database.Statement<[number, number, number], unknown[]>;
    listServers: Database.Statement<[], ServerRow>;
    summary: Database.Statement<[number], { total: number; reporting: number | null; newest: number | null }>;
  };
  /** One per window length in use (the model's 288, a UI's shorter one...), least recently used first. */
  private readonly windowCaches = new Map<number, FleetWindowCache>();
  private closed = false;

  constructor(
    /** The connection, for tests and maintenance; everyday work goes through the methods. */
    readonly db: Database.Database,
    readonly file: string,
    options: StoreOptions = {},
  ) {
    this.settings = {
      chunkRows: positiveInt(options.chunkRows, DEFAULT_INGEST_SETTINGS.chunkRows, file, 'chunkRows'),
      outOfOrderWindowMs: options.outOfOrderWindowMs ?? DEFAULT_INGEST_SETTINGS.outOfOrderWindowMs,
      futureToleranceMs: options.futureToleranceMs ?? DEFAULT_INGEST_SETTINGS.futureToleranceMs,
      maxRejectionDetails: options.maxRejectionDetails ?? DEFAULT_INGEST_SETTINGS.maxRejectionDetails,
      rejectionLogLimit: options.rejectionLogLimit ?? DEFAULT_INGEST_SETTINGS.rejectionLogLimit,
      profileRules: options.profileRules ?? DEFAULT_INGEST_SETTINGS.profileRules,
      groupRows: positiveInt(options.insertGroupRows, DEFAULT_INGEST_SETTINGS.groupRows, file, 'insertGroupRows'),
    };
    this.ingestor = db.readonly ? null : new SampleIngestor(db, file, this.settings);
    this.incidents = new IncidentTable(db, file);
    this.stmts = {
      serverName: db.prepare('SELECT name FROM servers WHERE id = ?'),
      range: db
        .prepare<[number, number, number], unknown[]>(
          `SELECT ts, ${SAMPLE_SELECT} FROM samples WHERE server_id = ? AND ts >= ? AND ts < ? ORDER BY ts`,
        )
        .raw(true),
      listServers: db.prepare(`
        SELECT s.id, s.name, s.profile, s.first_seen, s.last_seen, x.state
        FROM servers s LEFT JOIN samples x ON x.server_id = s.id AND x.ts = s.last_seen
        ORDER BY s.name`),
      summary: db.prepare(
        'SELECT count(*) AS total, sum(last_seen >= ?) AS reporting, max(last_seen) AS newest FROM servers',
      ),
    };
  }

  /** Ingests a batch; when it returns, every accepted row is durable. Throws IngestError on I/O failure. */
  ingest(batch: SampleColumns, opts: IngestOptions): IngestReport {
    const steps = this.ingestSteps(batch, opts);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /** The same ingest, one committed chunk per step: for callers that report progress or yield between chunks. */
  ingestSteps(batch: SampleColumns, opts: IngestOptions): Generator<IngestProgress, IngestReport, void> {
    return this.writable().run(batch, opts);
  }

  /**
   * Ingest on the calling thread that gives the event loop a turn after every chunk, so a big
   * batch blocks it for one chunk at a time (10k rows: ~40 ms here, more when that commit also
   * runs a WAL checkpoint). StoreWorker takes it off the thread altogether.
   */
  async ingestYielding(
    batch: SampleColumns,
    opts: IngestOptions & { onProgress?: (p: IngestProgress) => void },
  ): Promise<IngestReport> {
    const steps = this.ingestSteps(batch, opts);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      opts.onProgress?.(step.value);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** One server's samples with fromMs <= ts < toMs, ordered by ts. Unknown server: an empty batch. */
  querySamples(serverName: string, fromMs: number, toMs: number): SampleColumns {
    const id = this.idIfStored(serverName);
    if (id === null) return allocateColumns(0);
    const rows = this.stmts.range.all(id, fromMs, toMs);
    const out = allocateColumns(rows.length);
    rows.forEach((row, i) => {
      out.server[i] = serverName;
      out.timestamp[i] = row[0] as number;
      decodeRow(row, 1, out, i);
    });
    return out;
  }

  /**
   * The whole fleet's last `steps` grid points ending at `endMs` (aligned down to the grid;
   * default: the newest sample in the store), sorted by server name then ts. Only servers with a
   * sample in the window appear; gaps stay gaps unless `dense` asks for all-missing rows in them.
   * Repeated calls re-read only what can still change (FleetWindowCache).
   */
  latestWindow(steps: number, endMs?: number, options: LatestWindowOptions = {}): SampleColumns {
    if (!Number.isSafeInteger(steps) || steps < 1)
      throw new RangeError(`${this.file}: latestWindow steps must be a positive integer, got ${steps}`);
    let cache = this.windowCaches.get(steps);
    if (cache) {
      this.windowCaches.delete(steps);
    } else {
      cache = new FleetWindowCache(this.db, this.settings.outOfOrderWindowMs);
      if (this.windowCaches.size >= WINDOW_CACHES) this.windowCaches.delete(this.windowCaches.keys().next().value!);
    }
    this.windowCaches.set(steps, cache);
    return cache.read(steps, endMs, options.dense ?? false);
  }

  /** Frees the rows latestWindow keeps between calls; the next call reads the whole window again. */
  dropWindowCache(): void {
    this.windowCaches.clear();
  }

  listServers(): StoredServer[] {
    return this.stmts.listServers.all().map((r) => ({
      id: r.id,
      name: r.name,
      profile: r.profile as Profile,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      state: r.state === null ? null : (STATE_CODES[r.state] ?? null),
    }));
  }

  fleetSummary(nowMs: number): FleetSummary {
    const row = this.stmts.summary.get(nowMs - REPORTING_WINDOW_MS)!;
    return { serversTotal: row.total, serversReporting: row.reporting ?? 0, newestSampleTs: row.newest };
  }

  insertIncidents(incidents: readonly Incident[]): number {
    this.writable();
    return this.incidents.insert(incidents);
  }

  listIncidents(query: IncidentQuery = {}): Incident[] {
    return this.incidents.list(query);
  }

  /** Deletes samples and predictions with ts < olderThanMs, at most `chunkRows` rows per transaction. */
  applyRetention(olderThanMs: number, options: { chunkRows?: number } = {}): RetentionReport {
    const steps = this.retentionSteps(olderThanMs, options);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /** Retention one transaction per step, so a caller (the worker) can yield or report between them. */
  *retentionSteps(
    olderThanMs: number,
    options: { chunkRows?: number } = {},
  ): Generator<RetentionReport, RetentionReport, void> {
    this.writable();
    const chunkRows = positiveInt(options.chunkRows, 20_000, this.file, 'chunkRows');
    const report: RetentionReport = { cutoffMs: olderThanMs, samplesDeleted: 0, predictionsDeleted: 0, chunks: 0 };
    const deleteSamples = this.db.prepare<[number, number, number, number]>(
      'DELETE FROM samples WHERE server_id = ? AND ts IN (SELECT ts FROM samples WHERE server_id = ? AND ts < ? ORDER BY ts LIMIT ?)',
    );
    const bumpEpoch = this.db.prepare<[string]>(
      "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
    );
    const deletePredictions = this.db.prepare<[number, number]>(
      'DELETE FROM predictions WHERE (server_id, ts, model) IN (SELECT server_id, ts, model FROM predictions WHERE ts < ? LIMIT ?)',
    );
    for (const { id } of this.db.prepare<[], { id: number }>('SELECT id FROM servers ORDER BY id').all()) {
      for (;;) {
        const deleted = this.db
          .transaction(() => {
            const changes = deleteSamples.run(id, id, olderThanMs, chunkRows).changes;
            if (changes > 0) bumpEpoch.run(META_RETENTION_EPOCH);
            return changes;
          })
          .immediate();
        if (deleted === 0) break;
        report.samplesDeleted += deleted;
        report.chunks++;
        yield { ...report };
        if (deleted < chunkRows) break;
      }
    }
    for (;;) {
      const deleted = this.db.transaction(() => deletePredictions.run(olderThanMs, chunkRows).changes).immediate();
      if (deleted === 0) break;
      report.predictionsDeleted += deleted;
      report.chunks++;
      yield { ...report };
      if (deleted < chunkRows) break;
    }
    return report;
  }

  /** Copies the WAL into the database file; TRUNCATE also shrinks the WAL back to zero bytes. */
  checkpoint(mode: 'PASSIVE' | 'FULL' | 'RESTART' | 'TRUNCATE' = 'TRUNCATE'): CheckpointResult {
    const [row] = this.db.pragma(`wal_checkpoint(${mode})`) as { busy: number; log: number; checkpointed: number }[];
    return { busy: row?.busy === 1, walFrames: row?.log ?? 0, checkpointedFrames: row?.checkpointed ?? 0 };
  }

  /** Rejections counted since the store was created, by reason. */
  rejectionCounters(): Record<RejectReason, number> {
    const out = { conflict: 0, out_of_order: 0, future: 0, invalid: 0 } satisfies Record<RejectReason, number>;
    for (const row of this.db
      .prepare<[], { reason: string; count: number }>('SELECT reason, count FROM ingest_rejections')
      .all()) {
      if ((REJECT_REASONS as readonly string[]).includes(row.reason)) out[row.reason as RejectReason] = row.count;
    }
    return out;
  }

  /** The newest rejection details, newest first. */
  recentRejections(limit = 100): RejectionLogEntry[] {
    return this.db
      .prepare<[number], Omit<RejectionLogEntry, 'timestamp' | 'row'> & { ts: number | null; row_index: number }>(
        'SELECT at, server, ts, row_index, field, reason, message FROM ingest_rejection_log ORDER BY id DESC LIMIT ?',
      )
      .all(limit)
      .map(({ ts, row_index, ...rest }) => ({ ...rest, timestamp: ts, row: row_index }));
  }

  /** `PRAGMA integrity_check`: ['ok'] for a sound file, otherwise the problems found. */
  /** A value other parts of the core keep with the data (the simulator's fleet record); null when unset. */
  getMeta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  integrityCheck(): string[] {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.db.readonly) {
      try {
        this.db.pragma('optimize');
      } catch {
        // Planner statistics are an optimisation; closing must not fail for them.
      }
    }
    this.db.close();
  }

  private writable(): SampleIngestor {
    if (!this.ingestor) throw new StoreError('open_failed', this.file, 'the store is open read-only');
    return this.ingestor;
  }

  /** The server's id if it is stored under this name (a colliding other name is not it). */
  private idIfStored(name: string): number | null {
    if (typeof name !== 'string' || name.length === 0) return null;
    const id = serverId(name);
    return this.stmts.serverName.get(id)?.name === name ? id : null;
  }
}

function positiveInt(value: number | undefined, fallback: number, file: string, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${file}: ${what} must be a positive integer, got ${value}`);
  return value;
}
