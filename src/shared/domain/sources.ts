import { z } from 'zod';
import { METRIC_NAMES, PROFILES } from '../contract/metrics';

const isoTime = z.iso.datetime();

/** A source id: lower-case, short, safe in a file name and a URL. */
export const SourceIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'must be 1-40 characters: a-z, 0-9, "_" or "-", starting with a letter or digit');

/** A Prometheus label name (the data model's rule). */
const LabelNameSchema = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/, 'must be a Prometheus label name');

/** An http:// or https:// URL (sources and alert receivers). */
export const HttpUrlSchema = z
  .string()
  .trim()
  .max(2000)
  .refine((text) => {
    try {
      const url = new URL(text);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

/**
 * A PromQL query per contract metric. Omitted: the node_exporter default (none for latency_ms and
 * error_rate); null: not collected (the metric stays missing); a string: that query, which must
 * return one series per instance in the metric's units.
 */
export const PrometheusQueriesSchema = z.partialRecord(z.enum(METRIC_NAMES), z.string().trim().min(1).max(4000).nullable());

/** `sources.configure` and `sources.test`: a Prometheus source (created, or changed when `id` exists). */
export const PrometheusSourceInputSchema = z
  .object({
    id: SourceIdSchema.default('prometheus'),
    kind: z.literal('prometheus').default('prometheus'),
    /** The server's base URL, e.g. http://prometheus:9090 (a path prefix is kept). */
    url: HttpUrlSchema,
    /**
     * Sent as `Authorization: Bearer ...`. Omitted: keep the stored one (none for a new source);
     * null: remove it. Never sent back: answers say `tokenSet`.
     */
    token: z.string().min(1).max(8192).nullable().optional(),
    queries: PrometheusQueriesSchema.default({}),
    /** The label that names a server (its value loses a `:port` suffix and is sanitised). */
    instanceLabel: LabelNameSchema.default('instance'),
    /** A label holding the server's profile; null: inferred from the server name. */
    profileLabel: LabelNameSchema.nullable().default(null),
    /** History fetched with query_range on start (0 to 168 h). */
    backfillHours: z.number().min(0).max(168).default(24),
    /** Per-request timeout. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** How often the live poll runs; default one step (300 s). Tests use less. */
    pollSeconds: z.number().min(1).max(3600).default(300),
    enabled: z.boolean().default(true),
  })
  .strict();
export type PrometheusSourceInput = z.input<typeof PrometheusSourceInputSchema>;
export type PrometheusSourceConfig = z.output<typeof PrometheusSourceInputSchema>;

export const SourceHealthSchema = z.object({
  state: z.enum(['starting', 'running', 'stopped', 'failing']),
  /** Last query that answered (backfill or poll). */
  lastSuccessAt: isoTime.nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: isoTime.nullable(),
  consecutiveFailures: z.number().int().nonnegative(),
  /** When the next try runs after a failure (exponential backoff); null when healthy. */
  nextRetryAt: isoTime.nullable(),
  /** Series (instance x metric) in the latest answer, and the servers they map to. */
  series: z.number().int().nonnegative(),
  servers: z.number().int().nonnegative(),
  /** Rows accepted by the store since start, and values dropped (out of range, unmapped...). */
  rowsIngested: z.number().int().nonnegative(),
  valuesDropped: z.number().int().nonnegative(),
  backfill: z
    .object({ rows: z.number().int().nonnegative(), ms: z.number().nonnegative(), at: isoTime })
    .nullable(),
  lastPoll: z
    .object({ rows: z.number().int().nonnegative(), ms: z.number().nonnegative(), at: isoTime })
    .nullable(),
});
export type SourceHealth = z.infer<typeof SourceHealthSchema>;

/** A configured source as the API shows it: never the token, only whether one is set. */
export const SourceInfoSchema = z.object({
  id: z.string(),
  kind: z.literal('prometheus'),
  url: z.string(),
  tokenSet: z.boolean(),
  /** The effective query per metric (defaults filled in); null: not collected. */
  queries: z.record(z.enum(METRIC_NAMES), z.string().nullable()),
  instanceLabel: z.string(),
  profileLabel: z.string().nullable(),
  backfillHours: z.number(),
  timeoutMs: z.number(),
  pollSeconds: z.number(),
  enabled: z.boolean(),
  health: SourceHealthSchema,
});
export type SourceInfo = z.infer<typeof SourceInfoSchema>;

export const SourcesListSchema = z.object({ sources: z.array(SourceInfoSchema) });
export type SourcesList = z.infer<typeof SourcesListSchema>;

export const SourceRemoveSchema = z.object({ id: SourceIdSchema }).strict();
export const SourceRemovedSchema = z.object({ id: z.string(), removed: z.boolean() });

/** Why a series or value is not ingested. */
export const SourceProblemSchema = z.object({
  metric: z.enum(METRIC_NAMES).nullable(),
  /** The instance label value (or the whole series' labels when it has none). */
  instance: z.string().nullable(),
  reason: z.string(),
});
export type SourceProblem = z.infer<typeof SourceProblemSchema>;

/** `sources.test`: one dry query per metric at the latest grid step; nothing is written. */
export const SourceTestResultSchema = z.object({
  ok: z.boolean(),
  url: z.string(),
  /** The grid timestamp queried. */
  time: isoTime,
  durationMs: z.number().nonnegative(),
  series: z.number().int().nonnegative(),
  /** What would be ingested: one row per server. */
  servers: z.array(
    z.object({
      server: z.string(),
      instance: z.string(),
      profile: z.enum(PROFILES),
      /** null: a non-finite value (NaN, ±Inf), kept as such. */
      metrics: z.partialRecord(z.enum(METRIC_NAMES), z.number().nullable()),
    }),
  ),
  problems: z.array(SourceProblemSchema),
});
export type SourceTestResult = z.infer<typeof SourceTestResultSchema>;
