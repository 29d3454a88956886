import { EmptyState } from '../components/EmptyState';
import { View } from '../components/View';

export function TrendsView() {
  return (
    <View id="trends" title="Trends" subtitle="How risk and metrics moved over time, and how well the forecasts held.">
      <EmptyState
        id="trends"
        icon="trends"
        title="No history yet"
        needs="Metric history in the local store. It builds up as sources report, one sample per server every 5 minutes."
      >
        <p>
          Fleet risk and every metric over the last hours to weeks, per server or per profile, with past forecasts laid
          over what actually happened, so you can see where the model was right early and where it missed.
        </p>
      </EmptyState>
    </View>
  );
}
