import { useState } from 'react';
import type { ApiError } from '@shared/contract';
import type { Alert } from '@shared/domain';
import { useApi } from '../api/use-api';
import { useQuery } from '../api/use-query';
import { EmptyState } from '../components/EmptyState';
import { ErrorPanel } from '../components/ErrorPanel';
import { Panel } from '../components/Panel';
import { View } from '../components/View';
import { fleetNow } from '../fleet-clock';
import { formatAge, formatClock } from '../format';
import { readingOf, useFleetClock } from '../hooks/use-fleet-clock';
import { useNow } from '../hooks/use-now';
import { formatFailureMode, formatRisk, riskBand } from '../risk';
import { describeAck, describeTimeToThreshold, formatTimeToThreshold, SEVERITY_PILL } from './AlertsView.model';

export function AlertsView() {
  const alerts = useQuery('alerts.active', {}, { refetchOn: 'alerts.changed', throttleMs: 900 });
  const data = alerts.data;
  const answered = readingOf(data?.fleetTime, alerts.updatedAt);
  const clock = useFleetClock(answered, false);
  const now = useNow(15_000);
  const fleetNowMs = answered ? fleetNow(answered, clock.rate, now) : now;
  const rows = data?.alerts ?? [];

  return (
    <View id="alerts" title="Alerts" subtitle="Predicted incidents that crossed a threshold.">
      {alerts.error && <ErrorPanel title="Could not load the alerts" error={alerts.error} onRetry={alerts.refetch} />}

      {data && rows.length === 0 ? (
        <EmptyState
          id="alerts"
          icon="alerts"
          title="No alerts"
          needs="Predictions from a loaded model over live metrics. No alert can fire before both are there."
        >
          <p>
            Active alerts: servers whose predicted risk of an incident within 8 hours reached 30 % (warning) or 60 %
            (critical), with the expected failure mode and when its metric is forecast to cross the critical threshold.
            An alert clears only after two prediction cycles under 20 %, so a risk hovering at a threshold does not
            flap.
          </p>
        </EmptyState>
      ) : (
        <Panel
          title="Active alerts"
          testId="alerts-panel"
          aside={
            <span data-testid="alerts-count" aria-live="polite">
              {data
                ? `${rows.length} active · ${rows.filter((a) => a.severity === 'critical').length} critical`
                : alerts.error
                  ? 'Unavailable'
                  : 'Loading…'}
              {data && (
                <span title={`Fleet time ${data.fleetTime}`}>
                  {' '}
                  · as of {formatClock(Date.parse(data.fleetTime), now)}
                </span>
              )}
            </span>
          }
        >
          {data && (
            <table className="table" data-testid="alerts-table">
              <thead>
                <tr>
                  <th scope="col">Server</th>
                  <th scope="col">Severity</th>
                  <th scope="col" className="num">
                    Risk
                  </th>
                  <th scope="col">Failure mode</th>
                  <th scope="col">Since</th>
                  <th
                    scope="col"
                    title="When the failure mode's metric is forecast (P50) to reach its critical threshold"
                  >
                    Threshold
                  </th>
                  <th scope="col">Acknowledged</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((alert) => (
                  <AlertRow key={alert.id} alert={alert} fleetNowMs={fleetNowMs} onAcked={alerts.refetch} />
                ))}
              </tbody>
            </table>
          )}
          <p className="servers-note small">
            Warning at a risk of 30 %, critical at 60 % (the model&apos;s probability of an incident within 8 hours); an
            alert clears after two prediction cycles under 20 %. Threshold is when the failure mode&apos;s metric is
            forecast (P50) to reach its critical threshold; times are on the fleet clock. An acknowledged alert stays
            here until it clears.
          </p>
        </Panel>
      )}
    </View>
  );
}

function AlertRow({ alert, fleetNowMs, onAcked }: { alert: Alert; fleetNowMs: number; onAcked: () => void }) {
  const client = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const acknowledge = () => {
    setBusy(true);
    setError(null);
    client.call('alerts.acknowledge', { id: alert.id, by: 'dashboard' }).then(
      () => {
        setBusy(false);
        onAcked();
      },
      (e: unknown) => {
        setBusy(false);
        setError((e as ApiError).message);
      },
    );
  };
  return (
    <tr data-testid="alerts-row" data-alert-id={alert.id} data-severity={alert.severity}>
      <td>{alert.server}</td>
      <td>
        <span className={SEVERITY_PILL[alert.severity]}>{alert.severity}</span>
      </td>
      <td className="num" title={`Peak ${formatRisk(alert.peakRisk)}`}>
        <span className={`risk-dot risk-${riskBand(alert.risk)}`} aria-hidden="true" />
        {formatRisk(alert.risk)}
      </td>
      <td>{formatFailureMode(alert.failureMode)}</td>
      <td title={alert.startedAt}>{formatAge(fleetNowMs - Date.parse(alert.startedAt))}</td>
      <td title={describeTimeToThreshold(alert)}>{formatTimeToThreshold(alert, fleetNowMs)}</td>
      <td title={describeAck(alert)}>
        {alert.acknowledged ? (
          <span className="muted">{alert.acknowledged.by}</span>
        ) : (
          <button
            type="button"
            className="button button-small"
            onClick={acknowledge}
            disabled={busy}
            data-testid="alerts-ack"
          >
            Acknowledge
          </button>
        )}
        {error && (
          <span className="muted" role="alert">
            {' '}
            {error}
          </span>
        )}
      </td>
    </tr>
  );
}
