import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiError, type EventBus } from '@shared/contract';
import {
  AlertSchema,
  DeliverySchema,
  INTEGRATION_KINDS,
  type Alert,
  type Delivery,
  type IntegrationInfo,
  type IntegrationInputSchema,
} from '@shared/domain';
import { describeFetchError } from '../sources/prometheus/client';
import { writeFileAtomic } from '../util/atomic-write';
import type { Logger } from '../util/logger';
import { buildRequest, testAlert, type DeliveryEvent, type IntegrationConfig } from './payloads';

/** Receivers, their secrets, the queue, the log and the alerts already announced: written 0600 after every change. */
export const INTEGRATIONS_FILE = 'integrations.json';
const LOG_LIMIT = 500;
/** A delivery still failing after this long is given up (and logged as failed). */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;

const ConfigSchema = z.object({
  id: z.string(),
  kind: z.enum(INTEGRATION_KINDS),
  enabled: z.boolean(),
  minSeverity: z.enum(['warning', 'critical']),
  timeoutMs: z.number(),
  url: z.string(),
  routingKey: z.string().nullable(),
});
const QueueItemSchema = z.object({ delivery: DeliverySchema, alert: AlertSchema, previous: AlertSchema.nullable() });
type QueueItem = z.infer<typeof QueueItemSchema>;
const StateSchema = z.object({
  integrations: z.array(ConfigSchema),
  queue: z.array(QueueItemSchema),
  log: z.array(DeliverySchema),
  /** Open alerts as last announced, and which receivers were told they fire. */
  known: z.array(z.object({ alert: AlertSchema, notified: z.array(z.string()) })),
});
type State = z.infer<typeof StateSchema>;

export interface IntegrationManagerOptions {
  dataDir: string;
  events: EventBus;
  logger: Logger;
  /** The open alerts now (the predictor's book). */
  activeAlerts: () => Alert[];
  /** A resolved alert's final record, when the store has it. */
  resolvedAlert?: (id: number, server: string) => Alert | null;
  now?: () => number;
  /** First retry delay; doubles per failure up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

type ParsedInput = z.output<typeof IntegrationInputSchema>;

/**
 * Alert integrations: listens to `alerts.changed`, diffs the open alerts against those it already
 * announced, and queues one delivery per receiver for each alert that opened, changed severity or
 * failure mode, or resolved. Each receiver's queue is delivered in order, one at a time, with
 * exponential backoff on failure; the queue is on disk, so a receiver that is down (or a restart)
 * loses nothing. Every request carries a stable key (Idempotency-Key header, PagerDuty dedup_key
 * per alert id, Alertmanager's label set) so a retry after a lost answer is not a second page.
 */
export class IntegrationManager {
  private readonly path: string;
  private readonly state: State;
  private readonly now: () => number;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly busy = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  constructor(private readonly options: IntegrationManagerOptions) {
    this.path = join(options.dataDir, INTEGRATIONS_FILE);
    mkdirSync(options.dataDir, { recursive: true });
    this.now = options.now ?? Date.now;
    this.state = this.load();
    this.updateSubscription();
    for (const c of this.state.integrations) this.kick(c.id);
  }

  /**
   * Listens to alerts.changed only while some receiver is enabled (nothing to diff otherwise);
   * on subscribing, the alerts open now are compared with those last announced at once.
   */
  private updateSubscription(): void {
    const wanted = !this.closed && this.state.integrations.some((c) => c.enabled);
    if (wanted && !this.unsubscribe) {
      this.unsubscribe = this.options.events.on('alerts.changed', () => this.sync());
      this.sync();
    } else if (!wanted && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = null;
      this.state.known = [];
      this.save();
    }
  }

  list(): IntegrationInfo[] {
    return this.state.integrations.map((c) => this.info(c));
  }

  configure(input: ParsedInput): IntegrationInfo {
    const previous = this.state.integrations.find((c) => c.id === input.id);
    if (previous && previous.kind !== input.kind) {
      throw new ApiError('invalid_input', `id: "${input.id}" is a ${previous.kind} integration; remove it first to make it a ${input.kind}`);
    }
    let url: string;
    let routingKey: string | null = null;
    switch (input.kind) {
      case 'alertmanager':
        url = input.url;
        break;
      case 'webhook':
      case 'slack': {
        const given = input.url ?? previous?.url;
        if (!given) throw new ApiError('invalid_input', `url: required for a new ${input.kind} integration`);
        url = given;
        break;
      }
      case 'pagerduty': {
        url = input.url;
        routingKey = input.routingKey ?? previous?.routingKey ?? null;
        if (!routingKey) throw new ApiError('invalid_input', 'routingKey: required for a new pagerduty integration');
        break;
      }
    }
    const config: IntegrationConfig = {
      id: input.id,
      kind: input.kind,
      enabled: input.enabled,
      minSeverity: input.minSeverity,
      timeoutMs: input.timeoutMs,
      url,
      routingKey,
    };
    if (previous) Object.assign(previous, config);
    else this.state.integrations.push(config);
    // A new receiver hears of the alerts already open.
    if (!previous && config.enabled) {
      for (const k of this.state.known) {
        if (this.wants(config, k.alert)) {
          this.enqueue(config, 'firing', k.alert, null);
          k.notified.push(config.id);
        }
      }
    }
    this.save();
    this.updateSubscription();
    this.options.logger.info('integration configured', { id: config.id, kind: config.kind, target: this.target(config) });
    this.kick(config.id);
    return this.info(config);
  }

  remove(id: string): { id: string; removed: boolean } {
    const i = this.state.integrations.findIndex((c) => c.id === id);
    if (i < 0) throw new ApiError('not_found', `No integration with id "${id}"`);
    this.state.integrations.splice(i, 1);
    this.state.queue = this.state.queue.filter((q) => q.delivery.integrationId !== id);
    for (const k of this.state.known) k.notified = k.notified.filter((n) => n !== id);
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
    this.save();
    this.updateSubscription();
    return { id, removed: true };
  }

  /** Sends a test alert now (out of the queue's order); if that attempt fails it is queued for retries. */
  async test(id: string): Promise<Delivery> {
    const config = this.state.integrations.find((c) => c.id === id);
    if (!config) throw new ApiError('not_found', `No integration with id "${id}"`);
    const item = this.newItem(config, 'test', testAlert(this.now()), null);
    this.record(item.delivery);
    const ok = await this.attempt(config, item);
    if (!ok && item.delivery.state === 'retrying') {
      this.state.queue.push(item);
      this.save();
      this.kick(config.id);
    }
    return { ...item.delivery };
  }

  log(id?: string, limit = 100): Delivery[] {
    return this.state.log
      .filter((d) => id === undefined || d.integrationId === id)
      .slice(-limit)
      .reverse()
      .map((d) => ({ ...d }));
  }

  /** Resolves when no receiver's queue has a delivery due now (tests). */
  async idle(): Promise<void> {
    while (this.busy.size > 0) await Promise.all([...this.busy.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.busy.values()]);
  }

  /** Compares the open alerts with those announced and queues what changed. */
  sync(): void {
    if (this.closed) return;
    const active = new Map(this.options.activeAlerts().map((a) => [a.id, a]));
    const known = new Map(this.state.known.map((k) => [k.alert.id, k]));
    let changed = false;
    for (const alert of active.values()) {
      const k = known.get(alert.id);
      if (!k) {
        const notified: string[] = [];
        for (const c of this.enabled()) {
          if (!this.wants(c, alert)) continue;
          this.enqueue(c, 'firing', alert, null);
          notified.push(c.id);
        }
        this.state.known.push({ alert, notified });
        changed = true;
        continue;
      }
      const relabelled = k.alert.severity !== alert.severity || k.alert.failureMode !== alert.failureMode;
      if (!relabelled) {
        k.alert = alert;
        continue;
      }
      for (const c of this.enabled()) {
        const told = k.notified.includes(c.id);
        if (this.wants(c, alert)) {
          this.enqueue(c, 'firing', alert, told ? k.alert : null);
          if (!told) k.notified.push(c.id);
        } else if (told) {
          this.enqueue(c, 'resolved', { ...k.alert, endedAt: new Date(this.now()).toISOString() }, null);
          k.notified = k.notified.filter((n) => n !== c.id);
        }
      }
      k.alert = alert;
      changed = true;
    }
    for (const k of [...this.state.known]) {
      if (active.has(k.alert.id)) continue;
      const final = this.options.resolvedAlert?.(k.alert.id, k.alert.server) ?? {
        ...k.alert,
        state: 'resolved' as const,
        endedAt: new Date(this.now()).toISOString(),
      };
      for (const c of this.enabled()) if (k.notified.includes(c.id)) this.enqueue(c, 'resolved', final, null);
      this.state.known.splice(this.state.known.indexOf(k), 1);
      changed = true;
    }
    if (changed) {
      this.save();
      for (const c of this.state.integrations) this.kick(c.id);
    }
  }

  private enabled(): IntegrationConfig[] {
    return this.state.integrations.filter((c) => c.enabled);
  }

  private wants(config: IntegrationConfig, alert: Alert): boolean {
    return config.minSeverity === 'warning' || alert.severity === 'critical';
  }

  private newItem(config: IntegrationConfig, event: DeliveryEvent, alert: Alert, previous: Alert | null): QueueItem {
    const at = new Date(this.now()).toISOString();
    return {
      delivery: {
        id: randomUUID(),
        integrationId: config.id,
        kind: config.kind,
        event,
        alertId: event === 'test' ? null : alert.id,
        server: event === 'test' ? null : alert.server,
        severity: alert.severity,
        state: 'queued',
        attempts: 0,
        createdAt: at,
        lastAttemptAt: null,
        nextAttemptAt: at,
        deliveredAt: null,
        httpStatus: null,
        error: null,
      },
      alert,
      previous,
    };
  }

  private enqueue(config: IntegrationConfig, event: DeliveryEvent, alert: Alert, previous: Alert | null): void {
    const item = this.newItem(config, event, alert, previous);
    this.state.queue.push(item);
    this.record(item.delivery);
  }

  /** The log keeps the latest state of each delivery. */
  private record(delivery: Delivery): void {
    const i = this.state.log.findIndex((d) => d.id === delivery.id);
    if (i >= 0) this.state.log[i] = { ...delivery };
    else this.state.log.push({ ...delivery });
    if (this.state.log.length > LOG_LIMIT) this.state.log.splice(0, this.state.log.length - LOG_LIMIT);
  }

  /** Delivers one receiver's queue in order; on a failure waits for the backoff and goes on. */
  private kick(id: string): void {
    if (this.closed) return;
    if (this.busy.has(id)) {
      // The running pump may be past its last look at the queue: it goes round once more.
      this.again.add(id);
      return;
    }
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
    const run = this.pump(id).finally(() => {
      this.busy.delete(id);
      if (this.again.delete(id)) this.kick(id);
    });
    this.busy.set(id, run);
  }

  private async pump(id: string): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const config = this.state.integrations.find((c) => c.id === id);
      const item = this.state.queue.find((q) => q.delivery.integrationId === id);
      if (!config || !item) return;
      if (!config.enabled) return;
      const wait = Date.parse(item.delivery.nextAttemptAt ?? item.delivery.createdAt) - this.now();
      if (wait > 0) {
        const t = setTimeout(() => this.kick(id), wait);
        t.unref();
        this.timers.set(id, t);
        return;
      }
      await this.attempt(config, item);
      if (item.delivery.state === 'delivered' || item.delivery.state === 'failed') {
        this.state.queue.splice(this.state.queue.indexOf(item), 1);
      }
      this.save();
    }
  }

  /** One HTTP attempt; updates the delivery (and the log) in place. True when delivered. */
  private async attempt(config: IntegrationConfig, item: QueueItem): Promise<boolean> {
    const d = item.delivery;
    const now = this.now();
    d.attempts++;
    d.lastAttemptAt = new Date(now).toISOString();
    const request = buildRequest(config, d.event, item.alert, d.id, now, item.previous);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      status = response.status;
      const text = await response.text().catch(() => '');
      if (!response.ok) error = `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
    } catch (e) {
      error = describeFetchError(e, config.timeoutMs);
    }
    d.httpStatus = status;
    if (error === null) {
      d.state = 'delivered';
      d.deliveredAt = new Date(this.now()).toISOString();
      d.nextAttemptAt = null;
      d.error = null;
      this.record(d);
      return true;
    }
    d.error = this.redact(config, error);
    // 4xx other than timeout/rate-limit will not get better by retrying: a bad key, a bad URL.
    const permanent = status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429;
    const expired = this.now() - Date.parse(d.createdAt) > GIVE_UP_AFTER_MS;
    if (permanent || expired) {
      d.state = 'failed';
      d.nextAttemptAt = null;
      this.options.logger.warn('alert delivery failed; not retrying', { integration: config.id, delivery: d.id, error: d.error });
    } else {
      d.state = 'retrying';
      const delay = Math.min(this.options.maxBackoffMs ?? 5 * 60_000, (this.options.backoffMs ?? 1_000) * 2 ** (d.attempts - 1));
      d.nextAttemptAt = new Date(this.now() + delay).toISOString();
      this.options.logger.warn('alert delivery failed; will retry', { integration: config.id, delivery: d.id, attempts: d.attempts, error: d.error });
    }
    this.record(d);
    return false;
  }

  private redact(config: IntegrationConfig, text: string): string {
    let out = text;
    for (const secret of [config.routingKey, config.kind === 'webhook' || config.kind === 'slack' ? config.url : null]) {
      if (secret) out = out.split(secret).join('***');
    }
    return out;
  }

  private target(config: IntegrationConfig): string {
    try {
      const url = new URL(config.url);
      if (config.kind === 'alertmanager') {
        if (url.username || url.password) {
          url.username = '***';
          url.password = '';
        }
        return url.toString().replace(/\/$/, '');
      }
      return `${url.origin}/…`;
    } catch {
      return '(invalid URL)';
    }
  }

  private info(config: IntegrationConfig): IntegrationInfo {
    const mine = this.state.log.filter((d) => d.integrationId === config.id);
    const last = [...mine].reverse().find((d) => d.state === 'delivered');
    const lastError = [...mine].reverse().find((d) => d.error !== null);
    return {
      id: config.id,
      kind: config.kind,
      enabled: config.enabled,
      minSeverity: config.minSeverity,
      timeoutMs: config.timeoutMs,
      target: this.target(config),
      secretSet: config.kind === 'pagerduty' ? config.routingKey !== null : config.kind !== 'alertmanager',
      pending: this.state.queue.filter((q) => q.delivery.integrationId === config.id).length,
      delivered: mine.filter((d) => d.state === 'delivered').length,
      failed: mine.filter((d) => d.state === 'failed').length,
      lastDeliveryAt: last?.deliveredAt ?? null,
      lastError: lastError?.error ?? null,
    };
  }

  private load(): State {
    const empty: State = { integrations: [], queue: [], log: [], known: [] };
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.options.logger.warn('integrations file unreadable', { path: this.path, error });
      return empty;
    }
    try {
      return StateSchema.parse(JSON.parse(text));
    } catch (error) {
      this.options.logger.warn('integrations file is invalid; starting without integrations', {
        path: this.path,
        error: error instanceof Error ? error.message.slice(0, 300) : String(error),
      });
      return empty;
    }
  }

  private save(): void {
    writeFileAtomic(this.path, JSON.stringify(this.state), 0o600);
  }
}
