import { z } from 'zod';
import { METRIC_NAMES, PROFILES } from '../contract/metrics';

const isoTime = z.iso.datetime();

export const ALERT_SEVERITIES = ['warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * Risk thresholds (on P(incident within 8 h)) that alerts and the dashboard's colours share: a
 * server opens a warning alert at `warning` or more, and the alert is critical at `critical` or more.
 */
export const RISK_THRESHOLDS: Readonly<{ warning: number; critical: number }> = Object.freeze({
  warning: 0.3,
  critical: 0.6,
});

/** What the dashboard colours a server. */
export const SERVER_HEALTHS = ['healthy', 'warning', 'critical', 'stale', 'unknown'] as const;
export type ServerHealth = (typeof SERVER_HEALTHS)[number];

/**
 * The one rule for a server's colour: stale when it does not report (whatever its risk says: a
 * risk on old data never shows as healthy), unknown without a risk, else by RISK_THRESHOLDS.
 */
export function healthOf(
  risk: number | null,
  reporting: boolean,
  thresholds: Readonly<{ warning: number; critical: number }> = RISK_THRESHOLDS,
): ServerHealth {
  if (!reporting) return 'stale';
  if (risk === null || !Number.isFinite(risk)) return 'unknown';
  if (risk >= thresholds.critical) return 'critical';
  if (risk >= thresholds.warning) return 'warning';
  return 'healthy';
}

/** When the forecast says the failure mode's metric crosses its contract critical threshold. */
export const TimeToThresholdSchema = z.object({
  metric: z.enum(METRIC_NAMES),
  /** The contract's critical threshold of that metric, in its units. */
  threshold: z.number(),
  /** The end of the first horizon step whose P50 reaches the threshold (fleet time). */
  at: isoTime,
});
export type TimeToThreshold = z.infer<typeof TimeToThresholdSchema>;

/** One alert: a server whose predicted risk crossed the warning or critical threshold. */
export const AlertSchema = z.object({
  id: z.number().int().positive(),
  server: z.string(),
  profile: z.enum(PROFILES),
  severity: z.enum(ALERT_SEVERITIES),
  state: z.enum(['open', 'resolved']),
  /** Risk of the latest prediction cycle, and the highest since the alert opened. */
  risk: z.number().min(0).max(1),
  peakRisk: z.number().min(0).max(1),
  failureMode: z.string(),
  /** null when the forecast's P50 stays under the threshold over the whole horizon, or the mode has no metric. */
  timeToThreshold: TimeToThresholdSchema.nullable(),
  /** Fleet time. */
  startedAt: isoTime,
  endedAt: isoTime.nullable(),
  updatedAt: isoTime,
  /** Who acknowledged it and when (fleet time); an acknowledged alert stays open until it resolves. */
  acknowledged: z.object({ by: z.string(), at: isoTime }).nullable(),
});
export type Alert = z.infer<typeof AlertSchema>;

export const ActiveAlertsSchema = z.object({
  /** The fleet clock when answered: what "since" and "time to threshold" are measured against. */
  fleetTime: isoTime,
  /** Open alerts, critical first, then by risk. */
  alerts: z.array(AlertSchema),
});
export type ActiveAlerts = z.infer<typeof ActiveAlertsSchema>;

export const AcknowledgeAlertSchema = z
  .object({
    id: z.number().int().positive(),
    /** Who acknowledges (a name, a team); defaults to "operator". */
    by: z.string().trim().min(1).max(100).default('operator'),
  })
  .strict();
export type AcknowledgeAlert = z.infer<typeof AcknowledgeAlertSchema>;

/** Pushed when alerts open, resolve, change (severity, risk, failure mode) or are acknowledged. */
export const AlertsChangedSchema = z.object({
  /** Fleet time of the change. */
  time: isoTime,
  opened: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  resolved: z.number().int().nonnegative(),
  acknowledged: z.number().int().nonnegative(),
  /** Open alerts after the change, by severity. */
  active: z.object({ warning: z.number().int().nonnegative(), critical: z.number().int().nonnegative() }),
});
export type AlertsChanged = z.infer<typeof AlertsChangedSchema>;

/**
 * The metric each failure mode shows in first: an alert's time to threshold is when the
 * forecast's P50 of that metric reaches its contract critical threshold, and the views chart it.
 * Modes without one ("none") have neither.
 */
export const FAILURE_MODE_METRIC: Readonly<Record<string, (typeof METRIC_NAMES)[number]>> = {
  memory: 'memory_percent',
  disk: 'disk_percent',
  cpu: 'cpu_percent',
  network: 'latency_ms',
  dependency: 'error_rate',
  hardware: 'error_rate',
};
