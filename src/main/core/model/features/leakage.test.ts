import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, STEP_MS } from '@shared/contract';
import { INCIDENT_TYPES, type Incident, type SampleColumns } from '@shared/domain';
import { allocateColumns, concatColumns } from '../../metrics/columns';
import { defaultFleet } from '../../metrics/simulator/fleet-sim';
import { generateFleet } from '../../metrics/simulator/generate';
import { buildDataset } from './dataset';
import { DEFAULT_FEATURE_SPEC as SPEC, type WindowBatch } from './feature-spec';
import { buildInferenceBatch } from './inference';
import { filterRows, HOUR, incident, MONDAY, pickRows } from './testing/series';
import { buildWindows } from './windows';

/**
 * The rule that must never break (EVALUATION.md): the inputs of the window at t are computed
 * from data with ts <= t only, and its label from incidents with onset in (t, t + 8 h] (plus
 * onset <= t < end to skip points inside an incident). Checked on simulated data, for single
 * windows, the fleet dataset and the inference batch.
 */

const STEP = SPEC.stepMinutes * 60_000;
const HORIZON = SPEC.horizonSteps * STEP;
const fleet = generateFleet({ seed: 'leakage', start: MONDAY, servers: [{ name: 'ppdb001' }], hours: 72 });
const columns = fleet.columns;

/** The model inputs of a batch: everything but targets and labels. */
const inputs = (b: WindowBatch): unknown => ({
  observed: b.observed,
  observedMask: b.observedMask,
  known: b.known,
  profile: b.profile,
  serverBucket: b.serverBucket,
  server: b.server,
  time: b.time,
});

type Edit =
  | { kind: 'value'; row: number; metric: number; value: number }
  | { kind: 'missing' | 'nan' | 'inf' | 'delete'; row: number; metric: number };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant('value' as const),
    row: fc.nat(),
    metric: fc.nat(METRIC_NAMES.length - 1),
    value: fc.double({ min: 0, max: 1e4, noNaN: true }),
  }),
  fc.record({
    kind: fc.constantFrom('missing' as const, 'nan' as const, 'inf' as const, 'delete' as const),
    row: fc.nat(),
    metric: fc.nat(METRIC_NAMES.length - 1),
  }),
);

const incidentArb = (after: number): fc.Arbitrary<Incident> =>
  fc
    .record({
      offset: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 200 * 12 })),
      minutes: fc.integer({ min: 5, max: 600 }),
      type: fc.constantFrom(...INCIDENT_TYPES),
    })
    .map(({ offset, minutes, type }) =>
      incident('ppdb001', type, after + offset * STEP_MS, after + offset * STEP_MS + minutes * 60_000),
    );

/** Applies edits to the rows with ts > t (deleting, rewriting, shuffling them, appending later rows). */
function rewriteFuture(
  base: SampleColumns,
  t: number,
  edits: readonly Edit[],
  shuffleKeys: readonly number[],
  append: number,
): SampleColumns {
  const past: number[] = [];
  const future: number[] = [];
  for (let i = 0; i < base.length; i++) (base.timestamp[i]! > t ? future : past).push(i);
  const out = pickRows(base, [...past, ...future]);
  const deleted = new Set<number>();
  for (const e of edits) {
    if (future.length === 0) break;
    const row = past.length + (e.row % future.length);
    const column = out.metrics[METRIC_NAMES[e.metric]!];
    if (e.kind === 'value') {
      column.values[row] = e.value;
      column.present[row] = 1;
    } else if (e.kind === 'missing') {
      column.present[row] = 0;
      column.values[row] = 0;
    } else if (e.kind === 'nan' || e.kind === 'inf') {
      column.present[row] = 1;
      column.values[row] = e.kind === 'nan' ? Number.NaN : Number.NEGATIVE_INFINITY;
    } else deleted.add(row);
  }
  // Shuffle the future rows among themselves (an out-of-order ingest after t).
  const futureRows = future.map((_, j) => past.length + j).filter((r) => !deleted.has(r));
  const keyed = futureRows.map((r, j) => ({ r, key: shuffleKeys[j % Math.max(1, shuffleKeys.length)] ?? 0 }));
  keyed.sort((a, b) => a.key - b.key);
  const kept = pickRows(out, [...past.map((_, j) => j), ...keyed.map((k) => k.r)]);
  const extra = allocateColumns(append);
  const last = base.timestamp[base.length - 1]!;
  for (let j = 0; j < append; j++) {
    extra.server[j] = 'ppdb001';
    extra.timestamp[j] = last + (j + 1) * STEP_MS;
    for (const m of METRIC_NAMES) {
      extra.metrics[m].values[j] = 99;
      extra.metrics[m].present[j] = 1;
    }
  }
  return concatColumns([kept, extra]);
}

const sameBytes = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

// Window times with a full context: 24 h .. 72 h on the 30-minute grid.
const timeArb = fc.integer({ min: 48, max: 143 }).map((k) => MONDAY + k * STEP);

describe('no leakage', () => {
  it('changing, deleting, shuffling or adding samples after t never changes the inputs at t', () => {
    fc.assert(
      fc.property(
        timeArb,
        fc.array(editArb, { maxLength: 40 }),
        fc.array(fc.double({ noNaN: true }), { maxLength: 30 }),
        fc.nat(30),
        (t, edits, keys, append) => {
          const options = { incidents: fleet.incidents, times: [t], requireFullHorizon: false, minCoverage: 0 };
          const before = buildWindows(columns, options);
          const after = buildWindows(rewriteFuture(columns, t, edits, keys, append), options);
          expect(after.stats.windows).toBe(before.stats.windows);
          expect(inputs(after.batch)).toEqual(inputs(before.batch));
          // Labels come from incidents alone.
          expect(after.batch.risk).toEqual(before.batch.risk);
          expect(after.batch.failureMode).toEqual(before.batch.failureMode);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('incidents with onset after t + 8 h change neither the inputs nor the label at t', () => {
    fc.assert(
      fc.property(
        timeArb.chain((t) =>
          fc.tuple(fc.constant(t), fc.array(incidentArb(t + HORIZON), { minLength: 1, maxLength: 5 })),
        ),
        ([t, extra]) => {
          const options = { times: [t], requireFullHorizon: false, minCoverage: 0 };
          const before = buildWindows(columns, { ...options, incidents: fleet.incidents });
          const after = buildWindows(columns, { ...options, incidents: [...fleet.incidents, ...extra] });
          expect(after.batch).toEqual(before.batch);
          expect(after.stats).toEqual(before.stats);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the label at t depends only on incidents with onset in (t, t + 8 h]; onset <= t < end skips the point', () => {
    const near = (t: number): fc.Arbitrary<Incident> =>
      fc
        .record({
          offset: fc.integer({ min: -24, max: 24 }),
          minutes: fc.integer({ min: 5, max: 300 }),
          type: fc.constantFrom(...INCIDENT_TYPES),
        })
        .map(({ offset, minutes, type }) =>
          incident('ppdb001', type, t + offset * 30 * 60_000, t + offset * 30 * 60_000 + minutes * 60_000),
        );
    fc.assert(
      fc.property(
        timeArb.chain((t) => fc.tuple(fc.constant(t), fc.array(near(t), { maxLength: 6 }))),
        ([t, incidents]) => {
          const options = { times: [t], requireFullHorizon: false, minCoverage: 0 };
          const all = buildWindows(columns, { ...options, incidents });
          const ongoing = incidents.some((i) => i.onset <= t && t < i.end);
          expect(all.stats.skipped.incident_ongoing).toBe(ongoing ? 1 : 0);
          if (ongoing) return;
          const relevant = incidents
            .filter((i) => i.onset > t && i.onset <= t + HORIZON)
            .sort((a, b) => a.onset - b.onset);
          const only = buildWindows(columns, { ...options, incidents: relevant });
          expect(all.batch.risk).toEqual(only.batch.risk);
          expect(all.batch.failureMode).toEqual(only.batch.failureMode);
          expect(all.batch.risk[0]).toBe(relevant.length > 0 ? 1 : 0);
          const mode = relevant[0] ? SPEC.failureModeOf[relevant[0].type] : 'none';
          expect(SPEC.failureModes[all.batch.failureMode[0]!]).toBe(mode);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('in a fleet dataset, cutting the data at T leaves every window at t <= T unchanged', () => {
    const big = generateFleet({ seed: 'leakage-fleet', start: MONDAY, servers: defaultFleet(8), hours: 5 * 24 });
    const options = { validationShare: 0, heldOutCount: 0, requireFullHorizon: false, minCoverage: 0 };
    const full = buildDataset(big.columns, big.incidents, options);
    const cut = MONDAY + 70 * HOUR;
    // With the normalization frozen (as a model's spec carries it), nothing else may move.
    const truncated = buildDataset(
      filterRows(big.columns, (i) => big.columns.timestamp[i]! <= cut),
      big.incidents,
      { ...options, spec: full.spec },
    );
    const key = (server: string, time: number): string => `${server}@${time}`;
    const fullBatch = full.materialize('train');
    const rows = new Map<string, number>();
    for (let b = 0; b < fullBatch.size; b++) rows.set(key(fullBatch.server[b]!, fullBatch.time[b]!), b);
    const cutBatch = truncated.materialize('train');
    const T = SPEC.contextSteps * SPEC.observed.length;
    let compared = 0;
    for (let b = 0; b < cutBatch.size; b++) {
      const r = rows.get(key(cutBatch.server[b]!, cutBatch.time[b]!))!;
      expect(r).toBeDefined();
      expect(
        sameBytes(cutBatch.observed.subarray(b * T, (b + 1) * T), fullBatch.observed.subarray(r * T, (r + 1) * T)),
      ).toBe(true);
      expect(
        sameBytes(
          cutBatch.observedMask.subarray(b * T, (b + 1) * T),
          fullBatch.observedMask.subarray(r * T, (r + 1) * T),
        ),
      ).toBe(true);
      expect(cutBatch.risk[b]).toBe(fullBatch.risk[r]);
      compared++;
    }
    expect(compared).toBeGreaterThan(8 * 40);
  });

  it('the inference batch at t ignores rows after t and equals the training window at t', () => {
    fc.assert(
      fc.property(timeArb, fc.integer({ min: 0, max: STEP - 1 }), (t, late) => {
        const live = buildInferenceBatch(columns, SPEC, t + late);
        expect(live.time).toBe(t);
        const train = buildWindows(columns, { incidents: [], times: [t], requireFullHorizon: false, minCoverage: 0 });
        expect(inputs(live.batch)).toEqual(inputs(train.batch));
        const past = buildInferenceBatch(
          filterRows(columns, (i) => columns.timestamp[i]! <= t),
          SPEC,
          t + late,
        );
        expect(past.batch).toEqual(live.batch);
      }),
      { numRuns: 30 },
    );
  });
});
