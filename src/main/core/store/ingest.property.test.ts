import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricName, ServerState } from '@shared/contract';
import type { SampleRow } from '@shared/domain';
import { columnsToRows, rowsToColumns } from '../metrics/columns';
import { openStore } from './metrics-store';
import { ReferenceStore } from './testing/reference-model';
import { MIN, STEP, T0, tempDir } from './testing/fixtures';

// Random sequences of batches, built to collide: few servers, a few hours of grid, values from a
// small set rich in NaN/±Inf/-0/missing and out-of-range numbers, a clock that moves forward.
const SERVERS = ['web01', 'ppdb001', 'ml-7', 'x', '-bad', ''];
const VALID_SERVERS = SERVERS.slice(0, 4);
const METRICS: MetricName[] = ['cpu_percent', 'error_rate', 'load_average'];
const VALUES = [0, -0, 0.5, 1, NaN, Infinity, -Infinity, 1e-300];
/** Out of range for some of METRICS (error_rate <= 1, percentages <= 100, nothing negative). */
const BAD_VALUES = [42, 150, -1];
const STATES: (ServerState | null)[] = [null, 'healthy', 'offline'];

// Mostly valid rows, so that runs of 32 accepted rows (one multi-row INSERT) are common.
const cell = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 12, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_VALUES) },
);
const server = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(...VALID_SERVERS) },
  { weight: 1, arbitrary: fc.constantFrom(...SERVERS) },
);
const state = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(...STATES) },
  { weight: 1, arbitrary: fc.constant('bogus' as ServerState) },
);
// Steps are offsets from a per-batch base: mostly within the hour-long out-of-order window of
// each other, so INSERT groups fill up, with enough spread for out_of_order and future rows.
const row = fc.record({
  server,
  step: fc.integer({ min: -16, max: 16 }),
  offGrid: fc.oneof({ weight: 40, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }),
  state,
  cells: fc.tuple(cell, cell, cell),
});
// Up to 70 rows: more than one 32-row INSERT group, so groups that hit a stored key are exercised.
const batch = fc.record({
  baseStep: fc.integer({ min: 16, max: 48 }),
  clockStep: fc.integer({ min: -4, max: 16 }),
  rows: fc.array(row, { maxLength: 70 }),
});
// Resending earlier rows verbatim is what produces duplicates; the generator repeats some.
const scenario = fc.array(fc.tuple(batch, fc.boolean()), { minLength: 1, maxLength: 8 });

function toRows(
  baseStep: number,
  rows: { server: string; step: number; offGrid: number; state: ServerState | null; cells: (number | undefined)[] }[],
): SampleRow[] {
  return rows.map((r) => {
    const metrics: SampleRow['metrics'] = {};
    METRICS.forEach((m, k) => {
      const v = r.cells[k];
      if (v !== undefined) metrics[m] = v;
    });
    return { server: r.server, timestamp: T0 + (baseStep + r.step) * STEP + r.offGrid * 7, state: r.state, metrics };
  });
}

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('tftmp-store-prop-');
});
afterAll(() => tmp.remove());

describe('ingest against the reference model', () => {
  it('stores exactly what the model accepts and counts exactly what it counts', () => {
    let run = 0;
    const seen = { accepted: 0, duplicates: 0, conflict: 0, out_of_order: 0, future: 0, invalid: 0 };
    fc.assert(
      fc.property(
        scenario,
        fc.constantFrom(1, 7, 50, 10_000),
        fc.constantFrom(1, 3, 32),
        (batches, chunkRows, insertGroupRows) => {
          // Small chunks make the newest-per-server state cross transaction boundaries; small
          // INSERT groups fill (and hit stored keys) more often than the default 32.
          const store = openStore(tmp.file(`run-${run++}.db`), {
            chunkRows,
            insertGroupRows,
            maxRejectionDetails: 1_000,
          });
          const model = new ReferenceStore();
          const totals = { conflict: 0, out_of_order: 0, future: 0, invalid: 0 };
          let previous: SampleRow[] = [];
          try {
            for (const [b, resend] of batches) {
              const rows = [...toRows(b.baseStep, b.rows), ...(resend ? previous : [])];
              const now = T0 + (b.baseStep + b.clockStep) * STEP - 3 * MIN;
              const expected = model.ingest(rows, now);
              const report = store.ingest(rowsToColumns(rows), { now });
              expect({ accepted: report.accepted, duplicates: report.duplicates, rejected: report.rejected }).toEqual({
                accepted: expected.accepted,
                duplicates: expected.duplicates,
                rejected: expected.rejected,
              });
              expect(report.rejections.map((r) => ({ row: r.row, reason: r.reason, field: r.field }))).toEqual(
                expected.rejections,
              );
              for (const reason of Object.keys(totals) as (keyof typeof totals)[]) {
                totals[reason] += expected.rejected[reason];
                seen[reason] += expected.rejected[reason];
              }
              seen.accepted += expected.accepted;
              seen.duplicates += expected.duplicates;
              previous = rows;
            }
            for (const server of SERVERS) {
              expect(columnsToRows(store.querySamples(server, 0, Number.MAX_SAFE_INTEGER))).toEqual(
                model.rowsOf(server),
              );
            }
            expect(store.rejectionCounters()).toEqual(totals);
            expect(store.listServers().map((s) => s.name)).toEqual([...model.series.keys()].sort());
          } finally {
            store.close();
          }
        },
      ),
      { numRuns: 100 },
    );
    // The generator must actually reach every outcome, or the property proves less than it says.
    for (const [outcome, count] of Object.entries(seen)) expect(count, outcome).toBeGreaterThan(0);
  }, 120_000);
});
