import { METRIC_BY_NAME, type MetricName, type Profile } from '@shared/contract';
import {
  FAILURE_MODE_METRIC,
  RISK_THRESHOLDS,
  type Alert,
  type AlertSeverity,
  type AlertsChanged,
  type ServerPrediction,
  type TimeToThreshold,
} from '@shared/domain';

/**
 * Alert thresholds on the risk (P(incident within 8 h)). A server opens a `warning` alert at a
 * risk of WARNING_RISK or more, and the alert is `critical` at CRITICAL_RISK or more.
 */
export const WARNING_RISK = RISK_THRESHOLDS.warning;
export const CRITICAL_RISK = RISK_THRESHOLDS.critical;
/**
 * Hysteresis: an alert resolves only after RESOLVE_CYCLES consecutive cycles with the risk under
 * WARNING_RISK - RESOLVE_MARGIN (0.2); a critical alert steps down to warning only after as many
 * cycles under CRITICAL_RISK - RESOLVE_MARGIN (0.5). A risk hovering at a threshold never flaps.
 */
export const RESOLVE_MARGIN = 0.1;
export const RESOLVE_CYCLES = 2;

export function severityOf(risk: number): AlertSeverity | null {
  if (risk >= CRITICAL_RISK) return 'critical';
  if (risk >= WARNING_RISK) return 'warning';
  return null;
}

/** An alert as the book keeps it: times in ms (fleet time), and the hysteresis counters. */
export interface AlertRecord {
  id: number;
  server: string;
  profile: Profile;
  severity: AlertSeverity;
  state: 'open' | 'resolved';
  risk: number;
  peakRisk: number;
  failureMode: string;
  timeToThreshold: { metric: MetricName; threshold: number; at: number } | null;
  startedAt: number;
  endedAt: number | null;
  updatedAt: number;
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
  /** Consecutive cycles under the resolve level (WARNING_RISK - RESOLVE_MARGIN). */
  calmCycles: number;
  /** Consecutive cycles under the step-down level (CRITICAL_RISK - RESOLVE_MARGIN), while critical. */
  coolCycles: number;
}

/** One prediction cycle as the alert step sees it. */
export interface AlertCycle {
  /** When the cycle ran (fleet time, ms): alert start and end times. */
  at: number;
  /** `horizonTimes[k]`: the end of forecast step k (ms). */
  horizonTimes: readonly number[];
  servers: readonly ServerPrediction[];
}

export interface AlertChanges {
  opened: AlertRecord[];
  updated: AlertRecord[];
  resolved: AlertRecord[];
}

/**
 * The first horizon step whose P50 of the failure mode's metric reaches the metric's contract
 * critical threshold; null when none does, or the mode has no metric in the forecast.
 */
export function timeToThreshold(
  prediction: Pick<ServerPrediction, 'failureMode' | 'forecast'>,
  horizonTimes: readonly number[],
): AlertRecord['timeToThreshold'] {
  const metric = FAILURE_MODE_METRIC[prediction.failureMode];
  if (!metric) return null;
  const threshold = METRIC_BY_NAME[metric].critical;
  const band = prediction.forecast.find((b) => b.metric === metric);
  if (threshold === null || !band) return null;
  const k = band.p50.findIndex((v) => v >= threshold);
  const at = k >= 0 ? horizonTimes[k] : undefined;
  return at === undefined ? null : { metric, threshold, at };
}

/**
 * The open alerts, one per server at most (dedup), moved on by each prediction cycle. Pure: no
 * clock, no store; ids come from `nextId` (the store's highest id + 1 when restored).
 */
export class AlertBook {
  private readonly open = new Map<string, AlertRecord>();
  private nextId: number;

  constructor(restored: readonly AlertRecord[] = [], nextId = 1) {
    this.nextId = nextId;
    for (const alert of restored) {
      if (alert.state !== 'open') continue;
      this.open.set(alert.server, { ...alert });
      this.nextId = Math.max(this.nextId, alert.id + 1);
    }
  }

  /**
   * Applies one cycle. Servers absent from it (skipped: no data, low coverage) keep their alert
   * as it is: no prediction is no evidence either way.
   */
  apply(cycle: AlertCycle): AlertChanges {
    const changes: AlertChanges = { opened: [], updated: [], resolved: [] };
    for (const p of cycle.servers) {
      const current = this.open.get(p.server);
      const ttt = timeToThreshold(p, cycle.horizonTimes);
      if (!current) {
        const severity = severityOf(p.risk);
        if (severity === null) continue;
        const alert: AlertRecord = {
          id: this.nextId++,
          server: p.server,
          profile: p.profile,
          severity,
          state: 'open',
          risk: p.risk,
          peakRisk: p.risk,
          failureMode: p.failureMode,
          timeToThreshold: ttt,
          startedAt: cycle.at,
          endedAt: null,
          updatedAt: cycle.at,
          acknowledgedBy: null,
          acknowledgedAt: null,
          calmCycles: 0,
          coolCycles: 0,
        };
        this.open.set(p.server, alert);
        changes.opened.push({ ...alert });
        continue;
      }
      const a = current;
      a.risk = p.risk;
      a.peakRisk = Math.max(a.peakRisk, p.risk);
      a.failureMode = p.failureMode;
      a.timeToThreshold = ttt;
      a.profile = p.profile;
      a.updatedAt = cycle.at;
      a.calmCycles = p.risk < WARNING_RISK - RESOLVE_MARGIN ? a.calmCycles + 1 : 0;
      if (p.risk >= CRITICAL_RISK) {
        a.severity = 'critical';
        a.coolCycles = 0;
      } else if (a.severity === 'critical') {
        a.coolCycles = p.risk < CRITICAL_RISK - RESOLVE_MARGIN ? a.coolCycles + 1 : 0;
        if (a.coolCycles >= RESOLVE_CYCLES) {
          a.severity = 'warning';
          a.coolCycles = 0;
        }
      }
      if (a.calmCycles >= RESOLVE_CYCLES) {
        a.state = 'resolved';
        a.endedAt = cycle.at;
        this.open.delete(p.server);
        changes.resolved.push({ ...a });
      } else {
        changes.updated.push({ ...a });
      }
    }
    return changes;
  }

  /**
   * Acknowledges an open alert. Null when no open alert has this id (never was, or resolved);
   * an alert acknowledged before keeps its first acknowledgement.
   */
  acknowledge(id: number, by: string, at: number): { alert: AlertRecord; changed: boolean } | null {
    for (const a of this.open.values()) {
      if (a.id !== id) continue;
      if (a.acknowledgedAt !== null) return { alert: { ...a }, changed: false };
      a.acknowledgedBy = by;
      a.acknowledgedAt = at;
      return { alert: { ...a }, changed: true };
    }
    return null;
  }

  /** Open alerts, critical first, then by risk (highest first), then by server. */
  active(): AlertRecord[] {
    return [...this.open.values()]
      .map((a) => ({ ...a }))
      .sort(
        (a, b) =>
          (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1) ||
          b.risk - a.risk ||
          a.server.localeCompare(b.server),
      );
  }

  counts(): AlertsChanged['active'] {
    const counts = { warning: 0, critical: 0 };
    for (const a of this.open.values()) counts[a.severity]++;
    return counts;
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The contract's shape of an alert. */
export function toAlert(a: AlertRecord): Alert {
  const ttt: TimeToThreshold | null = a.timeToThreshold
    ? { metric: a.timeToThreshold.metric, threshold: a.timeToThreshold.threshold, at: iso(a.timeToThreshold.at) }
    : null;
  return {
    id: a.id,
    server: a.server,
    profile: a.profile,
    severity: a.severity,
    state: a.state,
    risk: a.risk,
    peakRisk: a.peakRisk,
    failureMode: a.failureMode,
    timeToThreshold: ttt,
    startedAt: iso(a.startedAt),
    endedAt: a.endedAt === null ? null : iso(a.endedAt),
    updatedAt: iso(a.updatedAt),
    acknowledged: a.acknowledgedAt === null ? null : { by: a.acknowledgedBy ?? 'operator', at: iso(a.acknowledgedAt) },
  };
}
