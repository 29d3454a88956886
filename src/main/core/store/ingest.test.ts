import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { columnsToRows } from '../metrics/columns';
import { IngestError } from './ingest';
import { openStore, type MetricsStore } from './metrics-store';
import { MIN, STEP, T0, batchOf, sample, tempDir } from './testing/fixtures';
import { fleetBatch } from './testing/fleet-batch';

let tmp: ReturnType<typeof tempDir>;
let store: MetricsStore;
const now = T0 + 60 * MIN;

beforeEach(() => {
  tmp = tempDir();
  store = openStore(tmp.file());
});
afterEach(() => {
  store.close();
  tmp.remove();
});

describe('ingest semantics', () => {
  it('accepts new rows, and an identical re-send is a counted no-op', () => {
    const batch = batchOf(
      sample('web01', T0, { cpu_percent: 12.5, memory_percent: NaN }, 'healthy'),
      sample('web01', T0 + STEP, { cpu_percent: Infinity }),
    );
    expect(store.ingest(batch, { now })).toMatchObject({
      rows: 2,
      accepted: 2,
      duplicates: 0,
      serversCreated: 1,
      committedRows: 2,
    });
    const again = store.ingest(batch, { now });
    expect(again).toMatchObject({
      accepted: 0,
      duplicates: 2,
      rejected: { conflict: 0, out_of_order: 0, future: 0, invalid: 0 },
    });
  });

  it('rejects another value at a stored timestamp as a conflict, naming the field', () => {
    store.ingest(batchOf(sample('db01', T0, { cpu_percent: 10, disk_percent: 50 })), { now });
    const report = store.ingest(batchOf(sample('db01', T0, { cpu_percent: 10, disk_percent: 51 })), { now });
    expect(report.rejected.conflict).toBe(1);
    expect(report.rejections[0]).toMatchObject({
      row: 0,
      server: 'db01',
      timestamp: T0,
      field: 'disk_percent',
      reason: 'conflict',
    });
    expect(store.querySamples('db01', T0, T0 + 1).metrics.disk_percent.values[0]).toBe(50);
  });

  it.each([
    ['NaN vs missing', { cpu_percent: NaN }, {}, 'cpu_percent'],
    ['-0 vs 0', { cpu_percent: -0 }, { cpu_percent: 0 }, 'cpu_percent'],
    ['Inf vs -Inf', { load_average: Infinity }, { load_average: -Infinity }, 'load_average'],
  ] as const)('keeps %s distinct: a conflict, not a duplicate', (_what, first, second, field) => {
    store.ingest(batchOf(sample('ml01', T0, first)), { now });
    const report = store.ingest(batchOf(sample('ml01', T0, second)), { now });
    expect(report.rejections.map((r) => [r.reason, r.field])).toEqual([['conflict', field]]);
  });

  it('treats a different state as a conflict', () => {
    store.ingest(batchOf(sample('ml01', T0, { cpu_percent: 1 }, 'healthy')), { now });
    expect(store.ingest(batchOf(sample('ml01', T0, { cpu_percent: 1 }, 'offline')), { now }).rejections[0]?.field).toBe(
      'state',
    );
  });

  it("rejects rows more than an hour before the server's newest sample, per server", () => {
    store.ingest(batchOf(sample('web01', T0 + 120 * MIN), sample('web02', T0)), { now: T0 + 120 * MIN });
    const report = store.ingest(
      batchOf(
        sample('web01', T0 + 60 * MIN), // exactly the window: accepted
        sample('web01', T0 + 55 * MIN), // beyond it
        sample('web02', T0 - 55 * MIN), // web02's newest is T0: within its own window
      ),
      { now: T0 + 120 * MIN },
    );
    expect(report).toMatchObject({ accepted: 2, rejected: { out_of_order: 1 } });
    expect(report.rejections[0]).toMatchObject({ row: 1, field: 'timestamp', reason: 'out_of_order' });
  });

  it('counts an identical old row as a duplicate even beyond the window (re-imports stay idempotent)', () => {
    store.ingest(batchOf(sample('web01', T0), sample('web01', T0 + 300 * MIN)), { now: T0 + 300 * MIN });
    const report = store.ingest(batchOf(sample('web01', T0)), { now: T0 + 300 * MIN });
    expect(report).toMatchObject({ duplicates: 1, rejected: { out_of_order: 0 } });
  });

  it('rejects rows more than 10 minutes after now, and takes exactly 10', () => {
    const report = store.ingest(batchOf(sample('web01', now + 10 * MIN), sample('web01', now + 15 * MIN)), { now });
    expect(report).toMatchObject({ accepted: 1, rejected: { future: 1 } });
    expect(report.rejections[0]).toMatchObject({ row: 1, field: 'timestamp', reason: 'future' });
  });

  it('rejects contract violations with the row and field, and keeps NaN/Inf exempt from ranges', () => {
    const bad = batchOf(
      sample('-bad name', T0),
      sample('web01', T0 + 1000),
      sample('web01', T0, { cpu_percent: 100.5 }),
      sample('web01', T0, { error_rate: -0.1 }),
      sample('web01', T0, { cpu_percent: NaN, error_rate: Infinity, latency_ms: -Infinity }),
    );
    bad.state[1] = 'sleeping' as never;
    const report = store.ingest(bad, { now });
    expect(report.accepted).toBe(1);
    expect(report.rejections.map((r) => [r.row, r.field, r.reason])).toEqual([
      [0, 'server', 'invalid'],
      [1, 'timestamp', 'invalid'],
      [2, 'cpu_percent', 'invalid'],
      [3, 'error_rate', 'invalid'],
    ]);
    expect(report.rejections[2]!.message).toMatch(/row 2 .*cpu_percent = 100.5 is outside \[0, 100\]/);
  });

  it('keeps gaps as gaps: nothing is filled between two samples', () => {
    store.ingest(batchOf(sample('web01', T0), sample('web01', T0 + 6 * STEP)), { now });
    expect([...store.querySamples('web01', T0, T0 + 7 * STEP).timestamp]).toEqual([T0, T0 + 6 * STEP]);
  });

  it('decides a row against earlier rows of the same batch that are still waiting to be written', () => {
    const report = store.ingest(
      batchOf(
        sample('web01', T0, { cpu_percent: 1 }),
        sample('web01', T0 + 120 * MIN),
        sample('web01', T0, { cpu_percent: 1 }), // now beyond the window, but identical to row 0
        sample('web01', T0, { cpu_percent: 2 }),
        sample('web01', T0 + 5 * MIN),
      ),
      { now: T0 + 120 * MIN },
    );
    expect(report).toMatchObject({ accepted: 2, duplicates: 1, rejected: { conflict: 1, out_of_order: 1 } });
    expect(report.rejections.map((r) => [r.row, r.reason])).toEqual([
      [3, 'conflict'],
      [4, 'out_of_order'],
    ]);
  });

  it('finds the stored keys inside a multi-row INSERT group, accepts the rest, and reports in row order', () => {
    // 8 servers x 8 steps: all within the out-of-order window, so every row goes through a group.
    const rows = Array.from({ length: 64 }, (_, k) =>
      sample(`db0${k % 8}`, T0 + Math.floor(k / 8) * STEP, { cpu_percent: k }),
    );
    store.ingest(batchOf(...rows), { now: T0 + 80 * STEP });
    const resend = rows.map((r) => ({ ...r, metrics: { ...r.metrics } }));
    resend[5]!.metrics.cpu_percent = 99;
    resend[7]!.timestamp += 1;
    resend[40]!.metrics.memory_percent = 3;
    const fresh = Array.from({ length: 10 }, (_, k) => sample('db01', T0 + (8 + k) * STEP));
    const report = store.ingest(batchOf(...resend, ...fresh), { now: T0 + 80 * STEP });
    expect(report).toMatchObject({ accepted: 10, duplicates: 61, rejected: { conflict: 2, invalid: 1 } });
    expect(report.rejections.map((r) => [r.row, r.reason, r.field])).toEqual([
      [5, 'conflict', 'cpu_percent'],
      [7, 'invalid', 'timestamp'],
      [40, 'conflict', 'memory_percent'],
    ]);
    expect(store.querySamples('db01', 0, Infinity).length).toBe(18);
  });

  it('caps the details it reports and returns them in row order, counting all', () => {
    const rows = Array.from({ length: 50 }, (_, i) => sample('web01', T0 + i * STEP + 1));
    const report = store.ingest(batchOf(...rows), { now: T0 + 100 * STEP });
    expect(report.rejected.invalid).toBe(50);
    expect(report.rejections.map((r) => r.row)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(store.rejectionCounters().invalid).toBe(50);
    expect(store.recentRejections(5)).toHaveLength(5);
  });

  it('infers profiles from names, and takes given ones (also for an existing server)', () => {
    store.ingest(batchOf(sample('ppdb001', T0), sample('zeta', T0)), { now, profiles: { zeta: 'risk_analytics' } });
    store.ingest(batchOf(sample('ppdb001', T0 + STEP)), { now, profiles: { ppdb001: 'generic' } });
    expect(store.listServers().map((s) => [s.name, s.profile])).toEqual([
      ['ppdb001', 'generic'],
      ['zeta', 'risk_analytics'],
    ]);
  });

  it('refuses a malformed batch as a whole, naming the file and the column', () => {
    const batch = batchOf(sample('web01', T0));
    batch.metrics.cpu_percent.values = new Float64Array(0);
    expect(() => store.ingest(batch, { now })).toThrow(
      new RegExp(`${tmp.file().replace(/[/\\.]/g, '\\$&')}: .*metric cpu_percent`),
    );
    expect(() =>
      store.ingest(batchOf(sample('web01', T0)), { now, profiles: { web01: 'mainframe' as never } }),
    ).toThrow(/profile "mainframe"/);
  });

  it('commits chunk by chunk and says which rows are durable when a later chunk fails', () => {
    store.close();
    store = openStore(tmp.file(), { chunkRows: 1_000 });
    const batch = fleetBatch({ servers: 10, steps: 400, start: T0 });
    // A hard page limit makes SQLite fail mid-ingest with "database or disk is full", like a full disk.
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    store.db.pragma(`max_page_count = ${pages + 60}`);
    let error: unknown;
    try {
      store.ingest(batch, { now: T0 + 400 * STEP });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IngestError);
    const { report, failedChunk } = error as IngestError;
    expect(report.committedRows).toBeGreaterThan(0);
    expect(failedChunk).toEqual({ start: report.committedRows, end: report.committedRows + 1_000 });
    expect((error as Error).message).toContain(tmp.file());
    // Exactly the committed chunks' rows are there: the failed chunk left nothing behind.
    store.close();
    store = openStore(tmp.file());
    const stored = store.latestWindow(400, T0 + 399 * STEP);
    expect(stored.length).toBe(report.accepted);
    expect(stored.length).toBe(report.committedRows);
  });

  it('makes accepted rows durable: they are there after reopening the file', () => {
    const batch = batchOf(
      sample('web01', T0, { cpu_percent: -0, memory_percent: NaN, disk_percent: Infinity }, 'recovery'),
    );
    store.ingest(batch, { now });
    store.close();
    store = openStore(tmp.file());
    const [row] = columnsToRows(store.querySamples('web01', T0, T0 + STEP));
    expect(Object.is(row!.metrics.cpu_percent, -0)).toBe(true);
    expect(row).toEqual(columnsToRows(batch)[0]);
  });
});
