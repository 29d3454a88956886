import { describe, expect, it } from 'vitest';
import { STEP_MS } from '@shared/contract';
import { allocateColumns, concatColumns } from '../../metrics/columns';
import { serverBucket } from '../../metrics/server-encoding';
import { generateFleet } from '../../metrics/simulator/generate';
import { DEFAULT_FEATURE_SPEC as SPEC } from './feature-spec';
import { buildInferenceBatch, contextSamples, inferenceTime } from './inference';
import { filterRows, HOUR, MONDAY, pickRows } from './testing/series';

const fleet = generateFleet({
  seed: 'inference',
  start: MONDAY,
  servers: [{ name: 'ppdb001' }, { name: 'ppweb001' }, { name: 'ppml0001' }, { name: 'ppetl001' }],
  hours: 48,
});
const now = MONDAY + 40 * HOUR + 17 * 60_000; // 40:17 -> t = 40:00
const t = MONDAY + 40 * HOUR;

/** store.latestWindow-shaped: the 288 grid points ending t, sorted by server then ts. */
function latestWindow(columns = fleet.columns): typeof fleet.columns {
  const from = t - contextSamples(SPEC) * STEP_MS;
  const rows = filterRows(columns, (i) => columns.timestamp[i]! > from && columns.timestamp[i]! <= t);
  const order = [...Array(rows.length).keys()].sort(
    (a, b) => rows.server[a]!.localeCompare(rows.server[b]!) || rows.timestamp[a]! - rows.timestamp[b]!,
  );
  return pickRows(rows, order);
}

/** A server whose rows are all there but carry no value (dense latestWindow). */
function silentServer(name: string): typeof fleet.columns {
  const out = allocateColumns(contextSamples(SPEC));
  for (let i = 0; i < out.length; i++) {
    out.server[i] = name;
    out.timestamp[i] = t - (out.length - 1 - i) * STEP_MS;
  }
  return out;
}

describe('buildInferenceBatch', () => {
  it('works at the end of the last complete 30-minute step', () => {
    expect(inferenceTime(now, SPEC)).toBe(t);
    expect(inferenceTime(t, SPEC)).toBe(t);
    expect(inferenceTime(t - 1, SPEC)).toBe(t - 30 * 60_000);
    expect(contextSamples(SPEC)).toBe(288);
  });

  it('gives one window per server with data, targets and labels zero', () => {
    const { batch, coverage, time, skipped } = buildInferenceBatch(latestWindow(), SPEC, now);
    expect(time).toBe(t);
    expect(batch.server).toEqual(['ppdb001', 'ppetl001', 'ppml0001', 'ppweb001']);
    expect([...batch.time]).toEqual([t, t, t, t]);
    expect(skipped).toEqual([]);
    expect(coverage.every((c) => c > 0.99)).toBe(true);
    expect(batch.targets.every((v) => v === 0)).toBe(true);
    expect(batch.targetMask.every((v) => v === 0)).toBe(true);
    expect(batch.risk.every((v) => v === 0)).toBe(true);
    expect(batch.failureMode.every((v) => v === 0)).toBe(true);
    expect(batch.profile[0]).toBe(SPEC.profiles.indexOf('database'));
    expect(batch.serverBucket[0]).toBe(serverBucket('ppdb001', SPEC.serverBuckets));
  });

  it('reports servers without data instead of feeding zeros', () => {
    const columns = concatColumns([latestWindow(), silentServer('ppweb002')]);
    const { batch, skipped } = buildInferenceBatch(columns, SPEC, now, {
      servers: ['ppdb001', 'ppweb002', 'ppml0099'],
    });
    expect(batch.server).not.toContain('ppweb002');
    expect(batch.size).toBe(4);
    expect(skipped).toEqual([
      { server: 'ppml0099', reason: 'no_data', coverage: 0 },
      { server: 'ppweb002', reason: 'no_data', coverage: 0 },
    ]);
    const empty = buildInferenceBatch(allocateColumns(0), SPEC, now, { servers: ['ppdb001'] });
    expect(empty.batch.size).toBe(0);
    expect(empty.skipped).toEqual([{ server: 'ppdb001', reason: 'no_data', coverage: 0 }]);
  });

  it('reports the coverage of a server that just came online, and leaves it out below minCoverage', () => {
    const window = latestWindow();
    const recent = filterRows(window, (i) => window.server[i] !== 'ppetl001' || window.timestamp[i]! > t - 6 * HOUR);
    const kept = buildInferenceBatch(recent, SPEC, now);
    expect(kept.coverage[kept.batch.server.indexOf('ppetl001')]).toBeCloseTo(0.25, 2);
    const strict = buildInferenceBatch(recent, SPEC, now, { minCoverage: 0.5 });
    expect(strict.batch.server).not.toContain('ppetl001');
    expect(strict.skipped).toEqual([
      { server: 'ppetl001', reason: 'low_coverage', coverage: expect.closeTo(0.25, 2) as number },
    ]);
  });

  it('maps servers the model never saw to bucket 0', () => {
    const { batch } = buildInferenceBatch(latestWindow(), SPEC, now, { knownServers: ['ppdb001', 'ppml0001'] });
    expect([...batch.serverBucket]).toEqual([
      serverBucket('ppdb001', SPEC.serverBuckets),
      0,
      serverBucket('ppml0001', SPEC.serverBuckets),
      0,
    ]);
  });
});
