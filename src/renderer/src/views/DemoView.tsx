import { EmptyState } from '../components/EmptyState';
import { View } from '../components/View';

export function DemoView() {
  return (
    <View id="demo" title="Demo" subtitle="Watch a fleet go from healthy to critical, fully offline.">
      <EmptyState
        id="demo"
        icon="demo"
        title="The demo scenario is not here yet"
        needs="The fleet simulator and the bundled model; both run on this machine, no network needed."
      >
        <p>
          A guided scenario on a simulated fleet: pick servers and push them from healthy through degrading to critical,
          then watch their metrics, the 8-hour forecasts, the heatmap and the alerts react in real time.
        </p>
      </EmptyState>
    </View>
  );
}
