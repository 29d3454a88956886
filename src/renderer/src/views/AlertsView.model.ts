import type { Alert } from '@shared/domain';

/** The pill class of a severity (the status pills' palette: warning amber, critical red). */
export const SEVERITY_PILL: Record<Alert['severity'], string> = {
  warning: 'pill pill-degraded',
  critical: 'pill pill-failing',
};

/**
 * When the failure mode's metric is forecast to reach its critical threshold, from `nowMs` (the
 * fleet clock): "in 2 h 30 min", "now" once passed, "—" when the forecast stays under it.
 */
export function formatTimeToThreshold(alert: Pick<Alert, 'timeToThreshold'>, nowMs: number): string {
  const ttt = alert.timeToThreshold;
  if (!ttt) return '—';
  const ms = Date.parse(ttt.at) - nowMs;
  if (!Number.isFinite(ms)) return '—';
  if (ms <= 0) return 'now';
  const minutes = Math.round(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `in ${h} h${m > 0 ? ` ${m} min` : ''}` : `in ${m} min`;
}

/** The tooltip of the time-to-threshold cell. */
export function describeTimeToThreshold(alert: Pick<Alert, 'timeToThreshold'>): string {
  const ttt = alert.timeToThreshold;
  if (!ttt) return 'The P50 forecast stays under the critical threshold over the next 8 hours';
  return `P50 forecast of ${ttt.metric} reaches its critical threshold (${ttt.threshold}) at ${ttt.at}`;
}

/** "acknowledged by alice" for the ack cell's tooltip. */
export function describeAck(alert: Pick<Alert, 'acknowledged'>): string {
  return alert.acknowledged
    ? `Acknowledged by ${alert.acknowledged.by} at ${alert.acknowledged.at}`
    : 'Not acknowledged';
}
