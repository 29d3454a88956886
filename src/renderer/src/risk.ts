import { healthOf, RISK_THRESHOLDS, type PredictionSkip, type ServerHealth } from '@shared/domain';

/**
 * One rule for every risk colour in the app, the core's own: a risk under the warning threshold
 * is healthy (green), from it warning (yellow), from the critical one critical (red). The
 * thresholds are RISK_THRESHOLDS (0.3 / 0.6), the ones the alerts open at; views that have
 * fleet.status pass its `risk.thresholds` so a core configured otherwise is followed.
 * A server that does not report is stale and never coloured by its (old) risk: see healthOf.
 */
export type RiskBand = 'healthy' | 'warning' | 'critical';
export type RiskThresholds = Readonly<{ warning: number; critical: number }>;

export { healthOf, RISK_THRESHOLDS, type ServerHealth };

export function riskBand(risk: number, thresholds: RiskThresholds = RISK_THRESHOLDS): RiskBand {
  if (risk >= thresholds.critical) return 'critical';
  if (risk >= thresholds.warning) return 'warning';
  return 'healthy';
}

/** The five colours in legend order, worst last among the risk ones, then the two without a risk. */
export const HEALTH_ORDER: readonly ServerHealth[] = ['healthy', 'warning', 'critical', 'stale', 'unknown'];

export const HEALTH_LABEL: Record<ServerHealth, string> = {
  healthy: 'Healthy',
  warning: 'Warning',
  critical: 'Critical',
  stale: 'Stale',
  unknown: 'No risk',
};

/** What each colour means, for legends and tooltips: "30–60 %", "not reporting". */
export function healthRange(health: ServerHealth, thresholds: RiskThresholds = RISK_THRESHOLDS): string {
  const w = Math.round(thresholds.warning * 100);
  const c = Math.round(thresholds.critical * 100);
  switch (health) {
    case 'healthy':
      return `risk under ${w} %`;
    case 'warning':
      return `risk ${w}–${c} %`;
    case 'critical':
      return `risk ${c} % or more`;
    case 'stale':
      return 'not reporting (no sample in 15 min)';
    case 'unknown':
      return 'reporting, no prediction yet';
  }
}

/** "37 %", "<1 %", "100 %"; "—" without a risk. */
export function formatRisk(risk: number | null | undefined): string {
  if (risk === null || risk === undefined || !Number.isFinite(risk)) return '—';
  if (risk > 0 && risk < 0.005) return '<1 %';
  return `${Math.round(risk * 100)} %`;
}

/** For the tooltip and screen readers. */
export function describeRisk(
  risk: number | null,
  unavailable: PredictionSkip | null,
  thresholds: RiskThresholds = RISK_THRESHOLDS,
): string {
  if (risk === null) return `No risk score: ${unavailable?.detail ?? 'no prediction for this server'}`;
  return `Probability of an incident within 8 hours: ${formatRisk(risk)} (${riskBand(risk, thresholds)})`;
}

/** A failure mode as shown: "none" is no incident expected. */
export function formatFailureMode(mode: string | null): string {
  if (mode === null || mode === 'none') return '—';
  return mode;
}
