import type { Alert, IntegrationKind } from '@shared/domain';

/** One receiver as stored: its settings and its secret (the URL for webhook/Slack, the routing key for PagerDuty). */
export interface IntegrationConfig {
  id: string;
  kind: IntegrationKind;
  enabled: boolean;
  minSeverity: 'warning' | 'critical';
  timeoutMs: number;
  /** Alertmanager base URL or PagerDuty endpoint (not secret); the webhook/Slack URL (secret). */
  url: string;
  /** The PagerDuty routing key; null for the other kinds. */
  routingKey: string | null;
}

export type DeliveryEvent = 'firing' | 'resolved' | 'test';

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** How long Alertmanager keeps a firing alert without hearing of it again (we send resolved explicitly). */
export const ALERTMANAGER_FIRING_TTL_MS = 24 * 3_600_000;

export const ALERT_NAME = 'TFTMPIncidentRisk';

export function pagerDutyDedupKey(alertId: number | null, deliveryId: string): string {
  return alertId === null ? `tftmp-test-${deliveryId}` : `tftmp-alert-${alertId}`;
}

/** The test alert `integrations.test` sends: plainly a test, on no real server. */
export function testAlert(now: number): Alert {
  const at = new Date(now).toISOString();
  return {
    id: 1,
    server: 'tftmp-test',
    profile: 'generic',
    severity: 'warning',
    state: 'open',
    risk: 0.5,
    peakRisk: 0.5,
    failureMode: 'test',
    timeToThreshold: null,
    startedAt: at,
    endedAt: null,
    updatedAt: at,
    acknowledged: null,
  };
}

function percent(risk: number): string {
  return `${Math.round(risk * 100)}%`;
}

export function summaryOf(alert: Alert, event: DeliveryEvent): string {
  if (event === 'test') return 'Test alert from the TFT incident-prediction console: the integration works.';
  if (event === 'resolved') return `Resolved: ${alert.server} (${alert.profile}) risk back to ${percent(alert.risk)} (peak ${percent(alert.peakRisk)})`;
  const ttt = alert.timeToThreshold ? `; ${alert.timeToThreshold.metric} reaches ${alert.timeToThreshold.threshold} at ${alert.timeToThreshold.at}` : '';
  return `${alert.severity.toUpperCase()}: ${alert.server} (${alert.profile}) ${percent(alert.risk)} risk of an incident within 8 h, failure mode ${alert.failureMode}${ttt}`;
}

function amAlert(alert: Alert, event: DeliveryEvent, now: number): Record<string, unknown> {
  const ended = event === 'resolved';
  return {
    labels: {
      alertname: ALERT_NAME,
      server: alert.server,
      profile: alert.profile,
      failure_mode: alert.failureMode,
      severity: alert.severity,
      source: 'tftmp',
      ...(event === 'test' ? { test: 'true' } : {}),
    },
    annotations: {
      summary: summaryOf(alert, event),
      risk: alert.risk.toFixed(3),
      peak_risk: alert.peakRisk.toFixed(3),
      time_to_threshold: alert.timeToThreshold?.at ?? 'none',
      ...(alert.timeToThreshold ? { threshold_metric: alert.timeToThreshold.metric, threshold: String(alert.timeToThreshold.threshold) } : {}),
      alert_id: String(alert.id),
    },
    startsAt: alert.startedAt,
    // Alert times are fleet time, which the demo runs ahead of the wall clock: endsAt stays after startsAt.
    endsAt: ended
      ? (alert.endedAt ?? new Date(Math.max(now, Date.parse(alert.startedAt))).toISOString())
      : new Date(Math.max(now, Date.parse(alert.startedAt)) + ALERTMANAGER_FIRING_TTL_MS).toISOString(),
  };
}

/**
 * The HTTP request one delivery makes. `previous` is the alert as last sent when its labels
 * changed since (severity, failure mode): Alertmanager identifies an alert by its labels, so the
 * old label set is resolved in the same request.
 */
export function buildRequest(
  config: IntegrationConfig,
  event: DeliveryEvent,
  alert: Alert,
  deliveryId: string,
  now: number,
  previous: Alert | null = null,
): OutgoingRequest {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'tftmp-console',
    'idempotency-key': deliveryId,
  };
  switch (config.kind) {
    case 'alertmanager': {
      const alerts = [amAlert(alert, event, now)];
      if (previous && event === 'firing') alerts.unshift(amAlert({ ...previous, endedAt: new Date(now).toISOString() }, 'resolved', now));
      return { url: `${config.url.replace(/\/+$/, '')}/api/v2/alerts`, headers, body: JSON.stringify(alerts) };
    }
    case 'webhook':
      return {
        url: config.url,
        headers,
        body: JSON.stringify({ version: 1, deliveryId, event, sentAt: new Date(now).toISOString(), summary: summaryOf(alert, event), alert }),
      };
    case 'slack': {
      const icon = event === 'resolved' ? ':large_green_circle:' : event === 'test' ? ':information_source:' : alert.severity === 'critical' ? ':red_circle:' : ':large_orange_circle:';
      return { url: config.url, headers, body: JSON.stringify({ text: `${icon} ${summaryOf(alert, event)}` }) };
    }
    case 'pagerduty': {
      const dedup = pagerDutyDedupKey(event === 'test' ? null : alert.id, deliveryId);
      const body =
        event === 'resolved'
          ? { routing_key: config.routingKey, event_action: 'resolve', dedup_key: dedup }
          : {
              routing_key: config.routingKey,
              event_action: 'trigger',
              dedup_key: dedup,
              payload: {
                summary: summaryOf(alert, event),
                source: alert.server,
                severity: event === 'test' ? 'info' : alert.severity,
                component: alert.profile,
                group: alert.profile,
                class: alert.failureMode,
                timestamp: alert.startedAt,
                custom_details: {
                  risk: alert.risk,
                  peak_risk: alert.peakRisk,
                  failure_mode: alert.failureMode,
                  time_to_threshold: alert.timeToThreshold,
                  alert_id: alert.id,
                },
              },
            };
      return { url: config.url, headers, body: JSON.stringify(body) };
    }
  }
}
