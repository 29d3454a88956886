import type { ServerHealth } from '@shared/domain';
import { HEALTH_LABEL, healthRange, RISK_THRESHOLDS, type RiskThresholds } from '../risk';

/** The risk colours, lowest to highest (the colours follow the palette setting). */
export const RISK_BANDS = [
  { id: 'healthy', label: HEALTH_LABEL.healthy },
  { id: 'warning', label: HEALTH_LABEL.warning },
  { id: 'critical', label: HEALTH_LABEL.critical },
] as const satisfies readonly { id: ServerHealth; label: string }[];

const NO_RISK = [
  { id: 'stale', label: HEALTH_LABEL.stale },
  { id: 'unknown', label: HEALTH_LABEL.unknown },
] as const satisfies readonly { id: ServerHealth; label: string }[];

/**
 * The risk colours with what each means; `compact` shows swatches only, named for screen readers
 * and on hover; `states` adds stale (hatched) and no-risk (grey), for views that show them.
 */
export function RiskLegend({
  compact = false,
  states = false,
  thresholds = RISK_THRESHOLDS,
}: {
  compact?: boolean;
  states?: boolean;
  thresholds?: RiskThresholds;
}) {
  const items = states ? [...RISK_BANDS, ...NO_RISK] : RISK_BANDS;
  return (
    <ul
      className={compact ? 'risk-legend risk-legend-compact' : 'risk-legend'}
      aria-label="Risk colours"
      data-testid="risk-legend"
    >
      {items.map((band) => (
        <li key={band.id} title={`${band.label}: ${healthRange(band.id, thresholds)}`}>
          <span className={`risk-swatch risk-${band.id}`} aria-hidden="true" />
          <span className={compact ? 'visually-hidden' : undefined}>
            {band.label}
            {!compact && band.id !== 'stale' && band.id !== 'unknown' && (
              <span className="risk-legend-range"> {shortRange(band.id, thresholds)}</span>
            )}
            {compact && `: ${healthRange(band.id, thresholds)}`}
          </span>
        </li>
      ))}
    </ul>
  );
}

function shortRange(id: 'healthy' | 'warning' | 'critical', t: RiskThresholds): string {
  const w = Math.round(t.warning * 100);
  const c = Math.round(t.critical * 100);
  return id === 'healthy' ? `<${w} %` : id === 'warning' ? `${w}–${c} %` : `≥${c} %`;
}

/** A compact legend between its end labels: "Healthy ▮▮▮ Critical". */
export function RiskScale({ thresholds = RISK_THRESHOLDS }: { thresholds?: RiskThresholds }) {
  return (
    <span className="risk-scale">
      <span aria-hidden="true">Healthy</span>
      <RiskLegend compact thresholds={thresholds} />
      <span aria-hidden="true">Critical</span>
    </span>
  );
}
