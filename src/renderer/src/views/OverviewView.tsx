import { API_VERSION } from '@shared/contract';
import type { FleetStatus, Health } from '@shared/domain';
import { useConnection } from '../api/use-connection';
import { useQuery } from '../api/use-query';
import { ErrorPanel } from '../components/ErrorPanel';
import { Icon } from '../components/Icon';
import { Panel, Stat } from '../components/Panel';
import { RiskScale } from '../components/RiskLegend';
import { View } from '../components/View';
import { formatDuration, formatTimestamp } from '../format';

const RUNTIME_LABEL: Record<Health['runtime'], string> = {
  desktop: 'Desktop app (Electron)',
  daemon: 'Headless daemon',
  test: 'Test harness',
};

const SOURCE_KIND_LABEL: Record<FleetStatus['sources'][number]['kind'], string> = {
  simulator: 'Fleet simulator',
  file: 'Metric files',
  prometheus: 'Prometheus',
};

export function OverviewView() {
  // fleet.status has no event of its own yet; the 5 s heartbeat is a cheap, steady refresh.
  const fleet = useQuery('fleet.status', {}, { refetchOn: 'health.updated' });
  const healthQuery = useQuery('system.health', {});
  const connection = useConnection();
  const health = connection.health ?? healthQuery.data;
  const uptime = connection.uptimeSeconds ?? health?.uptimeSeconds ?? null;
  const status = fleet.data;
  const loading = '…';

  return (
    <View
      id="overview"
      title="Fleet overview"
      subtitle="Which servers are heading for trouble in the next 8 hours, at a glance."
    >
      {fleet.error && (
        <ErrorPanel title="Could not load the fleet status" error={fleet.error} onRetry={fleet.refetch} />
      )}

      <div className="stats" data-testid="overview-stats">
        <Stat
          label="Servers"
          testId="overview-servers-total"
          value={status ? status.serversTotal : loading}
          hint="known to the store"
        />
        <Stat
          label="Reporting"
          testId="overview-servers-reporting"
          value={status ? `${status.serversReporting} / ${status.serversTotal}` : loading}
          hint="in the last 15 min"
        />
        <Stat
          label="Last sample"
          testId="overview-last-sample"
          value={status ? (status.lastSampleAt ? formatTimestamp(status.lastSampleAt).slice(11) : 'None yet') : loading}
          hint={
            status?.lastSampleAt
              ? `${formatTimestamp(status.lastSampleAt).slice(0, 10)} · newest in the store`
              : 'the store is empty'
          }
        />
        <Stat
          label="Sources"
          testId="overview-sources-count"
          value={status ? status.sources.length : loading}
          hint={status && status.sources.length === 0 ? 'none attached' : 'attached'}
        />
        <Stat
          label="Model"
          testId="overview-model"
          value={health ? (health.model ? health.model.name : 'None') : loading}
          hint={
            health?.model
              ? `v${health.model.version} · ${health.model.executionProvider.toUpperCase()}`
              : 'no predictions yet'
          }
        />
      </div>

      {status && status.serversTotal === 0 && (
        <div className="notice" data-testid="overview-empty-fleet">
          <Icon name="info" />
          <p>
            <strong>The fleet is empty.</strong> No metric source is attached, so there are no servers, no samples and
            no predictions yet. Sources — the fleet simulator, metric files (CSV, Parquet, Arrow) and Prometheus —
            arrive in the next releases; this page fills in as soon as one reports.
          </p>
        </div>
      )}

      <div className="grid-2">
        <Panel title="Metric sources" testId="overview-sources">
          {!status ? (
            <p className="muted">{fleet.error ? 'Unavailable.' : 'Loading…'}</p>
          ) : status.sources.length === 0 ? (
            <p className="muted">
              No sources attached. When one is, it is listed here with its state (running, stopped or failing).
            </p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Source</th>
                  <th scope="col">Kind</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {status.sources.map((source) => (
                  <tr key={source.id}>
                    <td className="mono">{source.id}</td>
                    <td>{SOURCE_KIND_LABEL[source.kind]}</td>
                    <td>
                      <span className={`pill pill-${source.state}`}>{source.state}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>

        <Panel
          title="System"
          testId="overview-system"
          aside={
            health && (
              <span className={`pill pill-${health.status}`} data-testid="health-status">
                {health.status}
              </span>
            )
          }
        >
          {healthQuery.error && !health && (
            <ErrorPanel
              title="Could not read the system health"
              error={healthQuery.error}
              onRetry={healthQuery.refetch}
            />
          )}
          {health ? (
            <>
              <dl className="kv">
                <dt>App version</dt>
                <dd data-testid="health-app-version">
                  {health.app.name} {health.app.version}
                </dd>
                <dt>API version</dt>
                <dd data-testid="health-api-version">
                  {health.apiVersion}
                  {health.apiVersion !== API_VERSION && (
                    <span className="warn-text"> · this dashboard speaks {API_VERSION}</span>
                  )}
                </dd>
                <dt>Runtime</dt>
                <dd data-testid="health-runtime">{RUNTIME_LABEL[health.runtime]}</dd>
                <dt>Uptime</dt>
                <dd data-testid="health-uptime">{uptime === null ? '—' : formatDuration(uptime)}</dd>
                <dt>Started</dt>
                <dd>{formatTimestamp(health.startedAt)}</dd>
                <dt>Model</dt>
                <dd data-testid="health-model">
                  {health.model
                    ? `${health.model.name} ${health.model.version} (contract ${health.model.contractVersion}, ${health.model.executionProvider.toUpperCase()})`
                    : 'No model loaded'}
                </dd>
              </dl>
              {health.problems.length > 0 && (
                <ul className="problems" data-testid="health-problems">
                  {health.problems.map((problem) => (
                    <li key={problem}>{problem}</li>
                  ))}
                </ul>
              )}
            </>
          ) : (
            !healthQuery.error && <p className="muted">Loading…</p>
          )}
        </Panel>
      </div>

      <Panel title="8-hour outlook" aside={<RiskScale />} testId="overview-outlook">
        <p className="muted">
          The servers most likely to have an incident in the next 8 hours will be ranked here, each with its risk, the
          failure mode the model expects and when. It needs servers reporting and a loaded model; neither is there yet.
        </p>
      </Panel>
    </View>
  );
}
