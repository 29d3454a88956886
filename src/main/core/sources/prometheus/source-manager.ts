import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiError } from '@shared/contract';
import {
  PrometheusSourceInputSchema,
  type PrometheusSourceConfig,
  type SourceInfo,
  type SourceStatus,
  type SourceTestResult,
} from '@shared/domain';
import type { IngestReport, MetricsStore } from '../../store';
import { writeFileAtomic } from '../../util/atomic-write';
import type { Logger } from '../../util/logger';
import { PrometheusSource } from './prometheus-source';
import { effectiveQueries } from './queries';

/** Configured sources, tokens included: written 0600, never logged, never answered. */
export const SOURCES_FILE = 'sources.json';

const StoredSchema = z.object({
  sources: z.array(z.object({ config: PrometheusSourceInputSchema, token: z.string().nullable() })),
});

export interface SourceManagerOptions {
  dataDir: string;
  store: MetricsStore;
  logger: Logger;
  now?: () => number;
  backoffMs?: number;
  onIngest?: (info: { report: IngestReport; time: number }) => void;
}

/** The configured Prometheus sources: their settings on disk and one running PrometheusSource each. */
export class SourceManager {
  private readonly path: string;
  private readonly entries = new Map<string, { source: PrometheusSource; token: string | null }>();
  private started = false;

  constructor(private readonly options: SourceManagerOptions) {
    this.path = join(options.dataDir, SOURCES_FILE);
    mkdirSync(options.dataDir, { recursive: true });
    for (const { config, token } of this.load()) this.entries.set(config.id, { source: this.create(config, token), token });
  }

  /** Starts every enabled source (backfill, then polling). */
  start(): void {
    this.started = true;
    for (const { source } of this.entries.values()) if (source.config.enabled) source.start();
  }

  list(): SourceInfo[] {
    return [...this.entries.values()].map(({ source, token }) => info(source, token));
  }

  /** Creates or replaces a source; a token omitted keeps the stored one, null removes it. */
  async configure(input: PrometheusSourceConfig & { token?: string | null | undefined }): Promise<SourceInfo> {
    const { token: given, ...config } = input;
    const previous = this.entries.get(config.id);
    const token = given === undefined ? (previous?.token ?? null) : given;
    if (previous) await previous.source.stop();
    const source = this.create(config, token);
    this.entries.set(config.id, { source, token });
    this.save();
    if (this.started && config.enabled) source.start();
    this.options.logger.info('prometheus source configured', { source: config.id, url: redactUrl(config.url), tokenSet: token !== null });
    return info(source, token);
  }

  /** A dry read with this configuration (the stored token when none is given and the id exists). */
  async test(input: PrometheusSourceConfig & { token?: string | null | undefined }): Promise<SourceTestResult> {
    const { token: given, ...config } = input;
    const token = given === undefined ? (this.entries.get(config.id)?.token ?? null) : given;
    return this.create(config, token).test();
  }

  async remove(id: string): Promise<{ id: string; removed: boolean }> {
    const entry = this.entries.get(id);
    if (!entry) throw new ApiError('not_found', `No source with id "${id}"`);
    await entry.source.stop();
    this.entries.delete(id);
    this.save();
    return { id, removed: true };
  }

  /** For fleet.status's `sources`. */
  statuses(): SourceStatus[] {
    return [...this.entries.values()].map(({ source }) => {
      const h = source.health();
      const detail =
        h.state === 'failing'
          ? `${h.lastError ?? 'failing'} (${h.consecutiveFailures} failures, retry at ${h.nextRetryAt ?? '?'})`
          : h.state === 'stopped'
            ? `${redactUrl(source.config.url)}: disabled`
            : `${redactUrl(source.config.url)}: ${h.servers} servers, ${h.series} series${h.lastSuccessAt ? `, last read ${h.lastSuccessAt}` : ''}`;
      return { id: source.id, kind: 'prometheus' as const, state: h.state, detail, speed: null };
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.entries.values()].map(({ source }) => source.stop()));
  }

  private create(config: PrometheusSourceConfig, token: string | null): PrometheusSource {
    return new PrometheusSource({
      config,
      token,
      store: this.options.store,
      logger: this.options.logger,
      ...(this.options.now ? { now: this.options.now } : {}),
      ...(this.options.backoffMs !== undefined ? { backoffMs: this.options.backoffMs } : {}),
      ...(this.options.onIngest ? { onIngest: this.options.onIngest } : {}),
    });
  }

  private load(): { config: PrometheusSourceConfig; token: string | null }[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.options.logger.warn('sources file unreadable', { path: this.path, error });
      return [];
    }
    try {
      return StoredSchema.parse(JSON.parse(text)).sources;
    } catch (error) {
      this.options.logger.warn('sources file is invalid; no Prometheus source runs until it is configured again', {
        path: this.path,
        error: error instanceof Error ? error.message.slice(0, 300) : String(error),
      });
      return [];
    }
  }

  private save(): void {
    const sources = [...this.entries.values()].map(({ source, token }) => ({ config: source.config, token }));
    writeFileAtomic(this.path, `${JSON.stringify({ sources }, null, 2)}\n`, 0o600);
  }
}

function info(source: PrometheusSource, token: string | null): SourceInfo {
  const c = source.config;
  return {
    id: c.id,
    kind: 'prometheus',
    url: redactUrl(c.url),
    tokenSet: token !== null,
    queries: effectiveQueries(c.queries, c.instanceLabel, c.profileLabel),
    instanceLabel: c.instanceLabel,
    profileLabel: c.profileLabel,
    backfillHours: c.backfillHours,
    timeoutMs: c.timeoutMs,
    pollSeconds: c.pollSeconds,
    enabled: c.enabled,
    health: source.health(),
  };
}

/** A URL without user:password (which may be a credential). */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.username || url.password) {
      url.username = '***';
      url.password = '';
    }
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}
