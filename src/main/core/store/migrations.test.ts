import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate, schemaVersion, type Migration } from './migrations';
import { SAMPLE_METRIC_COLUMNS } from './schema';
import { T0, tempDir } from './testing/fixtures';

// One test per migration: migrate to the version before, write data, apply the migration, then
// check the schema change it makes and that the data written before it is intact.
let tmp: ReturnType<typeof tempDir>;
let db: Database.Database;
beforeEach(() => {
  tmp = tempDir('tftmp-migrations-');
  db = new Database(tmp.file());
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
});
afterEach(() => {
  db.close();
  tmp.remove();
});

const columns = (table: string): string[] =>
  (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
const indexes = (table: string): string[] =>
  (db.pragma(`index_list(${table})`) as { name: string; origin: string }[])
    .filter((i) => i.origin === 'c')
    .map((i) => i.name)
    .sort();
const isWithoutRowid = (table: string): boolean =>
  (db.pragma('table_list') as { name: string; wr: number }[]).find((t) => t.name === table)?.wr === 1;
const foreignKeys = (table: string): string[] =>
  (db.pragma(`foreign_key_list(${table})`) as { table: string; from: string }[]).map((f) => `${f.from}->${f.table}`);

function seedServerAndSample(): void {
  db.prepare(
    "INSERT INTO servers (id, name, profile, first_seen, last_seen) VALUES (42, 'web01', 'web_api', ?, ?)",
  ).run(T0, T0);
  db.prepare('INSERT INTO samples (server_id, ts, cpu_percent, nan_mask) VALUES (42, ?, 12.5, 2)').run(T0);
}
function expectSeedIntact(): void {
  expect(db.prepare('SELECT name, profile FROM servers').all()).toEqual([{ name: 'web01', profile: 'web_api' }]);
  expect(db.prepare('SELECT server_id, ts, cpu_percent, memory_percent, nan_mask FROM samples').all()).toEqual([
    { server_id: 42, ts: T0, cpu_percent: 12.5, memory_percent: null, nan_mask: 2 },
  ]);
}

describe('migrations', () => {
  it('are numbered 1..n without gaps (a new one needs its own test below)', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual([1, 2, 3, 4]);
    expect(LATEST_SCHEMA_VERSION).toBe(4);
  });

  it('1: creates meta, servers and samples (a WITHOUT ROWID table keyed by server and ts, one REAL per metric, masks, state)', () => {
    expect(migrate(db, tmp.file(), 1)).toEqual({ from: 0, to: 1 });
    expect(columns('meta')).toEqual(['key', 'value']);
    expect(columns('servers')).toEqual(['id', 'name', 'profile', 'first_seen', 'last_seen']);
    expect(columns('samples')).toEqual([
      'server_id',
      'ts',
      ...SAMPLE_METRIC_COLUMNS,
      'nan_mask',
      'neg_zero_mask',
      'state',
    ]);
    expect(isWithoutRowid('samples')).toBe(true);
    expect(
      (db.pragma('table_info(samples)') as { name: string; pk: number }[]).filter((c) => c.pk > 0).map((c) => c.name),
    ).toEqual(['server_id', 'ts']);
    expect(foreignKeys('samples')).toEqual(['server_id->servers']);
    expect(() => db.prepare('INSERT INTO samples (server_id, ts) VALUES (1, 0)').run()).toThrow(/FOREIGN KEY/);
  });

  it('2: adds incidents with time and server indexes, keeping servers and samples', () => {
    migrate(db, tmp.file(), 1);
    seedServerAndSample();
    migrate(db, tmp.file(), 2);
    expect(columns('incidents')).toEqual([
      'id',
      'server',
      'type',
      'onset',
      'end_ts',
      'precursor',
      'precursor_start',
      'metric',
      'cause',
    ]);
    expect(indexes('incidents')).toEqual(['incidents_by_onset', 'incidents_by_server']);
    expectSeedIntact();
  });

  it('3: adds predictions and alerts referencing servers, keeping incidents and samples', () => {
    migrate(db, tmp.file(), 2);
    seedServerAndSample();
    db.prepare("INSERT INTO incidents VALUES ('i1', 'web01', 'disk_fill', ?, ?, 1, ?, 'disk_percent', NULL)").run(
      T0,
      T0 + 1,
      T0 - 1,
    );
    migrate(db, tmp.file(), 3);
    expect(columns('predictions')).toEqual(['server_id', 'ts', 'model', 'risk', 'failure_mode', 'payload']);
    expect(isWithoutRowid('predictions')).toBe(true);
    expect(columns('alerts')).toEqual([
      'id',
      'server_id',
      'severity',
      'state',
      'started_at',
      'ended_at',
      'acknowledged_at',
      'payload',
    ]);
    expect(foreignKeys('predictions')).toEqual(['server_id->servers']);
    expect(foreignKeys('alerts')).toEqual(['server_id->servers']);
    expect(indexes('alerts')).toEqual(['alerts_by_server', 'alerts_by_state']);
    expectSeedIntact();
    expect(db.prepare('SELECT id FROM incidents').all()).toEqual([{ id: 'i1' }]);
  });

  it('4: adds the rejection counters and the bounded rejection log, keeping everything before', () => {
    migrate(db, tmp.file(), 3);
    seedServerAndSample();
    db.prepare("INSERT INTO predictions VALUES (42, ?, 'm1', 0.25, 'memory_leak', NULL)").run(T0);
    migrate(db, tmp.file(), 4);
    expect(columns('ingest_rejections')).toEqual(['reason', 'count']);
    expect(columns('ingest_rejection_log')).toEqual([
      'id',
      'at',
      'server',
      'ts',
      'row_index',
      'field',
      'reason',
      'message',
    ]);
    expectSeedIntact();
    expect(db.prepare('SELECT risk FROM predictions').all()).toEqual([{ risk: 0.25 }]);
  });
});

describe('migrate', () => {
  it('is a no-op on a current store', () => {
    migrate(db, tmp.file());
    expect(migrate(db, tmp.file())).toEqual({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION });
  });

  it('refuses a store written by a newer build, naming the file', () => {
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    expect(() => migrate(db, tmp.file())).toThrow(
      `${tmp.file()}: store schema version ${LATEST_SCHEMA_VERSION + 1} is newer`,
    );
  });

  it('rolls a failing migration back whole, version included', () => {
    const broken: Migration[] = [
      ...MIGRATIONS.slice(0, 1),
      {
        version: 2,
        name: 'half done',
        up(d) {
          d.exec('CREATE TABLE half (x)');
          d.exec('CREATE TABLE samples (x)'); // already exists: fails after the first statement
        },
      },
    ];
    expect(() => migrate(db, tmp.file(), 2, broken)).toThrow(new RegExp(`schema migration 2 \\(half done\\) failed`));
    expect(schemaVersion(db)).toBe(1);
    expect(columns('half')).toEqual([]);
  });
});
