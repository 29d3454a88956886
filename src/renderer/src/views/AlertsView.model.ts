import type { Profile } from '@shared/contract';
import type { Alert, AlertsListQuery } from '@shared/domain';
import { hrefFor } from '../routing/routes';

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

// ---------------------------------------------------------------------------------------------
// Filters and sorting of the alerts list (alerts.list).

export type AlertStateFilter = 'open' | 'resolved' | 'all';
export type AlertSort = 'newest' | 'risk';

export interface AlertFilters {
  state: AlertStateFilter;
  severity: Alert['severity'] | 'all';
  profile: Profile | 'all';
  /** Part of a server name, any case; empty: every server. */
  server: string;
  sort: AlertSort;
}

export const DEFAULT_ALERT_FILTERS: AlertFilters = {
  state: 'all',
  severity: 'all',
  profile: 'all',
  server: '',
  sort: 'newest',
};

/** How many alerts one answer may carry: the contract's maximum, so the server filter (applied here) sees them all. */
export const ALERTS_LIMIT = 1000;

/**
 * The alerts.list input for the filters. State, severity and profile go to the core; the server
 * filter is a substring match done here (the core matches a whole name only).
 */
export function alertsListInput(filters: AlertFilters): AlertsListQuery {
  const input: AlertsListQuery = { state: filters.state, limit: ALERTS_LIMIT };
  if (filters.severity !== 'all') input.severity = filters.severity;
  if (filters.profile !== 'all') input.profile = filters.profile;
  return input;
}

/** The rows to show: the server filter applied, in the chosen order (the input is not changed). */
export function visibleAlerts(alerts: readonly Alert[], filters: Pick<AlertFilters, 'server' | 'sort'>): Alert[] {
  const needle = filters.server.trim().toLowerCase();
  const rows = needle ? alerts.filter((a) => a.server.toLowerCase().includes(needle)) : [...alerts];
  const started = (a: Alert) => Date.parse(a.startedAt) || 0;
  if (filters.sort === 'risk') {
    // Open alerts by their risk now; a resolved one by its peak (its risk now is under 20 %).
    const score = (a: Alert) => (a.state === 'open' ? a.risk : a.peakRisk);
    rows.sort((a, b) => score(b) - score(a) || b.peakRisk - a.peakRisk || started(b) - started(a) || b.id - a.id);
  } else {
    rows.sort((a, b) => started(b) - started(a) || b.id - a.id);
  }
  return rows;
}

/** Counts for the panel's header: "12 shown · 3 open · 1 critical open". */
export function summarizeAlerts(rows: readonly Alert[]) {
  const open = rows.filter((a) => a.state === 'open');
  return {
    shown: rows.length,
    open: open.length,
    criticalOpen: open.filter((a) => a.severity === 'critical').length,
    unacknowledgedOpen: open.filter((a) => !a.acknowledged).length,
  };
}

/** True when any filter narrows the list (the "clear filters" button shows then). */
export function isFiltered(filters: AlertFilters): boolean {
  return (
    filters.state !== DEFAULT_ALERT_FILTERS.state ||
    filters.severity !== 'all' ||
    filters.profile !== 'all' ||
    filters.server.trim() !== ''
  );
}

/** "2 h 10 min", "35 min", "3 d 4 h": how long an alert lasted or has lasted so far. */
export function formatSpan(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'under 1 min';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const m = minutes % 60;
    return m ? `${hours} h ${m} min` : `${hours} h`;
  }
  const d = Math.floor(hours / 24);
  const h = hours % 24;
  return h ? `${d} d ${h} h` : `${d} d`;
}

/** The duration cell: "open for 2 h 10 min" or "lasted 35 min", measured on the fleet clock. */
export function describeDuration(alert: Pick<Alert, 'state' | 'startedAt' | 'endedAt'>, fleetNowMs: number): string {
  const start = Date.parse(alert.startedAt);
  if (alert.state === 'resolved' && alert.endedAt) return `lasted ${formatSpan(Date.parse(alert.endedAt) - start)}`;
  return `open for ${formatSpan(fleetNowMs - start)}`;
}

/** The link to a server's detail view. */
export function serverHref(server: string): string {
  return hrefFor('servers', server);
}

/** Who acknowledges from this dashboard: the name typed, else the contract's default. */
export function ackName(typed: string): string {
  const name = typed.trim().slice(0, 100);
  return name || 'operator';
}
