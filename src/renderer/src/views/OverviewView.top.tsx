import { memo, useMemo } from 'react';
import type { ApiError } from '@shared/contract';
import { FAILURE_MODE_METRIC, type Alert, type ServerSummary } from '@shared/domain';
import { useQuery } from '../api/use-query';
import { ForecastSparkline } from '../charts/ForecastSparkline';
import { ErrorPanel } from '../components/ErrorPanel';
import { Panel } from '../components/Panel';
import { fleetNow } from '../fleet-clock';
import type { FleetClock } from '../hooks/use-fleet-clock';
import { useNow } from '../hooks/use-now';
import { formatFailureMode, formatRisk, riskBand, type RiskThresholds } from '../risk';
import { hrefFor } from '../routing/routes';
import {
  describeTimeToThreshold,
  formatTimeToThreshold,
  metricForMode,
  timeToThreshold,
  topProblemServers,
} from './OverviewView.model';
import { PROFILE_LABEL } from './servers-model';

const TOP = 10;

/**
 * The ten servers most likely to have an incident in the next 8 hours. The ranking comes from
 * fleet.servers (every server's risk); each row asks for its own forecast (predictions.server),
 * so the page never pulls the whole fleet's bands to draw ten sparklines.
 */
export function TopProblemServers({
  servers,
  error,
  onRetry,
  alerts,
  thresholds,
  clock,
}: {
  servers: { servers: ServerSummary[] } | undefined;
  error: ApiError | null;
  onRetry: () => void;
  alerts: Alert[] | undefined;
  thresholds: RiskThresholds;
  clock: FleetClock;
}) {
  const all = servers?.servers;
  const top = useMemo(() => topProblemServers(all ?? [], TOP), [all]);
  const alertByServer = useMemo(() => new Map((alerts ?? []).map((a) => [a.server, a])), [alerts]);
  const now = useNow(10_000);
  const fleetNowMs = clock.reading ? fleetNow(clock.reading, clock.rate, now) : now;
  const scored = useMemo(() => (all ?? []).filter((s) => s.risk !== null).length, [all]);

  return (
    <Panel
      title="Top problem servers"
      testId="overview-top-servers"
      aside={
        <span className="panel-note">
          highest risk first · {scored} of {all?.length ?? 0} scored · time to the metric&apos;s critical threshold
        </span>
      }
    >
      {error && <ErrorPanel title="Could not load the servers" error={error} onRetry={onRetry} />}
      {!servers ? (
        !error && <p className="muted">Loading…</p>
      ) : top.length === 0 ? (
        <p className="muted" data-testid="overview-top-empty">
          No server has a risk score yet: the first prediction cycle runs once a model is loaded and servers have
          reported for a while. Ranked servers appear here with their failure mode and forecast.
        </p>
      ) : (
        <table className="table top-table" data-testid="overview-top-table">
          <thead>
            <tr>
              <th scope="col" className="num">
                #
              </th>
              <th scope="col">Server</th>
              <th scope="col">Profile</th>
              <th scope="col" className="num">
                Risk 8 h
              </th>
              <th scope="col">Failure mode</th>
              <th scope="col">Time to threshold</th>
              <th
                scope="col"
                title="The failure mode's metric over the next 8 hours: P50 line, P10–P90 band, critical threshold dashed when near"
              >
                8 h forecast
              </th>
            </tr>
          </thead>
          <tbody>
            {top.map((server, i) => (
              <TopRow
                key={server.name}
                rank={i + 1}
                server={server}
                alert={alertByServer.get(server.name)}
                thresholds={thresholds}
                fleetNowMs={fleetNowMs}
              />
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

const TopRow = memo(function TopRow({
  rank,
  server,
  alert,
  thresholds,
  fleetNowMs,
}: {
  rank: number;
  server: ServerSummary;
  alert: Alert | undefined;
  thresholds: RiskThresholds;
  fleetNowMs: number;
}) {
  const prediction = useQuery(
    'predictions.server',
    { server: server.name },
    { refetchOn: 'predictions.updated', throttleMs: 2000 },
  );
  const p = prediction.data?.prediction ?? null;
  const mode = server.failureMode;
  const band = useMemo(() => {
    if (!p) return null;
    const metric = metricForMode(mode, p.forecast);
    return p.forecast.find((b) => b.metric === metric) ?? null;
  }, [p, mode]);
  const modeMetric = mode ? FAILURE_MODE_METRIC[mode] : undefined;
  const ttt = timeToThreshold(mode, alert, p?.forecast, prediction.data?.horizon.times, {
    value: modeMetric ? server.latest[modeMetric] : undefined,
    nowMs: fleetNowMs,
  });
  const level = riskBand(server.risk ?? 0, thresholds);
  const href = hrefFor('servers', server.name);

  return (
    <tr
      className="top-row"
      data-testid={`overview-top-${server.name}`}
      data-risk={server.risk ?? undefined}
      onClick={(e) => {
        // The whole row opens the server; the link inside stays the keyboard's (and middle-click's) way.
        if ((e.target as HTMLElement).closest('a')) return;
        window.location.hash = href;
      }}
    >
      <td className="num muted">{rank}</td>
      <th scope="row" className="top-name">
        <a href={href} className="server-link mono">
          {server.name}
        </a>
      </th>
      <td className="muted">{PROFILE_LABEL[server.profile]}</td>
      <td className="num top-risk">
        <span className={`risk-pill risk-pill-${level}`}>{formatRisk(server.risk)}</span>
      </td>
      <td
        className={mode === 'none' ? 'muted' : undefined}
        title={mode === 'none' ? 'No incident expected' : undefined}
      >
        {formatFailureMode(mode)}
      </td>
      <td
        className={ttt.kind === 'at' ? 'top-ttt top-ttt-soon' : 'top-ttt muted'}
        title={describeTimeToThreshold(ttt)}
        data-testid="overview-top-ttt"
      >
        {formatTimeToThreshold(ttt, fleetNowMs)}
        {ttt.kind !== 'none' && <span className="top-ttt-metric"> {ttt.metric}</span>}
      </td>
      <td className="top-spark">
        {band ? (
          <ForecastSparkline
            band={band}
            color={level}
            label={`${server.name}: ${band.metric} forecast over the next 8 hours, P50 from ${band.p50[0]?.toFixed(1)} to ${band.p50.at(-1)?.toFixed(1)}`}
          />
        ) : (
          <span className="muted small">
            {prediction.error
              ? 'forecast unavailable'
              : prediction.data?.unavailable
                ? prediction.data.unavailable.detail
                : 'loading…'}
          </span>
        )}
      </td>
    </tr>
  );
});
