import { EmptyState } from '../components/EmptyState';
import { RiskLegend } from '../components/RiskLegend';
import { View } from '../components/View';

export function HeatmapView() {
  return (
    <View
      id="heatmap"
      title="Heatmap"
      subtitle="Risk across the whole fleet, grouped by server profile."
      actions={<RiskLegend />}
    >
      <EmptyState
        id="heatmap"
        icon="heatmap"
        title="No servers to map yet"
        needs="Servers reporting metrics and a loaded model. They arrive with the fleet simulator and metric import (CSV, Parquet, Arrow, Prometheus)."
      >
        <p>
          Every server as a cell coloured by its risk of an incident in the next 8 hours, grouped by profile
          (ml_compute, database, web_api, conductor_mgmt, data_ingest, risk_analytics, generic). Hover a cell for the
          server&apos;s risk and expected failure mode; open it for its forecast.
        </p>
      </EmptyState>
    </View>
  );
}
