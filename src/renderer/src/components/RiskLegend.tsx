/** The risk bands every risk colour in the app maps to (the colours follow the palette setting). */
export const RISK_BANDS = [
  { id: 'low', label: 'Low' },
  { id: 'guarded', label: 'Guarded' },
  { id: 'elevated', label: 'Elevated' },
  { id: 'high', label: 'High' },
  { id: 'critical', label: 'Critical' },
] as const;

/** The five bands; `compact` shows swatches only, named for screen readers and on hover. */
export function RiskLegend({ compact = false }: { compact?: boolean }) {
  return (
    <ul
      className={compact ? 'risk-legend risk-legend-compact' : 'risk-legend'}
      aria-label="Risk colours, lowest to highest"
    >
      {RISK_BANDS.map((band) => (
        <li key={band.id} title={compact ? band.label : undefined}>
          <span className={`risk-swatch risk-${band.id}`} aria-hidden="true" />
          <span className={compact ? 'visually-hidden' : undefined}>{band.label}</span>
        </li>
      ))}
    </ul>
  );
}

/** A compact legend between its end labels: "Low ▮▮▮▮▮ Critical". */
export function RiskScale() {
  return (
    <span className="risk-scale">
      <span aria-hidden="true">Low</span>
      <RiskLegend compact />
      <span aria-hidden="true">Critical</span>
    </span>
  );
}
