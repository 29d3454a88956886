import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetTrendsSchema, type ServerPrediction } from '@shared/domain';
import { rowsToColumns } from '../metrics/columns';
import { openStore, type MetricsStore } from '../store';
import type { AlertRecord } from './alerts';
import { AlertLog } from './alerts-store';
import { PredictionLog, horizonStepAt } from './prediction-log';
import { FleetTrendsQuery, defaultBucketMinutes, quantile, trendBuckets } from './trends';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 2, 12, 0); // on a 30-minute boundary
let dir: string;
let store: MetricsStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tftmp-trends-'));
  store = openStore(join(dir, 'metrics.sqlite'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A prediction whose +1 h (step 1 of 30 minutes) CPU band is `cpuWidth` percent points wide. */
function prediction(server: string, risk: number, cpuWidth: number): ServerPrediction {
  const steps = 16;
  const band = (metric: 'cpu_percent' | 'latency_ms', width: number) => ({
    metric,
    p10: Array.from({ length: steps }, (_, k) => (k === 1 ? 40 : 0)),
    p50: Array.from({ length: steps }, () => 45),
    p90: Array.from({ length: steps }, (_, k) => (k === 1 ? 40 + width : 999)),
  });
  return {
    server,
    profile: 'web_api',
    risk,
    failureMode: 'cpu',
    failureModes: { none: 1 - risk, cpu: risk },
    knownServer: true,
    coverage: 1,
    // latency's range is 0..3,600,000 ms: 360,000 ms wide is 0.1 of it.
    forecast: [band('cpu_percent', cpuWidth), band('latency_ms', 360_000)],
  };
}

function alert(
  id: number,
  server: string,
  severity: 'warning' | 'critical',
  startedAt: number,
  state: 'open' | 'resolved' = 'resolved',
): AlertRecord {
  return {
    id,
    server,
    profile: 'web_api',
    severity,
    state,
    risk: severity === 'critical' ? 0.7 : 0.4,
    peakRisk: 0.8,
    failureMode: 'cpu',
    timeToThreshold: null,
    startedAt,
    endedAt: state === 'resolved' ? startedAt + 20 * MIN : null,
    updatedAt: startedAt + 20 * MIN,
    acknowledgedBy: null,
    acknowledgedAt: null,
    calmCycles: 0,
    coolCycles: 0,
  };
}

describe('fleet trends', () => {
  it('sums a hand-computed case: risk, confidence, metrics and alerts per 30-minute bucket', async () => {
    // Samples: bucket 0 = [T0, T0+30 min), bucket 1 = [T0+30, T0+60). NaN, missing and +Inf are no value.
    store.ingest(
      rowsToColumns([
        { server: 'weba', timestamp: T0 - 5 * MIN, metrics: { cpu_percent: 99 } }, // before the window
        { server: 'weba', timestamp: T0, metrics: { cpu_percent: 10, memory_percent: 50 } },
        { server: 'weba', timestamp: T0 + 5 * MIN, metrics: { cpu_percent: 20 } },
        { server: 'webb', timestamp: T0, metrics: { cpu_percent: 40, memory_percent: 70 } },
        { server: 'webb', timestamp: T0 + 35 * MIN, metrics: { cpu_percent: 60 } },
        { server: 'weba', timestamp: T0 + 40 * MIN, metrics: { cpu_percent: Number.NaN } },
        { server: 'webb', timestamp: T0 + 40 * MIN, metrics: { cpu_percent: Number.POSITIVE_INFINITY } },
      ]),
      { now: T0 + 59 * MIN },
    );
    const ids = new Map(store.listServers().map((s) => [s.name, s.id]));
    const log = new PredictionLog(store);
    log.write(T0, 'tft@1', [prediction('weba', 0.2, 10), prediction('webb', 0.7, 20)], ids, { stepMinutes: 30 });
    log.write(T0 + 15 * MIN, 'tft@1', [prediction('weba', 0.35, 30), prediction('webb', 0.8, 40)], ids, {
      stepMinutes: 30,
    });
    log.write(T0 + 30 * MIN, 'tft@1', [prediction('weba', 0.1, 5)], ids, { stepMinutes: 30 });
    log.write(T0 - 30 * MIN, 'tft@1', [prediction('weba', 1, 90)], ids, { stepMinutes: 30 }); // before the window
    new AlertLog(store).write(
      [
        alert(1, 'weba', 'warning', T0 + 1 * MIN),
        alert(2, 'webb', 'critical', T0 + 10 * MIN, 'open'),
        alert(3, 'weba', 'warning', T0 + 45 * MIN),
        alert(4, 'webb', 'critical', T0 - 10 * MIN), // before the window
      ],
      ids,
    );

    const trends = await new FleetTrendsQuery(store).run(T0 + 59 * MIN, 1, 30);
    expect(FleetTrendsSchema.parse(trends)).toEqual(trends);
    expect(trends.bucketMinutes).toBe(30);
    expect(trends.times).toEqual([new Date(T0).toISOString(), new Date(T0 + 30 * MIN).toISOString()]);

    // Bucket 0: risks 0.2, 0.7 (cycle T0) and 0.35, 0.8 (cycle T0+15); bucket 1: 0.1.
    expect(trends.risk.mean[0]).toBeCloseTo((0.2 + 0.7 + 0.35 + 0.8) / 4, 12);
    expect(trends.risk.max).toEqual([0.8, 0.1]);
    // p90 of [0.2, 0.35, 0.7, 0.8]: position 2.7 -> 0.7 + 0.7 * (0.8 - 0.7).
    expect(trends.risk.p90[0]).toBeCloseTo(0.77, 12);
    expect(trends.risk.p90[1]).toBeCloseTo(0.1, 12);
    // At or over 0.3: one server in the first cycle, two in the second -> 1.5 per cycle.
    expect(trends.risk.atRisk).toEqual([1.5, 0]);
    // |2r - 1|: 0.6, 0.4, 0.3, 0.6 -> 0.475; then 0.8.
    expect(trends.confidence.decisiveness[0]).toBeCloseTo(0.475, 12);
    expect(trends.confidence.decisiveness[1]).toBeCloseTo(0.8, 12);
    // +1 h CPU bands 10, 20, 30, 40 points of a 0..100 range -> 0.25; then 0.05. Latency: 0.1 throughout.
    expect(trends.confidence.bandWidth.cpu_percent![0]).toBeCloseTo(0.25, 12);
    expect(trends.confidence.bandWidth.cpu_percent![1]).toBeCloseTo(0.05, 12);
    expect(trends.confidence.bandWidth.latency_ms![0]).toBeCloseTo(0.1, 12);
    expect(trends.confidence.bandWidth.memory_percent).toBeUndefined();

    // CPU: bucket 0 holds 10, 20, 40 (mean 23.33, p90 at position 1.8 -> 36); bucket 1 only 60.
    expect(trends.metrics.cpu_percent.mean[0]).toBeCloseTo(70 / 3, 12);
    expect(trends.metrics.cpu_percent.p90[0]).toBeCloseTo(36, 12);
    expect(trends.metrics.cpu_percent.mean[1]).toBe(60);
    expect(trends.metrics.cpu_percent.p90[1]).toBe(60);
    expect(trends.metrics.memory_percent.mean).toEqual([60, null]);
    expect(trends.metrics.disk_percent.mean).toEqual([null, null]);

    expect(trends.alertsOpened).toEqual({ warning: [1, 1], critical: [1, 0] });

    // A SQLite without percentile(): the p90s computed in JS agree.
    const fallback = await new FleetTrendsQuery(store, { sqlPercentile: false }).run(T0 + 59 * MIN, 1, 30);
    expect(fallback.risk.p90[0]).toBeCloseTo(0.77, 12);
    expect(fallback.metrics.cpu_percent.p90[0]).toBeCloseTo(36, 12);
    expect(fallback.metrics.cpu_percent.p90[1]).toBe(60);
    expect({ ...fallback, risk: { ...fallback.risk, p90: null }, metrics: null }).toEqual({
      ...trends,
      risk: { ...trends.risk, p90: null },
      metrics: null,
    });
  });

  it('holds null (and zero alerts) for buckets without data, and picks about 96 buckets by default', async () => {
    const fleetTime = T0 + 7 * MIN;
    const trends = await new FleetTrendsQuery(store).run(fleetTime, 24);
    expect(trends.bucketMinutes).toBe(defaultBucketMinutes(24));
    expect(trends.bucketMinutes).toBe(15);
    expect(trends.times).toHaveLength(96);
    expect(Date.parse(trends.times.at(-1)!)).toBeLessThanOrEqual(fleetTime);
    expect(Date.parse(trends.times.at(-1)!) + 15 * MIN).toBeGreaterThan(fleetTime);
    expect(trends.risk.mean.every((v) => v === null)).toBe(true);
    expect(trends.alertsOpened.warning.every((v) => v === 0)).toBe(true);
    expect(trends.confidence.bandWidth).toEqual({});
    expect(defaultBucketMinutes(168)).toBe(105);
    expect(defaultBucketMinutes(1)).toBe(5);
  });

  it('computes the helpers it is built on', () => {
    expect(trendBuckets(T0 + 59 * MIN, 1, 30)).toEqual({ start: T0, bucketMs: 30 * MIN, count: 2 });
    expect(quantile([3, 1, 2], 0.9)).toBeCloseTo(2.8, 12);
    expect(quantile([], 0.9)).toBeNull();
    expect(horizonStepAt(30, 16)).toBe(1);
    expect(horizonStepAt(5, 96)).toBe(11);
    expect(horizonStepAt(45, 16)).toBeNull();
    expect(horizonStepAt(30, 1)).toBeNull();
  });

  it('keeps sealed buckets, and answers as a fresh aggregation would whatever arrives', async () => {
    const STEP = 5 * MIN;
    const cpu = (s: number, k: number): number => 10 + ((s * 37 + k * 11) % 60);
    const rows = [];
    for (const [s, name] of ['weba', 'webb', 'webc'].entries()) {
      for (let k = 0; k < 72; k++) {
        // webc falls silent 3 h before the end, with a gap 25 minutes before its last sample.
        if (name === 'webc' && (k >= 36 || k === 30)) continue;
        rows.push({ server: name, timestamp: T0 + k * STEP, metrics: { cpu_percent: cpu(s, k) } });
      }
    }
    store.ingest(rowsToColumns(rows), { now: T0 + 72 * STEP });
    let fleetTime = T0 + 71 * STEP + 2 * MIN;
    const q = new FleetTrendsQuery(store);
    // Small chunks, so a run of buckets is aggregated in several passes as a long query would be.
    const fresh = (): ReturnType<FleetTrendsQuery['run']> =>
      new FleetTrendsQuery(store, { cache: false, chunkMs: 40 * MIN }).run(fleetTime, 6, 15);
    const first = await q.run(fleetTime, 6, 15);
    expect(first).toEqual(await fresh());
    expect(q.keptBuckets).toBeGreaterThan(0);
    expect(await q.run(fleetTime, 6, 15)).toEqual(first);

    // A kept bucket is not aggregated again: a change behind the store's back (no ingest could
    // make it) shows only in a fresh aggregation.
    const sealedBucket = 1; // [T0+15, T0+30): hours before every live server's newest sample
    store.db.prepare('UPDATE samples SET cpu_percent = 0 WHERE ts = ?').run(T0 + 3 * STEP);
    expect((await q.run(fleetTime, 6, 15)).metrics.cpu_percent.mean[sealedBucket]).toBe(
      first.metrics.cpu_percent.mean[sealedBucket],
    );
    expect((await fresh()).metrics.cpu_percent.mean[sealedBucket]).not.toBe(
      first.metrics.cpu_percent.mean[sealedBucket],
    );
    store.db
      .prepare(
        'UPDATE samples SET cpu_percent = ? WHERE ts = ? AND server_id = (SELECT id FROM servers WHERE name = ?)',
      )
      .run(cpu(0, 3), T0 + 3 * STEP, 'weba');
    store.db
      .prepare(
        'UPDATE samples SET cpu_percent = ? WHERE ts = ? AND server_id = (SELECT id FROM servers WHERE name = ?)',
      )
      .run(cpu(1, 3), T0 + 3 * STEP, 'webb');
    store.db
      .prepare(
        'UPDATE samples SET cpu_percent = ? WHERE ts = ? AND server_id = (SELECT id FROM servers WHERE name = ?)',
      )
      .run(cpu(2, 3), T0 + 3 * STEP, 'webc');
    expect(await fresh()).toEqual(first);

    // The silent server fills its gap (within its own out-of-order window): that old bucket was not kept.
    const gap = store.ingest(
      rowsToColumns([{ server: 'webc', timestamp: T0 + 30 * STEP, metrics: { cpu_percent: 99 } }]),
      {
        now: fleetTime,
      },
    );
    expect(gap.accepted).toBe(1);
    const afterGap = await q.run(fleetTime, 6, 15);
    expect(afterGap).toEqual(await fresh());
    expect(afterGap.metrics.cpu_percent.mean[10]).not.toBe(first.metrics.cpu_percent.mean[10]);

    // The live servers report the next step.
    store.ingest(
      rowsToColumns(
        ['weba', 'webb'].map((server, s) => ({
          server,
          timestamp: T0 + 72 * STEP,
          metrics: { cpu_percent: cpu(s, 72) },
        })),
      ),
      { now: T0 + 73 * STEP },
    );
    fleetTime += STEP;
    expect(await q.run(fleetTime, 6, 15)).toEqual(await fresh());

    // A new server's history lands in old buckets: everything kept is dropped.
    store.ingest(rowsToColumns([{ server: 'webd', timestamp: T0 + 4 * STEP, metrics: { cpu_percent: 1 } }]), {
      now: fleetTime,
    });
    const withNew = await q.run(fleetTime, 6, 15);
    expect(withNew).toEqual(await fresh());
    // The window moved one step on: the bucket [T0+15, T0+30) is the first one now.
    expect(withNew.times[0]).toBe(first.times[sealedBucket]);
    expect(withNew.metrics.cpu_percent.mean[0]).not.toBe(first.metrics.cpu_percent.mean[sealedBucket]);

    // Predictions: only windows before the newest are final.
    const ids = new Map(store.listServers().map((s) => [s.name, s.id]));
    const log = new PredictionLog(store);
    log.write(T0 + 60 * MIN, 'tft@1', [prediction('weba', 0.2, 10)], ids, { stepMinutes: 30 });
    expect(await q.run(fleetTime, 6, 15)).toEqual(await fresh());
    log.write(T0 + 90 * MIN, 'tft@1', [prediction('weba', 0.4, 10)], ids, { stepMinutes: 30 });
    expect(await q.run(fleetTime, 6, 15)).toEqual(await fresh());
    log.write(T0 + 90 * MIN, 'tft@1', [prediction('weba', 0.9, 10)], ids, { stepMinutes: 30 }); // the same window again
    const replaced = await q.run(fleetTime, 6, 15);
    expect(replaced).toEqual(await fresh());
    expect(replaced.risk.max[replaced.times.indexOf(new Date(T0 + 90 * MIN).toISOString())]).toBe(0.9);
  });
});
