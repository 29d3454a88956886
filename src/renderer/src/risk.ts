import type { PredictionSkip } from '@shared/domain';

export type RiskBand = 'low' | 'guarded' | 'elevated' | 'high' | 'critical';

/**
 * Upper bounds of the bands (RiskLegend's five) on P(incident within 8 h). Elevated ends at the
 * 0.5 the overview counts as "at risk".
 */
const BAND_LIMITS: readonly [number, RiskBand][] = [
  [0.1, 'low'],
  [0.25, 'guarded'],
  [0.5, 'elevated'],
  [0.75, 'high'],
];

export function riskBand(risk: number): RiskBand {
  for (const [limit, band] of BAND_LIMITS) if (risk < limit) return band;
  return 'critical';
}

/** "37 %", "<1 %", "100 %"; "—" without a risk. */
export function formatRisk(risk: number | null | undefined): string {
  if (risk === null || risk === undefined || !Number.isFinite(risk)) return '—';
  if (risk > 0 && risk < 0.005) return '<1 %';
  return `${Math.round(risk * 100)} %`;
}

/** For the tooltip and screen readers. */
export function describeRisk(risk: number | null, unavailable: PredictionSkip | null): string {
  if (risk === null) return `No risk score: ${unavailable?.detail ?? 'no prediction for this server'}`;
  return `Probability of an incident within 8 hours: ${formatRisk(risk)} (${riskBand(risk)})`;
}

/** A failure mode as shown: "none" is no incident expected. */
export function formatFailureMode(mode: string | null): string {
  if (mode === null || mode === 'none') return '—';
  return mode;
}
