import { METRIC_NAMES, STEP_MS, type MetricName } from '@shared/contract';
import type { PrometheusSourceConfig, SourceHealth, SourceProblem, SourceTestResult } from '@shared/domain';
import type { IngestReport, MetricsStore } from '../../store';
import type { Logger } from '../../util/logger';
import { PromClient } from './client';
import { emptyMapped, mapSeries, toColumns, type MappedValues } from './parse';
import { effectiveQueries } from './queries';

export interface PrometheusSourceOptions {
  config: PrometheusSourceConfig;
  /** The bearer token, kept out of `config` so nothing that prints the config can print it. */
  token: string | null;
  store: MetricsStore;
  logger: Logger;
  /** Wall clock (epoch ms); injectable for tests. */
  now?: () => number;
  /** First retry after a failure; doubles each time up to `maxBackoffMs` (default: the poll interval). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** After rows reached the store. */
  onIngest?: (info: { report: IngestReport; time: number }) => void;
}

/** What one sync did. */
export interface SyncResult {
  /** The newest grid step covered. */
  time: number;
  /** 'range': query_range from the last covered step (backfill, or a gap after an outage); 'instant': /api/v1/query. */
  mode: 'range' | 'instant' | 'none';
  rows: number;
  accepted: number;
  ms: number;
  series: number;
  problems: SourceProblem[];
}

const META_PREFIX = 'prometheus-source:';

/**
 * A Prometheus server as a metric source. On start it backfills the last `backfillHours` with
 * query_range at the 5-minute step, then every `pollSeconds` it reads the newest grid step with
 * an instant query (or query_range over the steps it missed while Prometheus was unreachable).
 * The last covered step is kept in the store's meta table, so a restart resumes without
 * re-reading or conflicting. Failures retry with exponential backoff; meanwhile no rows come,
 * and the fleet sees the servers go stale.
 */
export class PrometheusSource {
  readonly id: string;
  private readonly client: PromClient;
  private readonly now: () => number;
  private readonly queries: Record<MetricName, string | null>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private stopped = true;
  private readonly h: SourceHealth = {
    state: 'stopped',
    lastSuccessAt: null,
    lastError: null,
    lastErrorAt: null,
    consecutiveFailures: 0,
    nextRetryAt: null,
    series: 0,
    servers: 0,
    rowsIngested: 0,
    valuesDropped: 0,
    backfill: null,
    lastPoll: null,
  };

  constructor(private readonly options: PrometheusSourceOptions) {
    this.id = options.config.id;
    this.now = options.now ?? Date.now;
    this.client = new PromClient({ url: options.config.url, token: options.token, timeoutMs: options.config.timeoutMs });
    this.queries = effectiveQueries(options.config.queries, options.config.instanceLabel, options.config.profileLabel);
  }

  get config(): PrometheusSourceConfig {
    return this.options.config;
  }

  health(): SourceHealth {
    return { ...this.h };
  }

  /** Starts the backfill and the poll loop in the background. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.h.state = 'starting';
    this.tick();
  }

  /** Stops polling; resolves when a sync in flight is done (its rows are then durable). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    this.h.state = 'stopped';
    this.h.nextRetryAt = null;
  }

  /** The last grid step whose rows are in the store, or null before the first sync. */
  lastCovered(): number | null {
    const text = this.options.store.getMeta(META_PREFIX + this.id);
    const value = text === null ? NaN : Number(text);
    return Number.isFinite(value) ? value : null;
  }

  /**
   * Reads what is new since the last covered step up to the newest grid step, and ingests it.
   * Throws when Prometheus cannot be read (nothing is then recorded as covered).
   */
  async sync(): Promise<SyncResult> {
    const started = performance.now();
    const now = this.now();
    const time = Math.floor(now / STEP_MS) * STEP_MS;
    const oldest = time - Math.floor((this.options.config.backfillHours * 3_600_000) / STEP_MS) * STEP_MS;
    const last = this.lastCovered();
    const from = last === null ? oldest : Math.max(oldest, last + STEP_MS);
    if (from > time) return { time, mode: 'none', rows: 0, accepted: 0, ms: performance.now() - started, series: 0, problems: [] };
    const mode = from === time ? 'instant' : 'range';
    const mapped = await this.read(mode, from, time);
    const { batch, profiles } = toColumns(mapped);
    let accepted = 0;
    if (batch.length > 0) {
      const report = await this.options.store.ingestYielding(batch, { now, profiles });
      accepted = report.accepted;
      this.h.rowsIngested += report.accepted;
      const rejected = report.rows - report.accepted - report.duplicates;
      if (rejected > 0) {
        this.options.logger.warn('prometheus rows rejected by the store', { source: this.id, rejected: report.rejected, first: report.rejections[0]?.message });
      }
      this.options.onIngest?.({ report, time });
    }
    this.options.store.setMeta(META_PREFIX + this.id, String(time));
    this.h.series = mapped.series;
    this.h.servers = mapped.servers.size;
    this.h.valuesDropped += mapped.dropped;
    const ms = performance.now() - started;
    const at = new Date(now).toISOString();
    if (mode === 'range' && last === null) this.h.backfill = { rows: batch.length, ms, at };
    else this.h.lastPoll = { rows: batch.length, ms, at };
    if (mapped.problems.length > 0) {
      this.options.logger.warn('prometheus values dropped', { source: this.id, dropped: mapped.dropped, first: mapped.problems[0] });
    }
    return { time, mode, rows: batch.length, accepted, ms, series: mapped.series, problems: mapped.problems };
  }

  /** One instant query per metric at the newest grid step: what `sync` would ingest, written nowhere. */
  async test(): Promise<SourceTestResult> {
    const started = performance.now();
    const time = Math.floor(this.now() / STEP_MS) * STEP_MS;
    const base = { url: this.options.config.url, time: new Date(time).toISOString() };
    let mapped: MappedValues;
    try {
      mapped = await this.read('instant', time, time);
    } catch (error) {
      return {
        ...base,
        ok: false,
        durationMs: performance.now() - started,
        series: 0,
        servers: [],
        problems: [{ metric: null, instance: null, reason: error instanceof Error ? error.message : String(error) }],
      };
    }
    const servers = [...mapped.servers]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([server, info]) => {
        const values = info.rows.get(time) ?? {};
        const metrics: Partial<Record<MetricName, number | null>> = {};
        for (const [name, value] of Object.entries(values) as [MetricName, number][]) metrics[name] = Number.isFinite(value) ? value : null;
        return { server, instance: info.instance, profile: info.profile, metrics };
      });
    return { ...base, ok: servers.length > 0, durationMs: performance.now() - started, series: mapped.series, servers, problems: mapped.problems };
  }

  private async read(mode: 'instant' | 'range', from: number, to: number): Promise<MappedValues> {
    const mapped = emptyMapped();
    const metrics = METRIC_NAMES.filter((m) => this.queries[m] !== null);
    // Metrics in parallel: one round trip of latency, not ten.
    const answers = await Promise.all(
      metrics.map((metric) => {
        const query = this.queries[metric]!;
        const answer = mode === 'instant' ? this.client.query(query, to, metric) : this.client.queryRange(query, from, to, STEP_MS, metric);
        return answer.catch((error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          throw Object.assign(new Error(`${metric}: ${message}`, { cause: error }), { name: error instanceof Error ? error.name : 'Error' });
        });
      }),
    );
    const options = { instanceLabel: this.options.config.instanceLabel, profileLabel: this.options.config.profileLabel };
    metrics.forEach((metric, i) => {
      const answer = answers[i]!;
      for (const p of answer.problems) if (mapped.problems.length < 50) mapped.problems.push(p);
      mapped.dropped += answer.problems.length;
      // An instant query's points carry the evaluation time, which is the grid step.
      mapSeries(mapped, metric, answer.series, options);
    });
    return mapped;
  }

  private tick(): void {
    if (this.stopped) return;
    this.running = this.sync()
      .then((result) => {
        this.h.state = 'running';
        this.h.lastSuccessAt = new Date(this.now()).toISOString();
        this.h.consecutiveFailures = 0;
        this.h.nextRetryAt = null;
        this.h.lastError = null;
        if (result.mode === 'range') {
          this.options.logger.info('prometheus source synced', { source: this.id, rows: result.rows, ms: Math.round(result.ms) });
        }
        this.schedule(this.options.config.pollSeconds * 1000);
      })
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        this.h.consecutiveFailures++;
        this.h.state = 'failing';
        this.h.lastError = message;
        this.h.lastErrorAt = new Date(this.now()).toISOString();
        const cap = this.options.maxBackoffMs ?? this.options.config.pollSeconds * 1000;
        const delay = Math.min(cap, (this.options.backoffMs ?? 1000) * 2 ** (this.h.consecutiveFailures - 1));
        this.h.nextRetryAt = new Date(this.now() + delay).toISOString();
        this.options.logger.warn('prometheus source failed; retrying', {
          source: this.id,
          error: message,
          failures: this.h.consecutiveFailures,
          retryInMs: delay,
        });
        this.schedule(delay);
      });
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }
}
