import { z } from 'zod';
import { ALERT_SEVERITIES } from './alerts';
import { HttpUrlSchema } from './sources';

const isoTime = z.iso.datetime();

export const INTEGRATION_KINDS = ['alertmanager', 'webhook', 'slack', 'pagerduty'] as const;
export type IntegrationKind = (typeof INTEGRATION_KINDS)[number];

export const IntegrationIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'must be 1-40 characters: a-z, 0-9, "_" or "-", starting with a letter or digit');


const common = {
  id: IntegrationIdSchema,
  enabled: z.boolean().default(true),
  /** Alerts below this severity are not sent. */
  minSeverity: z.enum(ALERT_SEVERITIES).default('warning'),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
};

/**
 * `integrations.configure`: creates or replaces one receiver. Secret fields (a webhook URL, which
 * often carries a token, a Slack webhook URL, a PagerDuty routing key) may be omitted on a change
 * to keep the stored one; they are never sent back.
 */
export const IntegrationInputSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('alertmanager'),
      ...common,
      /** Alertmanager's base URL, e.g. http://alertmanager:9093; alerts go to /api/v2/alerts. */
      url: HttpUrlSchema,
    })
    .strict(),
  z.object({ kind: z.literal('webhook'), ...common, url: HttpUrlSchema.optional() }).strict(),
  z.object({ kind: z.literal('slack'), ...common, url: HttpUrlSchema.optional() }).strict(),
  z
    .object({
      kind: z.literal('pagerduty'),
      ...common,
      routingKey: z.string().trim().min(1).max(200).optional(),
      /** The Events API v2 endpoint; default https://events.pagerduty.com/v2/enqueue. */
      url: HttpUrlSchema.default('https://events.pagerduty.com/v2/enqueue'),
    })
    .strict(),
]);
export type IntegrationInput = z.input<typeof IntegrationInputSchema>;

export const IntegrationInfoSchema = z.object({
  id: z.string(),
  kind: z.enum(INTEGRATION_KINDS),
  enabled: z.boolean(),
  minSeverity: z.enum(ALERT_SEVERITIES),
  timeoutMs: z.number(),
  /** Where it sends, without secrets: the origin only for webhook and Slack URLs. */
  target: z.string(),
  /** Whether the secret (webhook URL, Slack URL, routing key) is stored. */
  secretSet: z.boolean(),
  /** Deliveries waiting (queued or retrying). */
  pending: z.number().int().nonnegative(),
  delivered: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  lastDeliveryAt: isoTime.nullable(),
  lastError: z.string().nullable(),
});
export type IntegrationInfo = z.infer<typeof IntegrationInfoSchema>;

export const IntegrationsListSchema = z.object({ integrations: z.array(IntegrationInfoSchema) });
export type IntegrationsList = z.infer<typeof IntegrationsListSchema>;

export const IntegrationRefSchema = z.object({ id: IntegrationIdSchema }).strict();
export const IntegrationRemovedSchema = z.object({ id: z.string(), removed: z.boolean() });

export const DELIVERY_EVENTS = ['firing', 'resolved', 'test'] as const;
export const DELIVERY_STATES = ['queued', 'retrying', 'delivered', 'failed'] as const;

/** One message to one receiver, from queueing to delivery or giving up. */
export const DeliverySchema = z.object({
  /** Stable across retries and restarts: the Idempotency-Key header and the log's key. */
  id: z.string(),
  integrationId: z.string(),
  kind: z.enum(INTEGRATION_KINDS),
  event: z.enum(DELIVERY_EVENTS),
  alertId: z.number().int().nullable(),
  server: z.string().nullable(),
  severity: z.enum(ALERT_SEVERITIES).nullable(),
  state: z.enum(DELIVERY_STATES),
  attempts: z.number().int().nonnegative(),
  createdAt: isoTime,
  lastAttemptAt: isoTime.nullable(),
  nextAttemptAt: isoTime.nullable(),
  deliveredAt: isoTime.nullable(),
  /** HTTP status of the last attempt; null when it got none (refused, timed out). */
  httpStatus: z.number().int().nullable(),
  /** Why the last attempt failed (secrets redacted). */
  error: z.string().nullable(),
});
export type Delivery = z.infer<typeof DeliverySchema>;

export const IntegrationsLogQuerySchema = z
  .object({
    id: IntegrationIdSchema.optional(),
    limit: z.number().int().min(1).max(1000).default(100),
  })
  .strict();
export const IntegrationsLogSchema = z.object({ deliveries: z.array(DeliverySchema) });
export type IntegrationsLog = z.infer<typeof IntegrationsLogSchema>;
