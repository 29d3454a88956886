import { statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATA_CONTRACT_VERSION, METRIC_NAMES, SERVER_STATES } from '@shared/contract';
import type { Incident, SampleRow } from '@shared/domain';
import { columnsToRows } from '../metrics/columns';
import { serverId } from '../metrics/server-encoding';
import { LATEST_SCHEMA_VERSION } from './migrations';
import { StoreError, openStore, type MetricsStore } from './metrics-store';
import { SAMPLE_METRIC_COLUMNS, STATE_CODES } from './schema';
import { MIN, STEP, T0, batchOf, sample, tempDir } from './testing/fixtures';
import { fleetBatch } from './testing/fleet-batch';

let tmp: ReturnType<typeof tempDir>;
let store: MetricsStore;
const now = T0 + 24 * 60 * MIN;

beforeEach(() => {
  tmp = tempDir();
  store = openStore(tmp.file());
});
afterEach(() => {
  store.close();
  tmp.remove();
});

describe('openStore', () => {
  it('sets up WAL, synchronous=FULL, foreign keys, a busy timeout, the schema and the contract version', () => {
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(store.db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(store.db.prepare("SELECT value FROM meta WHERE key = 'data_contract_version'").get()).toEqual({
      value: DATA_CONTRACT_VERSION,
    });
  });

  it('keeps the layout constants in step with the contract (a new metric or state needs a migration)', () => {
    expect([...SAMPLE_METRIC_COLUMNS].sort()).toEqual([...METRIC_NAMES].sort());
    expect([...STATE_CODES].sort()).toEqual([...SERVER_STATES].sort());
  });

  it('refuses a store of another major contract version, naming the file, and leaves it untouched', () => {
    store.db.prepare("UPDATE meta SET value = '2.0.0' WHERE key = 'data_contract_version'").run();
    store.close();
    const before = statSync(tmp.file()).mtimeMs;
    let error: unknown;
    try {
      openStore(tmp.file());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'contract_mismatch', file: tmp.file() });
    expect((error as Error).message).toContain(`${tmp.file()}: was written under data contract 2.0.0`);
    expect(statSync(tmp.file()).mtimeMs).toBe(before);
    store = openStore(tmp.file('other.db'));
  });

  it('accepts a store of another minor contract version', () => {
    store.db.prepare("UPDATE meta SET value = '1.7.0' WHERE key = 'data_contract_version'").run();
    store.close();
    store = openStore(tmp.file());
    expect(store.listServers()).toEqual([]);
  });

  it('refuses files that are not metrics stores, naming them', () => {
    store.close();
    writeFileSync(
      tmp.file('notes.db'),
      'this is not a database, just text that is long enough to have a header........'.repeat(10),
    );
    expect(() => openStore(tmp.file('notes.db'))).toThrow(tmp.file('notes.db'));
    const foreign = new Database(tmp.file('foreign.db'));
    foreign.exec('CREATE TABLE customers (id INTEGER)');
    foreign.close();
    expect(() => openStore(tmp.file('foreign.db'))).toThrow(
      expect.objectContaining({ code: 'not_a_store', file: tmp.file('foreign.db') }),
    );
    const newer = new Database(tmp.file('newer.db'));
    newer.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    newer.close();
    expect(() => openStore(tmp.file('newer.db'))).toThrow(expect.objectContaining({ code: 'schema_too_new' }));
    store = openStore(tmp.file());
  });

  it('opens read-only for queries, and refuses writes there with the file name', () => {
    store.ingest(batchOf(sample('web01', T0)), { now });
    const reader = openStore(tmp.file(), { readonly: true });
    try {
      expect(reader.querySamples('web01', T0, T0 + STEP).length).toBe(1);
      expect(() => reader.ingest(batchOf(sample('web01', T0 + STEP)), { now })).toThrow(
        `${tmp.file()}: the store is open read-only`,
      );
    } finally {
      reader.close();
    }
  });
});

describe('queries', () => {
  it('querySamples returns one server in ts order over [from, to), bit-exact', () => {
    const rows = [
      sample(
        'web01',
        T0 + 2 * STEP,
        { cpu_percent: -0, memory_percent: NaN, latency_ms: Infinity, network_in_mbps: 0.1 + 0.2 },
        'heavy_load',
      ),
      sample('web01', T0, { load_average: -Infinity }, null),
      sample('web01', T0 + STEP, {}, 'offline'),
      sample('web02', T0, { cpu_percent: 1 }),
    ];
    store.ingest(batchOf(...rows), { now });
    const got = store.querySamples('web01', T0, T0 + 3 * STEP);
    expect([...got.timestamp]).toEqual([T0, T0 + STEP, T0 + 2 * STEP]);
    expect(columnsToRows(got)).toEqual([rows[1], rows[2], rows[0]]);
    expect(Object.is(got.metrics.cpu_percent.values[2], -0)).toBe(true);
    expect(got.metrics.memory_percent.present[2]).toBe(1);
    expect(got.metrics.memory_percent.present[1]).toBe(0);
    expect(store.querySamples('web01', T0, T0 + STEP).length).toBe(1);
    expect(store.querySamples('nobody', 0, Infinity).length).toBe(0);
  });

  it('latestWindow covers the last n grid points of the fleet, sorted by server then ts, gaps kept', () => {
    store.ingest(
      batchOf(
        sample('web02', T0 + 3 * STEP),
        sample('web02', T0 + 1 * STEP),
        sample('db01', T0 + 3 * STEP, { cpu_percent: 7 }, 'idle'),
        sample('db01', T0),
        sample('old01', T0 - 50 * STEP),
      ),
      { now },
    );
    const w = store.latestWindow(3);
    expect(w.server.map((s, i) => [s, (w.timestamp[i]! - T0) / STEP])).toEqual([
      ['db01', 3],
      ['web02', 1],
      ['web02', 3],
    ]);
    const dense = store.latestWindow(3, undefined, { dense: true });
    expect(dense.server).toEqual(['db01', 'db01', 'db01', 'web02', 'web02', 'web02']);
    expect([...dense.metrics.cpu_percent.present]).toEqual([0, 0, 1, 1, 0, 1]);
    expect(dense.state[2]).toBe('idle');
    // endMs is aligned down to the grid; a window with nothing in it is empty.
    expect(store.latestWindow(2, T0 + STEP + 17).server).toEqual(['db01', 'web02']);
    expect(store.latestWindow(5, T0 - 1000 * STEP).length).toBe(0);
  });

  it('latestWindow is bit-exact: every metric and state, NaN, -0, ±Inf and missing as querySamples has them', () => {
    // Each metric cycles through special and ordinary values at its own phase, so every column
    // (and every bit of both masks) meets each of them somewhere.
    const specials = [NaN, -0, 0, Infinity, -Infinity, null, 0.1 + 0.2, 5e-324, 12.5];
    const rows: SampleRow[] = [];
    for (const server of ['db01', 'web02']) {
      for (let k = 0; k < 12; k++) {
        const metrics: SampleRow['metrics'] = {};
        SAMPLE_METRIC_COLUMNS.forEach((m, i) => {
          const v = specials[(k + i + server.length) % specials.length]!;
          // Only finite values have a range; keep them inside it (all ranges start at 0).
          metrics[m] = v === null || !Number.isFinite(v) || Object.is(v, -0) ? v : Math.min(Math.abs(v), 1);
        });
        const state = k % 3 === 0 ? null : SERVER_STATES[(k + server.length) % SERVER_STATES.length]!;
        if (server === 'web02' && k === 5) continue; // a gap stays a gap
        rows.push(sample(server, T0 + k * STEP, metrics, state));
      }
    }
    store.ingest(batchOf(...rows), { now });
    const expected = [
      ...columnsToRows(store.querySamples('db01', T0, T0 + 12 * STEP)),
      ...columnsToRows(store.querySamples('web02', T0, T0 + 12 * STEP)),
    ];
    expect(expected.length).toBe(23);
    const window = store.latestWindow(12);
    expect(columnsToRows(window)).toEqual(expected);
    for (const m of SAMPLE_METRIC_COLUMNS) {
      const col = window.metrics[m];
      window.server.forEach((server, i) => {
        const stored = rows.find((r) => r.server === server && r.timestamp === window.timestamp[i])!.metrics[m];
        if (stored === null || stored === undefined) expect(col.present[i]).toBe(0);
        else expect(Object.is(col.values[i], stored)).toBe(true);
      });
    }
    store.dropWindowCache();
    expect(columnsToRows(store.latestWindow(12))).toEqual(expected);
  });

  it("latestWindow never shows a server another server's rows, when windows move and servers come and go", () => {
    // zz9 leaves the window and its buffers are handed to the next server that needs one (aa0,
    // new, with one row); the window then moves back over zz9's old rows.
    const rows = (server: string, steps: number[]) =>
      steps.map((k) => sample(server, T0 + k * STEP, { cpu_percent: k }));
    store.ingest(batchOf(...rows('zz9', [0, 1, 2, 3, 4, 5]), ...rows('mm5', [20, 21, 22, 23, 24, 25])), { now });
    expect(store.latestWindow(5, T0 + 5 * STEP).server).toEqual(['zz9', 'zz9', 'zz9', 'zz9', 'zz9']);
    expect(store.latestWindow(5).server).toEqual(['mm5', 'mm5', 'mm5', 'mm5', 'mm5']);
    store.ingest(batchOf(...rows('aa0', [2])), { now });
    const back = columnsToRows(store.latestWindow(5, T0 + 5 * STEP));
    expect(back.map((r) => [r.server, (r.timestamp - T0) / STEP])).toEqual([
      ['aa0', 2],
      ['zz9', 1],
      ['zz9', 2],
      ['zz9', 3],
      ['zz9', 4],
      ['zz9', 5],
    ]);
    store.dropWindowCache();
    expect(columnsToRows(store.latestWindow(5, T0 + 5 * STEP))).toEqual(back);
  });

  it('the window-row SQL function only runs inside latestWindow', () => {
    store.ingest(batchOf(sample('web01', T0)), { now });
    store.latestWindow(3);
    expect(() =>
      store.db
        .prepare('SELECT tft_window_row(ts / 300000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0, NULL) FROM samples')
        .get(),
    ).toThrow(/only runs inside a window refresh/);
    expect(store.latestWindow(3).length).toBe(1);
  });

  it('latestWindow sees what changed since the last call, from this or another connection', () => {
    const start = T0;
    store.ingest(fleetBatch({ servers: 5, steps: 30, start }), { now: start + 40 * STEP });
    const first = store.latestWindow(24);
    expect(first.length).toBe(5 * 24);
    // Another connection (as the store worker has) fills a gap within the out-of-order window,
    // removes nothing, and adds the next step.
    const other = openStore(tmp.file());
    try {
      const gapRow = fleetBatch({ servers: 1, steps: 1, start: start + 25 * STEP, seed: 9 });
      store.db
        .prepare('DELETE FROM samples WHERE server_id = ? AND ts = ?')
        .run(serverId('ppweb0000'), start + 25 * STEP);
      expect(store.latestWindow(24).length).toBe(5 * 24 - 1);
      expect(other.ingest(gapRow, { now: start + 40 * STEP }).accepted).toBe(1);
      expect(
        other.ingest(fleetBatch({ servers: 5, steps: 1, start: start + 30 * STEP, seed: 3 }), {
          now: start + 40 * STEP,
        }).accepted,
      ).toBe(5);
    } finally {
      other.close();
    }
    const second = store.latestWindow(24);
    store.dropWindowCache();
    const cold = store.latestWindow(24);
    expect(columnsToRows(second)).toEqual(columnsToRows(cold));
    expect(second.length).toBe(5 * 24);
    expect(second.timestamp[23]).toBe(start + 30 * STEP);
  });

  it('latestWindow keeps windows of different lengths apart', () => {
    store.ingest(fleetBatch({ servers: 3, steps: 30, start: T0 }), { now });
    expect(store.latestWindow(24).length).toBe(72);
    expect(store.latestWindow(6).length).toBe(18);
    store.ingest(fleetBatch({ servers: 3, steps: 2, start: T0 + 30 * STEP, seed: 5 }), { now });
    const long = columnsToRows(store.latestWindow(24));
    const short = columnsToRows(store.latestWindow(6));
    store.dropWindowCache();
    expect(long).toEqual(columnsToRows(store.latestWindow(24)));
    expect(short).toEqual(columnsToRows(store.latestWindow(6)));
    expect(short.map((r) => r.timestamp).slice(0, 6)).toEqual(
      Array.from({ length: 6 }, (_, k) => T0 + (26 + k) * STEP),
    );
  });

  it('latestWindow forgets rows that retention deleted, also rows it would not re-read', () => {
    store.ingest(fleetBatch({ servers: 2, steps: 40, start: T0 }), { now });
    expect(store.latestWindow(24).length).toBe(48);
    // Steps 16..19 are in the window and older than the out-of-order hour: cached as final.
    const other = openStore(tmp.file());
    other.applyRetention(T0 + 20 * STEP);
    other.close();
    expect(store.latestWindow(24).length).toBe(40);
  });

  it('listServers gives profile, first/last seen and the newest state; fleetSummary counts who reports', () => {
    store.ingest(
      batchOf(
        sample('ppml0001', T0, {}, 'healthy'),
        sample('ppml0001', T0 + 10 * STEP, {}, 'critical_issue'),
        sample('web09', T0 + 2 * STEP),
      ),
      { now },
    );
    expect(store.listServers()).toEqual([
      {
        id: serverId('ppml0001'),
        name: 'ppml0001',
        profile: 'ml_compute',
        firstSeen: T0,
        lastSeen: T0 + 10 * STEP,
        state: 'critical_issue',
      },
      {
        id: serverId('web09'),
        name: 'web09',
        profile: 'web_api',
        firstSeen: T0 + 2 * STEP,
        lastSeen: T0 + 2 * STEP,
        state: null,
      },
    ]);
    expect(store.fleetSummary(T0 + 12 * STEP)).toEqual({
      serversTotal: 2,
      serversReporting: 1,
      newestSampleTs: T0 + 10 * STEP,
    });
    expect(store.fleetSummary(T0 + 100 * STEP).serversReporting).toBe(0);
  });

  it('an empty store answers every query with empty results', () => {
    expect(store.latestWindow(288).length).toBe(0);
    expect(store.listServers()).toEqual([]);
    expect(store.fleetSummary(now)).toEqual({ serversTotal: 0, serversReporting: 0, newestSampleTs: null });
  });
});

describe('incidents', () => {
  const incident = (id: string, server: string, onset: number, end: number): Incident => ({
    id,
    server,
    type: 'memory_leak',
    onset,
    end,
    precursor: true,
    precursorStart: onset - 60 * MIN,
    metric: 'memory_percent',
    cause: null,
  });

  it('inserts (replacing by id) and lists by overlapping time range and server', () => {
    const a = incident('a', 'web01', T0, T0 + 60 * MIN);
    const b = {
      ...incident('b', 'db01', T0 + 120 * MIN, T0 + 180 * MIN),
      type: 'cascading_failure' as const,
      cause: 'web01',
      precursor: false,
      precursorStart: null,
    };
    expect(store.insertIncidents([a, b])).toBe(2);
    expect(store.listIncidents()).toEqual([a, b]);
    expect(store.listIncidents({ fromMs: T0 + 30 * MIN, toMs: T0 + 90 * MIN })).toEqual([a]);
    expect(store.listIncidents({ server: 'db01' })).toEqual([b]);
    store.insertIncidents([{ ...a, end: T0 + 90 * MIN }]);
    expect(store.listIncidents({ server: 'web01' })[0]!.end).toBe(T0 + 90 * MIN);
  });

  it('rejects a bad incident with its index and field, writing none of the batch', () => {
    expect(() =>
      store.insertIncidents([incident('ok', 'web01', T0, T0 + 1), incident('bad', 'web01', T0, T0 - 1)]),
    ).toThrow(`${tmp.file()}: incident 1 ("bad"): end:`);
    expect(store.listIncidents()).toEqual([]);
  });
});

describe('maintenance', () => {
  it('applyRetention deletes samples and predictions older than the cut-off in bounded chunks', () => {
    store.ingest(fleetBatch({ servers: 3, steps: 100, start: T0 }), { now: T0 + 100 * STEP });
    const insertPrediction = store.db.prepare(
      "INSERT INTO predictions (server_id, ts, model, risk) VALUES (?, ?, 'm', 0.5)",
    );
    for (let k = 0; k < 50; k++) insertPrediction.run(serverId('ppweb0000'), T0 + k * STEP);
    const report = store.applyRetention(T0 + 40 * STEP, { chunkRows: 15 });
    expect(report).toEqual({
      cutoffMs: T0 + 40 * STEP,
      samplesDeleted: 120,
      predictionsDeleted: 40,
      chunks: 3 * 3 + 3,
    });
    expect(store.querySamples('ppweb0001', 0, Infinity).timestamp[0]).toBe(T0 + 40 * STEP);
    expect(store.db.prepare('SELECT count(*) AS n FROM predictions').get()).toEqual({ n: 10 });
    // first/last seen are history: retention does not rewrite them.
    expect(store.listServers()[0]!.firstSeen).toBe(T0);
  });

  it('checkpoint moves the WAL into the database and truncates it', () => {
    store.ingest(fleetBatch({ servers: 5, steps: 50, start: T0 }), { now: T0 + 50 * STEP });
    expect(statSync(`${tmp.file()}-wal`).size).toBeGreaterThan(0);
    const result = store.checkpoint();
    expect(result.busy).toBe(false);
    expect(statSync(`${tmp.file()}-wal`).size).toBe(0);
    expect(store.integrityCheck()).toEqual(['ok']);
  });
});
