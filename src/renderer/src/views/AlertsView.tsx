import { useId, useState } from 'react';
import { PROFILES, isProfile, type ApiError } from '@shared/contract';
import { ALERT_SEVERITIES, RISK_THRESHOLDS, type Alert } from '@shared/domain';
import { useApi } from '../api/use-api';
import { useQuery } from '../api/use-query';
import { EmptyState } from '../components/EmptyState';
import { ErrorPanel } from '../components/ErrorPanel';
import { Panel } from '../components/Panel';
import { View } from '../components/View';
import { fleetNow } from '../fleet-clock';
import { formatAge, formatClock, formatTimestamp } from '../format';
import { readingOf, useFleetClock } from '../hooks/use-fleet-clock';
import { useNow } from '../hooks/use-now';
import { formatFailureMode, formatRisk, riskBand } from '../risk';
import {
  DEFAULT_ALERT_FILTERS,
  SEVERITY_PILL,
  ackName,
  alertsListInput,
  describeAck,
  describeDuration,
  describeTimeToThreshold,
  formatTimeToThreshold,
  isFiltered,
  serverHref,
  summarizeAlerts,
  visibleAlerts,
  type AlertFilters,
  type AlertStateFilter,
} from './AlertsView.model';
import './AlertsView.css';

const ACK_NAME_KEY = 'tftmp.alerts.ackBy';

function storedAckName(): string {
  try {
    return localStorage.getItem(ACK_NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

const STATES: { id: AlertStateFilter; label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'open', label: 'Active' },
  { id: 'resolved', label: 'Past' },
];

export function AlertsView() {
  const [filters, setFilters] = useState<AlertFilters>(DEFAULT_ALERT_FILTERS);
  const [ackBy, setAckBy] = useState(storedAckName);
  const alerts = useQuery('alerts.list', alertsListInput(filters), { refetchOn: 'alerts.changed', throttleMs: 900 });
  const data = alerts.data;
  const answered = readingOf(data?.fleetTime, alerts.updatedAt);
  const clock = useFleetClock(answered, false);
  const now = useNow(15_000);
  const fleetNowMs = answered ? fleetNow(answered, clock.rate, now) : now;
  const rows = data ? visibleAlerts(data.alerts, filters) : [];
  const summary = summarizeAlerts(rows);
  const set = <K extends keyof AlertFilters>(key: K, value: AlertFilters[K]) =>
    setFilters((f) => ({ ...f, [key]: value }));
  const ids = useId();

  const saveAckBy = (value: string) => {
    setAckBy(value);
    try {
      localStorage.setItem(ACK_NAME_KEY, value);
    } catch {
      // Not stored: the name still applies in this window.
    }
  };

  const neverAnyAlert = data && data.total === 0 && !isFiltered(filters);

  return (
    <View
      id="alerts"
      title="Alerts"
      subtitle="Active and past predicted incidents: who is in trouble, how soon, and who is on it."
    >
      {alerts.error && <ErrorPanel title="Could not load the alerts" error={alerts.error} onRetry={alerts.refetch} />}

      <Panel
        title="Alerts"
        testId="alerts-panel"
        className="alerts-panel"
        aside={
          <span data-testid="alerts-count" aria-live="polite" className="small muted">
            {data
              ? `${summary.shown} shown · ${summary.open} active · ${summary.criticalOpen} critical · ${summary.unacknowledgedOpen} unacknowledged`
              : alerts.error
                ? 'Unavailable'
                : 'Loading…'}
            {data && (
              <span title={`Fleet time ${data.fleetTime}`}>
                {' '}
                · as of {formatClock(Date.parse(data.fleetTime), fleetNowMs)}
              </span>
            )}
          </span>
        }
      >
        <div className="alerts-toolbar" role="search" aria-label="Filter alerts">
          <div className="alerts-field">
            <span id={`${ids}-state`}>State</span>
            <div className="alerts-states" role="group" aria-labelledby={`${ids}-state`}>
              {STATES.map((s) => (
                <button
                  key={s.id}
                  type="button"
                  className="chip"
                  aria-pressed={filters.state === s.id}
                  data-testid={`alerts-state-${s.id}`}
                  onClick={() => set('state', s.id)}
                >
                  {s.label}
                </button>
              ))}
            </div>
          </div>
          <label className="alerts-field">
            <span>Severity</span>
            <select
              className="input"
              value={filters.severity}
              data-testid="alerts-severity"
              onChange={(e) => {
                const v = e.target.value;
                set('severity', v === 'warning' || v === 'critical' ? v : 'all');
              }}
            >
              <option value="all">Any</option>
              {ALERT_SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label className="alerts-field">
            <span>Profile</span>
            <select
              className="input"
              value={filters.profile}
              data-testid="alerts-profile"
              onChange={(e) => set('profile', isProfile(e.target.value) ? e.target.value : 'all')}
            >
              <option value="all">Any</option>
              {PROFILES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <label className="alerts-field">
            <span>Server</span>
            <input
              className="input alerts-server"
              type="search"
              placeholder="Name contains…"
              value={filters.server}
              data-testid="alerts-server"
              onChange={(e) => set('server', e.target.value)}
            />
          </label>
          <label className="alerts-field">
            <span>Sort</span>
            <select
              className="input"
              value={filters.sort}
              data-testid="alerts-sort"
              onChange={(e) => set('sort', e.target.value === 'risk' ? 'risk' : 'newest')}
            >
              <option value="newest">Newest first</option>
              <option value="risk">Highest risk first</option>
            </select>
          </label>
          {isFiltered(filters) && (
            <button
              type="button"
              className="button button-small"
              data-testid="alerts-clear"
              onClick={() => setFilters((f) => ({ ...DEFAULT_ALERT_FILTERS, sort: f.sort }))}
            >
              Clear filters
            </button>
          )}
          <label className="alerts-field alerts-ackby">
            <span>Acknowledge as</span>
            <input
              className="input"
              type="text"
              maxLength={100}
              placeholder="operator"
              autoComplete="name"
              value={ackBy}
              data-testid="alerts-ack-by"
              aria-describedby={`${ids}-ackby`}
              onChange={(e) => saveAckBy(e.target.value)}
            />
            <span id={`${ids}-ackby`} className="visually-hidden">
              The name recorded with your acknowledgements; operator when empty.
            </span>
          </label>
        </div>

        {neverAnyAlert ? (
          <EmptyState
            id="alerts"
            icon="alerts"
            title="No alerts yet"
            needs="Predictions from a loaded model over live metrics. No alert can fire before both are there."
          >
            <p>
              A server opens an alert when its predicted risk of an incident within 8 hours reaches{' '}
              {formatRisk(RISK_THRESHOLDS.warning)} (warning) or {formatRisk(RISK_THRESHOLDS.critical)} (critical), with
              the expected failure mode and when its metric is forecast to cross the critical threshold. Past alerts
              stay listed here after they clear.
            </p>
          </EmptyState>
        ) : (
          data && (
            <>
              {rows.length === 0 ? (
                <p className="alerts-none" data-testid="alerts-no-match">
                  No alert matches these filters.
                </p>
              ) : (
                <div className="alerts-scroll">
                  <table className="table alerts-table" data-testid="alerts-table">
                    <thead>
                      <tr>
                        <th scope="col">Server</th>
                        <th scope="col">Severity</th>
                        <th scope="col" className="num">
                          Risk
                        </th>
                        <th scope="col" className="num">
                          Peak
                        </th>
                        <th scope="col">Failure mode</th>
                        <th
                          scope="col"
                          title="When the failure mode's metric is forecast (P50) to reach its critical threshold"
                        >
                          Threshold
                        </th>
                        <th scope="col">Started</th>
                        <th scope="col">Ended</th>
                        <th scope="col">Acknowledged</th>
                      </tr>
                    </thead>
                    <tbody>
                      {rows.map((alert) => (
                        <AlertRow
                          key={alert.id}
                          alert={alert}
                          fleetNowMs={fleetNowMs}
                          by={ackName(ackBy)}
                          onAcked={alerts.refetch}
                        />
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              {data.total > data.alerts.length && (
                <p className="small muted" data-testid="alerts-truncated">
                  The newest {data.alerts.length} of {data.total} matching alerts are listed.
                </p>
              )}
            </>
          )
        )}
        <p className="alerts-note small">
          Warning at a risk of {formatRisk(RISK_THRESHOLDS.warning)}, critical at {formatRisk(RISK_THRESHOLDS.critical)}{' '}
          (the model&apos;s probability of an incident within 8 hours); an alert clears after two prediction cycles
          under 20 %. Risk is the latest cycle&apos;s, peak the highest since the alert opened. Threshold is when the
          failure mode&apos;s metric is forecast (P50) to reach its critical threshold. Times are on the fleet clock. An
          acknowledged alert stays active until it clears.
        </p>
      </Panel>
    </View>
  );
}

function AlertRow({
  alert,
  fleetNowMs,
  by,
  onAcked,
}: {
  alert: Alert;
  fleetNowMs: number;
  by: string;
  onAcked: () => void;
}) {
  const client = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const open = alert.state === 'open';
  const acknowledge = () => {
    setBusy(true);
    setError(null);
    client.call('alerts.acknowledge', { id: alert.id, by }).then(
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
  const started = Date.parse(alert.startedAt);
  return (
    <tr
      data-testid="alerts-row"
      data-alert-id={alert.id}
      data-severity={alert.severity}
      data-state={alert.state}
      data-server={alert.server}
      className={open ? undefined : 'alerts-row-past'}
    >
      <th scope="row" className="alerts-server-cell">
        <a href={serverHref(alert.server)} className="alerts-server-link">
          {alert.server}
        </a>
        <span className="alerts-profile">{alert.profile}</span>
      </th>
      <td>
        <span className={SEVERITY_PILL[alert.severity]}>{alert.severity}</span>
        {!open && <span className="alerts-resolved">resolved</span>}
      </td>
      <td className="num" data-testid="alerts-risk" data-risk={alert.risk}>
        <span className={`risk-dot risk-${riskBand(alert.risk)}`} aria-hidden="true" />
        {formatRisk(alert.risk)}
      </td>
      <td className="num">{formatRisk(alert.peakRisk)}</td>
      <td>{formatFailureMode(alert.failureMode)}</td>
      <td title={describeTimeToThreshold(alert)}>{open ? formatTimeToThreshold(alert, fleetNowMs) : '—'}</td>
      <td title={formatTimestamp(alert.startedAt)}>
        <span className="alerts-when">{formatClock(started, fleetNowMs)}</span>
        <span className="alerts-sub">{formatAge(fleetNowMs - started)}</span>
      </td>
      <td title={alert.endedAt ? formatTimestamp(alert.endedAt) : undefined}>
        <span className="alerts-when">
          {alert.endedAt ? formatClock(Date.parse(alert.endedAt), fleetNowMs) : 'ongoing'}
        </span>
        <span className="alerts-sub">{describeDuration(alert, fleetNowMs)}</span>
      </td>
      <td title={describeAck(alert)} data-testid="alerts-ack-cell">
        {alert.acknowledged ? (
          <span className="alerts-acked" data-testid="alerts-acked">
            <span className="alerts-acked-by">{alert.acknowledged.by}</span>
            <span className="alerts-sub">{formatClock(Date.parse(alert.acknowledged.at), fleetNowMs)}</span>
          </span>
        ) : open ? (
          <button
            type="button"
            className="button button-small"
            onClick={acknowledge}
            disabled={busy}
            data-testid="alerts-ack"
            aria-label={`Acknowledge the ${alert.severity} alert on ${alert.server} as ${by}`}
          >
            {busy ? 'Acknowledging…' : 'Acknowledge'}
          </button>
        ) : (
          <span className="muted">no</span>
        )}
        {error && (
          <span className="warn-text alerts-ack-error" role="alert">
            {error}
          </span>
        )}
      </td>
    </tr>
  );
}
