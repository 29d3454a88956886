import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SampleRow } from '@shared/domain';
import { columnsToRows, rowsToColumns } from '../metrics/columns';
import { openStore } from './metrics-store';
import { STEP, T0, tempDir } from './testing/fixtures';

// The incremental window must always equal a cold read: random interleavings of ingest (from
// this connection and another), window reads of a few lengths and end times, and retention.
const SERVERS = ['a1', 'b2', 'c3'];
const op = fc.oneof(
  fc.record({
    kind: fc.constant('ingest' as const),
    other: fc.boolean(),
    rows: fc.array(
      fc.record({
        server: fc.constantFrom(...SERVERS),
        step: fc.integer({ min: 0, max: 60 }),
        v: fc.constantFrom(1, 2, NaN, -0),
      }),
      { maxLength: 6 },
    ),
  }),
  fc.record({
    kind: fc.constant('window' as const),
    steps: fc.constantFrom(1, 5, 12, 24),
    // Mostly the default end (the newest sample): the case the cache serves from memory.
    end: fc.oneof(
      { weight: 3, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 45 }) },
    ),
    dense: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('retention' as const), step: fc.integer({ min: 0, max: 40 }) }),
);

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('tftmp-window-prop-');
});
afterAll(() => tmp.remove());

it('latestWindow with its cache equals a cold read, whatever happened in between', () => {
  let run = 0;
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), (ops) => {
      const file = tmp.file(`w-${run++}.db`);
      const cached = openStore(file);
      const other = openStore(file);
      try {
        for (const o of ops) {
          if (o.kind === 'ingest') {
            const rows: SampleRow[] = o.rows.map((r) => ({
              server: r.server,
              timestamp: T0 + r.step * STEP,
              state: null,
              metrics: { cpu_percent: r.v },
            }));
            (o.other ? other : cached).ingest(rowsToColumns(rows), { now: T0 + 100 * STEP });
          } else if (o.kind === 'retention') {
            other.applyRetention(T0 + o.step * STEP);
          } else {
            const end = o.end === null ? undefined : T0 + o.end * STEP;
            const got = columnsToRows(cached.latestWindow(o.steps, end, { dense: o.dense }));
            other.dropWindowCache();
            expect(got).toEqual(columnsToRows(other.latestWindow(o.steps, end, { dense: o.dense })));
          }
        }
      } finally {
        cached.close();
        other.close();
      }
    }),
    { numRuns: 100 },
  );
}, 120_000);
