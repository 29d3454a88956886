import { EmptyState } from '../components/EmptyState';
import { View } from '../components/View';

export function AlertsView() {
  return (
    <View id="alerts" title="Alerts" subtitle="Predicted incidents that crossed a threshold.">
      <EmptyState
        id="alerts"
        icon="alerts"
        title="No alerts"
        needs="Predictions from a loaded model over live metrics. No alert can fire before both are there."
      >
        <p>
          Active and recent alerts: servers whose predicted risk crossed the warning or critical threshold, with the
          expected failure mode, when it is expected, and when the alert opened and cleared. Alerts use hysteresis and
          deduplication, so a risk hovering at a threshold does not flap. Desktop notifications and webhooks carry the
          same alerts.
        </p>
      </EmptyState>
    </View>
  );
}
