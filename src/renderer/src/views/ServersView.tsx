import { EmptyState } from '../components/EmptyState';
import { View } from '../components/View';

export function ServersView() {
  return (
    <View id="servers" title="Servers" subtitle="Every server, worst first, with its 8-hour forecast.">
      <EmptyState
        id="servers"
        icon="servers"
        title="No servers yet"
        needs="Servers reporting metrics. Each is assigned a profile from its name prefix; a server never seen in training is predicted through its profile from its first 24-hour window."
      >
        <p>
          The fleet ranked by risk of an incident within 8 hours: profile, latest metrics, risk and the failure mode the
          model expects. Open a server for its forecast per metric (median with the 10–90 % band) and the inputs that
          weighed most in the prediction.
        </p>
      </EmptyState>
    </View>
  );
}
