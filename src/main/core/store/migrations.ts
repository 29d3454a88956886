import type Database from 'better-sqlite3';
import { SAMPLE_METRIC_COLUMNS } from './schema';

/**
 * Numbered schema migrations. `PRAGMA user_version` holds the number of the last one applied;
 * each runs in its own transaction together with the version bump, so a crash leaves the store
 * at one version or the next, never between. Never edit a shipped migration: add the next one.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'meta, servers and samples',
    up(db) {
      const metricColumns = SAMPLE_METRIC_COLUMNS.map((m) => `${m} REAL`).join(',\n          ');
      db.exec(`
        CREATE TABLE meta (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) WITHOUT ROWID;

        -- id is the stable 48-bit SHA-256 id (server-encoding.ts), never a sequence: the same
        -- server has the same id in every store, model and mapping file.
        -- first_seen / last_seen: oldest and newest accepted sample timestamps (epoch ms).
        CREATE TABLE servers (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          profile TEXT NOT NULL,
          first_seen INTEGER NOT NULL,
          last_seen INTEGER NOT NULL
        );

        -- SQLite stores NaN as NULL and -0 as 0, so both are kept in bitmasks (bit i =
        -- SAMPLE_METRIC_COLUMNS[i]): missing = NULL, NaN = NULL + nan bit, -0 = 0 + neg_zero bit.
        -- WITHOUT ROWID keeps each server's series contiguous in the primary key b-tree.
        CREATE TABLE samples (
          server_id INTEGER NOT NULL REFERENCES servers(id),
          ts INTEGER NOT NULL,
          ${metricColumns},
          nan_mask INTEGER NOT NULL DEFAULT 0,
          neg_zero_mask INTEGER NOT NULL DEFAULT 0,
          state INTEGER,
          PRIMARY KEY (server_id, ts)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    name: 'incidents',
    up(db) {
      // server is a name, not a key into servers: labels (simulator, imports) may arrive
      // before the server's first sample, and must survive sample retention.
      db.exec(`
        CREATE TABLE incidents (
          id TEXT PRIMARY KEY,
          server TEXT NOT NULL,
          type TEXT NOT NULL,
          onset INTEGER NOT NULL,
          end_ts INTEGER NOT NULL,
          precursor INTEGER NOT NULL CHECK (precursor IN (0, 1)),
          precursor_start INTEGER,
          metric TEXT NOT NULL,
          cause TEXT
        );
        CREATE INDEX incidents_by_onset ON incidents (onset);
        CREATE INDEX incidents_by_server ON incidents (server, onset);
      `);
    },
  },
  {
    version: 3,
    name: 'predictions and alerts',
    up(db) {
      db.exec(`
        CREATE TABLE predictions (
          server_id INTEGER NOT NULL REFERENCES servers(id),
          ts INTEGER NOT NULL,
          model TEXT NOT NULL,
          risk REAL NOT NULL,
          failure_mode TEXT,
          payload BLOB,
          PRIMARY KEY (server_id, ts, model)
        ) WITHOUT ROWID;
        CREATE INDEX predictions_by_ts ON predictions (ts);

        CREATE TABLE alerts (
          id INTEGER PRIMARY KEY,
          server_id INTEGER NOT NULL REFERENCES servers(id),
          severity TEXT NOT NULL,
          state TEXT NOT NULL,
          started_at INTEGER NOT NULL,
          ended_at INTEGER,
          acknowledged_at INTEGER,
          payload BLOB
        );
        CREATE INDEX alerts_by_state ON alerts (state, started_at);
        CREATE INDEX alerts_by_server ON alerts (server_id, started_at);
      `);
    },
  },
  {
    version: 4,
    name: 'ingest rejection counters and log',
    up(db) {
      // Counters survive restarts (an operator asks "how many rows did we refuse this week?");
      // the log keeps the most recent details only, so a flood of bad rows cannot bloat the file.
      db.exec(`
        CREATE TABLE ingest_rejections (
          reason TEXT PRIMARY KEY,
          count INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE ingest_rejection_log (
          id INTEGER PRIMARY KEY,
          at INTEGER NOT NULL,
          server TEXT NOT NULL,
          ts REAL,
          row_index INTEGER NOT NULL,
          field TEXT NOT NULL,
          reason TEXT NOT NULL,
          message TEXT NOT NULL
        );
      `);
    },
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings `db` up to `target` (default: latest). Refuses a store written by a newer build rather
 * than guess at tables it does not know. `file` only names the store in errors.
 */
export function migrate(
  db: Database.Database,
  file: string,
  target = LATEST_SCHEMA_VERSION,
  migrations: readonly Migration[] = MIGRATIONS,
): { from: number; to: number } {
  const from = schemaVersion(db);
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (from > latest) {
    throw new Error(
      `${file}: store schema version ${from} is newer than this build supports (${latest}); upgrade the app or use another store file`,
    );
  }
  for (const migration of migrations) {
    if (migration.version <= from || migration.version > target) continue;
    const apply = db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    });
    try {
      apply.immediate();
    } catch (error) {
      throw new Error(
        `${file}: schema migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
  return { from, to: schemaVersion(db) };
}
