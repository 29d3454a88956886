import type { Delivery, IntegrationInput, IntegrationKind, SourceHealth } from '@shared/domain';

/** One line on a source's health, for people. */
export function sourceHealthLine(h: SourceHealth): string {
  switch (h.state) {
    case 'failing':
      return `Failing (${h.consecutiveFailures}×): ${h.lastError ?? 'unknown error'}${h.nextRetryAt ? `; retry at ${h.nextRetryAt.slice(11, 19)} UTC` : ''}`;
    case 'starting':
      return 'Starting: backfilling…';
    case 'stopped':
      return 'Disabled';
    case 'running':
      return `${h.servers} server${h.servers === 1 ? '' : 's'}, ${h.series} series${h.lastSuccessAt ? `, read ${h.lastSuccessAt.slice(11, 19)} UTC` : ''}${
        h.valuesDropped > 0 ? `, ${h.valuesDropped} values dropped` : ''
      }`;
  }
}

export function deliveryLine(d: Delivery): string {
  const what = d.event === 'test' ? 'test alert' : `${d.event} ${d.severity ?? ''} ${d.server ?? ''}`.replace(/\s+/g, ' ').trim();
  const how =
    d.state === 'delivered'
      ? `delivered${d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}`
      : d.state === 'retrying'
        ? `retrying (${d.attempts} attempts${d.nextAttemptAt ? `, next ${d.nextAttemptAt.slice(11, 19)} UTC` : ''})`
        : d.state;
  return `${what}: ${how}`;
}

export interface IntegrationForm {
  kind: IntegrationKind;
  id: string;
  /** Alertmanager/PagerDuty endpoint or the (secret) webhook/Slack URL; empty keeps a stored secret. */
  url: string;
  routingKey: string;
  minSeverity: 'warning' | 'critical';
}

/**
 * The form as an `integrations.configure` input: empty secret fields are left out (the core keeps
 * the stored secret), so the form never needs to hold a secret it did not type.
 */
export function integrationInput(form: IntegrationForm): IntegrationInput {
  const id = form.id.trim();
  const url = form.url.trim();
  const base = { id, minSeverity: form.minSeverity };
  switch (form.kind) {
    case 'alertmanager':
      return { ...base, kind: 'alertmanager', url };
    case 'webhook':
      return { ...base, kind: 'webhook', ...(url ? { url } : {}) };
    case 'slack':
      return { ...base, kind: 'slack', ...(url ? { url } : {}) };
    case 'pagerduty':
      return { ...base, kind: 'pagerduty', ...(url ? { url } : {}), ...(form.routingKey.trim() ? { routingKey: form.routingKey.trim() } : {}) };
  }
}

export const KIND_LABELS: Record<IntegrationKind, string> = {
  alertmanager: 'Alertmanager',
  webhook: 'Webhook (JSON)',
  slack: 'Slack incoming webhook',
  pagerduty: 'PagerDuty Events v2',
};
