import type Database from 'better-sqlite3';
import { METRIC_NAMES, isMetricName, type MetricName } from '@shared/contract';
import { ALERT_SEVERITIES, RISK_THRESHOLDS, type AlertSeverity, type FleetTrends } from '@shared/domain';
import { REPORTING_WINDOW_MS, type MetricsStore } from '../store';
import { META_RETENTION_EPOCH, SAMPLE_METRIC_COLUMNS } from '../store/schema';
import { BAND_WIDTH_1H_KEY } from './prediction-log';

const MINUTE_MS = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();
/** About this many buckets when the caller does not choose a width. */
export const DEFAULT_TREND_BUCKETS = 96;
/** Values this large are ±Inf in the store (SQLite keeps them as REAL); no contract range reaches them. */
const FINITE_LIMIT = 1e300;

/** The default bucket width for `hours`: a multiple of the 5-minute grid giving about 96 buckets. */
export function defaultBucketMinutes(hours: number): number {
  return Math.max(5, Math.ceil((hours * 60) / DEFAULT_TREND_BUCKETS / 5) * 5);
}

/**
 * The buckets: `bucketMinutes` wide, aligned to multiples of the width since the epoch (round
 * clock times), the last one holding `fleetTime`, as many as cover `hours`.
 */
export function trendBuckets(
  fleetTime: number,
  hours: number,
  bucketMinutes: number,
): { start: number; bucketMs: number; count: number } {
  const bucketMs = bucketMinutes * MINUTE_MS;
  const count = Math.ceil((hours * 60) / bucketMinutes);
  const last = Math.floor(fleetTime / bucketMs) * bucketMs;
  return { start: last - (count - 1) * bucketMs, bucketMs, count };
}

interface Params {
  start: number;
  width: number;
  from: number;
  to: number;
  threshold: number;
}

interface RiskRow {
  b: number;
  cycles: number;
  mean: number | null;
  p90: number | null;
  max: number | null;
  atRisk: number;
  decisiveness: number | null;
}

interface Statements {
  risk: Database.Statement<[Params], RiskRow>;
  band: Database.Statement<[Params], { b: number; metric: string; width: number | null }>;
  samples: Database.Statement<[Params], Record<string, number | null>>;
  alerts: Database.Statement<[Params], { b: number; severity: string; n: number }>;
  /** Only without SQL percentile(): the raw values, for the p90s computed here. */
  risks: Database.Statement<[Params], { b: number; risk: number }> | null;
  values: Database.Statement<[Params], Record<string, number | null>> | null;
}

/** The bucket of column `col`: (col - start) / width, an integer; rows are limited to [from, to). */
const bucketOf = (col: string): string => `CAST((${col} - @start) / @width AS INTEGER)`;
const finite = (col: string): string => `CASE WHEN abs(${col}) < ${FINITE_LIMIT} THEN ${col} END`;

/** One bucket's figures, as computed from the three tables (and kept once the bucket is sealed). */
interface BucketFigures {
  risk: {
    mean: number | null;
    p90: number | null;
    max: number | null;
    atRisk: number | null;
    decisiveness: number | null;
  };
  band: Partial<Record<MetricName, number>>;
  metrics: Record<MetricName, { mean: number | null; p90: number | null }>;
  alerts: Record<AlertSeverity, number>;
}

/** Fleet time aggregated between two turns of the event loop: ~24,000 samples for 1,000 servers. */
const CHUNK_MS = 2 * 3_600_000;
/** Sealed buckets kept at most (all widths together); the oldest go first. */
const MAX_CACHED_BUCKETS = 20_000;

/**
 * `trends.fleet`: the Trends view's series, aggregated in SQLite (one grouped query per table):
 * the predictions table (risk mean, p90, max, servers at risk, decisiveness, +1 h band width),
 * the samples table (each metric's fleet mean and p90) and the alerts table (opened by severity).
 * The samples query seeks each server's primary-key range, so it reads only the window's rows.
 *
 * Buckets no write can reach any more are sealed and kept, so a view that refetches on every
 * fleet step only aggregates its newest buckets. A bucket is sealed when it ended more than the
 * store's out-of-order window before every reporting server's newest sample (older rows are
 * refused), no silent server could still fill a gap in it (its own out-of-order window), and it
 * ended before the newest prediction window (cycles write windows in order). A new server, a
 * silent one that reports again, the first predictions, or retention clear what was kept.
 */
export class FleetTrendsQuery {
  private statements: Statements | null = null;
  private readonly sealed = new Map<string, BucketFigures>();
  private signature = '';

  /** `sqlPercentile: false` takes the fallback for a SQLite built without percentile() (tests compare both). */
  constructor(
    private readonly store: MetricsStore,
    private readonly options: { sqlPercentile?: boolean; cache?: boolean; chunkMs?: number } = {},
  ) {}

  /**
   * The trends at `fleetTime`. The buckets not kept are aggregated a chunk of at most
   * CHUNK_MS of fleet time at a time, yielding to the event loop between chunks: a first week-long
   * query over a large fleet takes seconds and must not stall the API meanwhile.
   */
  async run(fleetTime: number, hours: number, bucketMinutes = defaultBucketMinutes(hours)): Promise<FleetTrends> {
    const { start, bucketMs, count } = trendBuckets(fleetTime, hours, bucketMinutes);
    const useCache = this.options.cache ?? true;
    const isSealed = useCache ? this.sealing(fleetTime) : () => false;
    const signature = this.signature;
    const figures: (BucketFigures | undefined)[] = Array.from({ length: count }, (_, i) =>
      useCache ? this.sealed.get(`${bucketMs}:${start + i * bucketMs}`) : undefined,
    );
    const chunk = Math.max(1, Math.floor((this.options.chunkMs ?? CHUNK_MS) / bucketMs));
    let first = true;
    // Aggregate each run of buckets not kept, in one pass of the queries per chunk of the run.
    for (let i = 0; i < count;) {
      if (figures[i]) {
        i++;
        continue;
      }
      let j = i;
      while (j < count && j - i < chunk && !figures[j]) j++;
      if (!first) await new Promise<void>((resolve) => setImmediate(resolve));
      first = false;
      const computed = this.aggregate(start + i * bucketMs, bucketMs, j - i);
      // A call that saw the store change meanwhile (another signature) decides what is kept.
      const keep = useCache && this.signature === signature;
      computed.forEach((f, k) => {
        const from = start + (i + k) * bucketMs;
        figures[i + k] = f;
        if (keep && isSealed(from, from + bucketMs)) this.keep(`${bucketMs}:${from}`, f);
      });
      i = j;
    }

    const all = figures as BucketFigures[];
    const series = <T>(pick: (f: BucketFigures) => T): T[] => all.map(pick);
    const bandWidth: Partial<Record<MetricName, (number | null)[]>> = {};
    for (const m of METRIC_NAMES) {
      if (all.some((f) => f.band[m] !== undefined)) bandWidth[m] = series((f) => f.band[m] ?? null);
    }
    return {
      bucketMinutes,
      times: Array.from({ length: count }, (_, i) => iso(start + i * bucketMs)),
      risk: {
        mean: series((f) => f.risk.mean),
        p90: series((f) => f.risk.p90),
        max: series((f) => f.risk.max),
        atRisk: series((f) => f.risk.atRisk),
      },
      confidence: { decisiveness: series((f) => f.risk.decisiveness), bandWidth },
      metrics: Object.fromEntries(
        METRIC_NAMES.map((m) => [m, { mean: series((f) => f.metrics[m].mean), p90: series((f) => f.metrics[m].p90) }]),
      ) as FleetTrends['metrics'],
      alertsOpened: Object.fromEntries(ALERT_SEVERITIES.map((v) => [v, series((f) => f.alerts[v])])) as Record<
        AlertSeverity,
        number[]
      >,
    };
  }

  /** How many sealed buckets are kept (tests). */
  get keptBuckets(): number {
    return this.sealed.size;
  }

  /**
   * Which buckets are sealed at `fleetTime`; clears what was kept when the store changed in a way
   * that can reach old buckets (a server appeared, a silent one reported again, retention ran).
   */
  private sealing(fleetTime: number): (from: number, to: number) => boolean {
    const db = this.store.db;
    const lateMs = this.store.settings.outOfOrderWindowMs;
    const silentBefore = fleetTime - REPORTING_WINDOW_MS;
    const servers = db.prepare<[], { last_seen: number }>('SELECT last_seen FROM servers').all();
    const silent = servers.map((s) => s.last_seen).filter((t) => t < silentBefore);
    const predictions = db
      .prepare<[], { oldest: number | null; newest: number | null }>(
        'SELECT MIN(ts) AS oldest, MAX(ts) AS newest FROM predictions',
      )
      .get();
    const oldestPrediction = predictions?.oldest ?? null;
    // Cycles write windows in order, the newest one again until the next: only older ones are final.
    const newestPrediction = predictions?.newest ?? null;
    const signature = [
      servers.length,
      silent.reduce((a, b) => a + b, 0),
      this.store.getMeta(META_RETENTION_EPOCH) ?? '0',
      oldestPrediction ?? '-',
      lateMs,
    ].join(':');
    if (signature !== this.signature) {
      this.sealed.clear();
      this.signature = signature;
    }
    // Reporting servers (newest sample after silentBefore) can no longer write before this.
    const liveSeal = silentBefore - lateMs;
    return (from, to) =>
      to <= liveSeal &&
      (newestPrediction === null || to <= newestPrediction) &&
      silent.every((newest) => to <= newest - lateMs || from > newest);
  }

  private keep(key: string, figures: BucketFigures): void {
    if (this.sealed.size >= MAX_CACHED_BUCKETS) {
      for (const k of [...this.sealed.keys()].slice(0, MAX_CACHED_BUCKETS / 4)) this.sealed.delete(k);
    }
    this.sealed.set(key, figures);
  }

  /** The figures of `count` buckets of `bucketMs` from `start`, from the three tables. */
  private aggregate(start: number, bucketMs: number, count: number): BucketFigures[] {
    const s = (this.statements ??= this.prepare());
    const params: Params = {
      start,
      width: bucketMs,
      from: start,
      to: start + count * bucketMs,
      threshold: RISK_THRESHOLDS.warning,
    };
    const out: BucketFigures[] = Array.from({ length: count }, () => ({
      risk: { mean: null, p90: null, max: null, atRisk: null, decisiveness: null },
      band: {},
      metrics: Object.fromEntries(METRIC_NAMES.map((m) => [m, { mean: null, p90: null }])) as BucketFigures['metrics'],
      alerts: { warning: 0, critical: 0 },
    }));
    const inRange = (b: unknown): b is number => Number.isInteger(b) && (b as number) >= 0 && (b as number) < count;

    const riskP90 = s.risks ? quantilesByBucket(s.risks.all(params), (r) => r.risk) : null;
    for (const r of s.risk.all(params)) {
      if (!inRange(r.b)) continue;
      out[r.b]!.risk = {
        mean: r.mean,
        p90: riskP90 ? (riskP90.get(r.b) ?? null) : r.p90,
        max: r.max,
        // Servers at or over the warning threshold, averaged over the bucket's cycles.
        atRisk: r.cycles > 0 ? r.atRisk / r.cycles : null,
        decisiveness: r.decisiveness,
      };
    }
    for (const r of s.band.all(params)) {
      if (!inRange(r.b) || !isMetricName(r.metric) || r.width === null) continue;
      out[r.b]!.band[r.metric] = r.width;
    }
    const valueP90 = s.values ? metricQuantilesByBucket(s.values.all(params)) : null;
    for (const r of s.samples.all(params)) {
      const b = r['b'];
      if (!inRange(b)) continue;
      for (const m of SAMPLE_METRIC_COLUMNS) {
        out[b]!.metrics[m] = {
          mean: r[`${m}_mean`] ?? null,
          p90: valueP90 ? (valueP90.get(b)?.[m] ?? null) : (r[`${m}_p90`] ?? null),
        };
      }
    }
    for (const r of s.alerts.all(params)) {
      if (!inRange(r.b) || (r.severity !== 'warning' && r.severity !== 'critical')) continue;
      out[r.b]!.alerts[r.severity] = r.n;
    }
    return out;
  }

  private prepare(): Statements {
    const db = this.store.db;
    const sqlPercentile = (this.options.sqlPercentile ?? true) && hasPercentile(db);
    const p90 = (expr: string): string => (sqlPercentile ? `percentile(${expr}, 90)` : 'NULL');
    // A cycle is one (window time, model): servers at risk is their count over the cycles.
    const risk = db.prepare<[Params], RiskRow>(`
      SELECT ${bucketOf('ts')} AS b,
             COUNT(DISTINCT ts || ' ' || model) AS cycles,
             AVG(risk) AS mean,
             ${p90('risk')} AS p90,
             MAX(risk) AS max,
             SUM(risk >= @threshold) AS atRisk,
             AVG(abs(2 * risk - 1)) AS decisiveness
      FROM predictions WHERE ts >= @from AND ts < @to
      GROUP BY 1`);
    const band = db.prepare<[Params], { b: number; metric: string; width: number | null }>(`
      SELECT ${bucketOf('p.ts')} AS b, j.key AS metric, AVG(j.value) AS width
      FROM predictions p, json_each(CAST(p.payload AS TEXT), '$.${BAND_WIDTH_1H_KEY}') j
      WHERE p.ts >= @from AND p.ts < @to AND p.payload IS NOT NULL AND json_valid(CAST(p.payload AS TEXT))
      GROUP BY 1, 2`);
    const metricAggregates = SAMPLE_METRIC_COLUMNS.flatMap((m) => [
      `AVG(${finite(m)}) AS ${m}_mean`,
      `${p90(finite(m))} AS ${m}_p90`,
    ]).join(',\n             ');
    const samples = db.prepare<[Params], Record<string, number | null>>(`
      SELECT ${bucketOf('ts')} AS b,
             ${metricAggregates}
      FROM samples
      WHERE server_id IN (SELECT id FROM servers) AND ts >= @from AND ts < @to
      GROUP BY 1`);
    const alerts = db.prepare<[Params], { b: number; severity: string; n: number }>(`
      SELECT ${bucketOf('started_at')} AS b, severity, COUNT(*) AS n
      FROM alerts WHERE started_at >= @from AND started_at < @to
      GROUP BY 1, 2`);
    return {
      risk: risk,
      band: band,
      samples: samples,
      alerts: alerts,
      risks: sqlPercentile
        ? null
        : db.prepare<[Params], { b: number; risk: number }>(
            `SELECT ${bucketOf('ts')} AS b, risk FROM predictions WHERE ts >= @from AND ts < @to`,
          ),
      values: sqlPercentile
        ? null
        : db.prepare<[Params], Record<string, number | null>>(
            `SELECT ${bucketOf('ts')} AS b, ${SAMPLE_METRIC_COLUMNS.map((m) => `${finite(m)} AS ${m}`).join(', ')}
             FROM samples WHERE server_id IN (SELECT id FROM servers) AND ts >= @from AND ts < @to`,
          ),
    };
  }
}

/** Whether this SQLite has the percentile() aggregate (SQLITE_ENABLE_PERCENTILE; better-sqlite3 12 builds it in). */
function hasPercentile(db: Database.Database): boolean {
  try {
    db.prepare('SELECT percentile(1, 90)').get();
    return true;
  } catch {
    return false;
  }
}

function quantilesByBucket<T extends { b: number }>(
  rows: readonly T[],
  value: (row: T) => number,
): Map<number, number | null> {
  const groups = new Map<number, number[]>();
  for (const row of rows) {
    const list = groups.get(row.b) ?? [];
    list.push(value(row));
    groups.set(row.b, list);
  }
  return new Map([...groups].map(([b, list]) => [b, quantile(list, 0.9)]));
}

function metricQuantilesByBucket(
  rows: readonly Record<string, number | null>[],
): Map<number, Record<string, number | null>> {
  const groups = new Map<number, Map<string, number[]>>();
  for (const row of rows) {
    const b = row['b']!;
    let byMetric = groups.get(b);
    if (!byMetric) groups.set(b, (byMetric = new Map(SAMPLE_METRIC_COLUMNS.map((m) => [m, []]))));
    for (const m of SAMPLE_METRIC_COLUMNS) {
      const v = row[m];
      if (v !== null && v !== undefined) byMetric.get(m)!.push(v);
    }
  }
  return new Map(
    [...groups].map(([b, byMetric]) => [
      b,
      Object.fromEntries([...byMetric].map(([m, list]) => [m, quantile(list, 0.9)])),
    ]),
  );
}

/** The q-quantile with linear interpolation between order statistics; null for no values. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
