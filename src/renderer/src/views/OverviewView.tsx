import { API_VERSION } from '@shared/contract';
import { AT_RISK_THRESHOLD, type FleetServers, type FleetStatus, type Health } from '@shared/domain';
import { useConnection } from '../api/use-connection';
import { useQuery } from '../api/use-query';
import { ErrorPanel } from '../components/ErrorPanel';
import { Icon } from '../components/Icon';
import { Panel, Stat } from '../components/Panel';
import { RiskScale } from '../components/RiskLegend';
import { View } from '../components/View';
import { AHEAD_THRESHOLD_MS, fleetNow, formatRate, roundRate } from '../fleet-clock';
import { formatClock, formatDuration, formatTimestamp } from '../format';
import { readingOf, useFleetClock, type FleetClock } from '../hooks/use-fleet-clock';
import { useNow } from '../hooks/use-now';

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
  // fleet.updated follows every batch of samples. The heartbeat stays as a slow second trigger:
  // a source that stops or starts failing sends no samples, and its state must still show.
  const fleet = useQuery('fleet.status', {}, { refetchOn: ['fleet.updated', 'health.updated'] });
  const healthQuery = useQuery('system.health', {});
  // Risk moves once per prediction cycle; the answer carries every server's score.
  const servers = useQuery('fleet.servers', {}, { refetchOn: 'predictions.updated', throttleMs: 900 });
  const connection = useConnection();
  const clock = useFleetClock(readingOf(fleet.data?.fleetTime, fleet.updatedAt));
  const health = connection.health ?? healthQuery.data;
  const uptime = connection.uptimeSeconds ?? health?.uptimeSeconds ?? null;
  const status = fleet.data;
  const loading = '…';

  return (
    <View
      id="overview"
      title="Fleet overview"
      subtitle="Which servers are heading for trouble in the next 8 hours, at a glance."
      actions={<FleetClockChip clock={clock} />}
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
          label="At risk"
          testId="overview-at-risk"
          value={servers.data ? (atRisk(servers.data) ?? '—') : loading}
          hint={
            servers.data && atRisk(servers.data) === null
              ? 'no predictions yet'
              : `risk over ${Math.round(AT_RISK_THRESHOLD * 100)} % within 8 h`
          }
        />
        <Stat
          label="Model"
          testId="overview-model"
          value={health ? (health.model ? health.model.name : 'None') : loading}
          hint={
            health?.model
              ? `v${health.model.version} · ${health.model.executionProvider.toUpperCase()}`
              : health?.predictor.state === 'loading'
                ? 'loading…'
                : health?.predictor.state === 'failed'
                  ? 'could not be loaded'
                  : 'no predictions'
          }
        />
      </div>

      {status && status.serversTotal === 0 && (
        <div className="notice" data-testid="overview-empty-fleet">
          <Icon name="info" />
          <p>
            <strong>The fleet is empty.</strong> No server has reported yet, so there are no samples and no predictions.{' '}
            <code>npm run serve</code> starts a simulated fleet of 20 servers by default (<code>--servers N</code> for
            another size, <code>--speed X</code> to run its clock faster); <code>--no-simulator</code> runs without one,
            for imported metric files and real sources. This page fills in as soon as a source reports.
          </p>
        </div>
      )}

      <div className="grid-2">
        <Panel title="Metric sources" testId="overview-sources">
          {!status ? (
            <p className="muted">{fleet.error ? 'Unavailable.' : 'Loading…'}</p>
          ) : status.sources.length === 0 ? (
            <p className="muted">
              No sources attached. When one is, it is listed here with its state (starting, running, stopped or failing)
              and what it is doing.
            </p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Source</th>
                  <th scope="col">State</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {status.sources.map((source) => (
                  <tr key={source.id}>
                    <td>
                      <div className="source-name">
                        <span className="mono">{source.id}</span>
                        <span className="source-kind">{SOURCE_KIND_LABEL[source.kind]}</span>
                      </div>
                    </td>
                    <td>
                      <span className={`pill pill-${source.state}`} data-testid={`source-state-${source.id}`}>
                        {source.state}
                      </span>
                    </td>
                    <td className="source-detail" data-testid={`source-detail-${source.id}`}>
                      {source.detail}
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
                    ? `${health.model.name} ${health.model.version} (${health.model.source}, contract ${health.model.contractVersion})`
                    : 'No model loaded'}
                </dd>
                {health.model && (
                  <>
                    <dt>Runs on</dt>
                    <dd data-testid="health-provider" title={health.model.executionProviderReason}>
                      {health.model.executionProvider.toUpperCase()}
                      {health.predictor.lastCycleMs !== null &&
                        ` · last cycle ${Math.round(health.predictor.lastCycleMs)} ms`}
                    </dd>
                  </>
                )}
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
          failure mode the model expects and its forecast. Until then, the Servers view shows every server&apos;s risk
          and sorts by it.
        </p>
      </Panel>
    </View>
  );
}

/**
 * "Fleet clock 14:35 · 60×" when the fleet runs ahead of real time (an accelerated simulator):
 * the figures on this page are in fleet time, and that should not surprise anyone.
 */
function FleetClockChip({ clock }: { clock: FleetClock }) {
  const now = useNow(1000);
  if (!clock.reading) return null;
  const fleetMs = fleetNow(clock.reading, clock.rate, now);
  const ahead = fleetMs - now;
  if (ahead < AHEAD_THRESHOLD_MS && (clock.rate === null || roundRate(clock.rate) <= 1)) return null;
  return (
    <span
      className="fleet-clock"
      data-testid="overview-fleet-clock"
      title={`The fleet's clock is ${formatDuration(Math.max(0, ahead) / 1000)} ahead of this computer's${
        clock.rate === null ? '' : ` and runs about ${formatRate(clock.rate)} real time`
      }: the simulator is accelerated (--speed). Ages and times on these pages are fleet time.`}
    >
      <Icon name="info" size={14} />
      <span>
        Fleet clock <strong>{formatClock(fleetMs, now)}</strong>
      </span>
      {clock.rate !== null && roundRate(clock.rate) > 1 && (
        <span className="fleet-clock-rate">{formatRate(clock.rate)}</span>
      )}
    </span>
  );
}

/** Servers over the at-risk threshold; null while no server has a risk score. */
function atRisk(data: FleetServers): number | null {
  let scored = 0;
  let over = 0;
  for (const s of data.servers) {
    if (s.risk === null) continue;
    scored++;
    if (s.risk > AT_RISK_THRESHOLD) over++;
  }
  return scored === 0 ? null : over;
}
