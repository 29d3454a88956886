import { memo, useMemo } from 'react';
import { API_VERSION } from '@shared/contract';
import type { FleetHealthCounts, FleetStatus, Health } from '@shared/domain';
import { useConnection } from '../api/use-connection';
import { useQuery } from '../api/use-query';
import { baseOption, useChartTheme } from '../charts/chart-theme';
import { EChart } from '../charts/EChart';
import { ErrorPanel } from '../components/ErrorPanel';
import { Icon } from '../components/Icon';
import { Panel, Stat } from '../components/Panel';
import { RiskLegend } from '../components/RiskLegend';
import { View } from '../components/View';
import { AHEAD_THRESHOLD_MS, fleetNow, formatRate, roundRate } from '../fleet-clock';
import { formatAge, formatClock, formatDuration, formatTimestamp } from '../format';
import { HEALTH_LABEL, HEALTH_ORDER, healthRange, RISK_THRESHOLDS, type RiskThresholds } from '../risk';
import { hrefFor } from '../routing/routes';
import { dataFreshness, formatProbability, histogramBars } from './OverviewView.model';
import { TopProblemServers } from './OverviewView.top';
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
  // fleet.updated follows every batch of samples, predictions.updated every cycle (the risk
  // figures), alerts.changed the alert counts. The heartbeat stays as a slow second trigger:
  // a source that stops or starts failing sends no samples, and its state must still show.
  const fleet = useQuery(
    'fleet.status',
    {},
    { refetchOn: ['fleet.updated', 'health.updated', 'predictions.updated', 'alerts.changed'], throttleMs: 1000 },
  );
  const healthQuery = useQuery('system.health', {}, { refetchOn: 'predictions.updated', throttleMs: 5000 });
  // Risk moves once per prediction cycle; the answer carries every server's score.
  const servers = useQuery('fleet.servers', {}, { refetchOn: 'predictions.updated', throttleMs: 1000 });
  const alerts = useQuery('alerts.active', {}, { refetchOn: 'alerts.changed', throttleMs: 1000 });
  const connection = useConnection();
  const clock = useFleetClock(readingOf(fleet.data?.fleetTime, fleet.updatedAt));
  const health = connection.health ?? healthQuery.data;
  const uptime = connection.uptimeSeconds ?? health?.uptimeSeconds ?? null;
  const status = fleet.data;
  const risk = status?.risk;
  const thresholds = risk?.thresholds ?? RISK_THRESHOLDS;
  const loading = '…';
  const freshness = status ? dataFreshness(status.lastSampleAt, status.fleetTime) : null;
  const alertTotal = risk ? risk.alerts.critical + risk.alerts.warning : 0;

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

      {freshness?.state === 'stale' && (
        <div className="notice notice-warn" role="status" data-testid="overview-stale-data">
          <Icon name="alert-triangle" />
          <p>
            <strong>The data is stale.</strong> The newest sample is {formatDuration(freshness.ageMs / 1000)} older than
            the fleet clock: no source has reported for over 15 minutes, so every risk below describes the past. Check
            the metric sources.
          </p>
        </div>
      )}

      <div className="stats stats-overview" data-testid="overview-stats">
        <Stat
          label="Servers monitored"
          testId="overview-servers-reporting"
          value={
            status ? (
              <>
                {status.serversReporting}
                <span className="stat-of"> / </span>
                <span data-testid="overview-servers-total">{status.serversTotal}</span>
              </>
            ) : (
              loading
            )
          }
          hint={
            status
              ? status.serversReporting < status.serversTotal
                ? `${status.serversTotal - status.serversReporting} not reporting (15 min)`
                : 'all reporting'
              : undefined
          }
        />
        <Stat
          label="Incident in 8 h"
          testId="overview-incident-probability"
          value={risk ? formatProbability(risk.incidentProbability) : loading}
          hint={
            risk && risk.incidentProbability === null
              ? 'no predictions yet'
              : 'chance any server has one (servers independent)'
          }
        />
        <Stat
          label="Active alerts"
          testId="overview-alerts"
          value={
            risk ? (
              alertTotal === 0 ? (
                <span className="stat-calm">None</span>
              ) : (
                <span className="alert-counts">
                  <span className="alert-count alert-count-critical" data-testid="overview-alerts-critical">
                    {risk.alerts.critical}
                    <span className="alert-count-label"> critical</span>
                  </span>
                  <span className="alert-count alert-count-warning" data-testid="overview-alerts-warning">
                    {risk.alerts.warning}
                    <span className="alert-count-label"> warning</span>
                  </span>
                </span>
              )
            ) : (
              loading
            )
          }
          hint={
            <a href={hrefFor('alerts')} className="stat-link">
              open alerts →
            </a>
          }
        />
        <Stat
          label="At risk"
          testId="overview-at-risk"
          value={risk ? risk.health.warning + risk.health.critical : loading}
          hint={`risk ${Math.round(thresholds.warning * 100)} % or more within 8 h`}
        />
        <Stat
          label="Data freshness"
          testId="overview-freshness"
          value={
            !freshness ? (
              loading
            ) : freshness.state === 'empty' ? (
              'No data'
            ) : (
              <span className={freshness.state === 'stale' ? 'stat-stale' : 'stat-calm'}>
                {freshness.state === 'stale' ? 'Stale' : 'Live'}
              </span>
            )
          }
          hint={
            !freshness || freshness.state === 'empty' ? (
              'the store is empty'
            ) : (
              <span title={status?.lastSampleAt ? `Newest sample ${formatTimestamp(status.lastSampleAt)}` : undefined}>
                newest sample {formatAge(freshness.ageMs)} (fleet time)
              </span>
            )
          }
        />
        <Stat
          label="Model"
          testId="overview-model"
          value={health ? (health.model ? health.model.name : 'None') : loading}
          hint={
            health?.model ? (
              <span title={health.model.executionProviderReason} data-testid="overview-provider">
                v{health.model.version} · {health.model.executionProvider.toUpperCase()}
              </span>
            ) : health?.predictor.state === 'loading' ? (
              'loading…'
            ) : health?.predictor.state === 'failed' ? (
              'could not be loaded'
            ) : (
              'no predictions'
            )
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

      <div className="overview-risk-row">
        <Panel
          title="Fleet health"
          testId="overview-health"
          aside={<RiskLegend compact states thresholds={thresholds} />}
        >
          {risk && status ? (
            <HealthBreakdown counts={risk.health} total={status.serversTotal} thresholds={thresholds} />
          ) : (
            <p className="muted">{fleet.error ? 'Unavailable.' : 'Loading…'}</p>
          )}
        </Panel>
        <Panel
          title="Risk distribution"
          testId="overview-risk-histogram"
          aside={<span className="panel-note">servers per 10 % of risk · latest cycle</span>}
        >
          {risk ? (
            <RiskHistogram bins={risk.riskHistogram} thresholds={thresholds} />
          ) : (
            <p className="muted">{fleet.error ? 'Unavailable.' : 'Loading…'}</p>
          )}
        </Panel>
      </div>

      <TopProblemServers
        servers={servers.data}
        error={servers.error}
        onRetry={servers.refetch}
        alerts={alerts.data?.alerts}
        thresholds={thresholds}
        clock={clock}
      />

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
          {status?.lastSampleAt && (
            <p className="small muted" data-testid="overview-last-sample">
              Newest sample in the store: {formatTimestamp(status.lastSampleAt)} (fleet time{' '}
              {formatTimestamp(status.fleetTime)}).
            </p>
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
                      <div className="small muted">{health.model.executionProviderReason}</div>
                    </dd>
                  </>
                )}
                {!health.model && health.predictor.detail && (
                  <>
                    <dt>Predictor</dt>
                    <dd>{health.predictor.detail}</dd>
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
    </View>
  );
}

/** The five health counts as one bar (proportional) and a labelled row of figures. */
const HealthBreakdown = memo(function HealthBreakdown({
  counts,
  total,
  thresholds,
}: {
  counts: FleetHealthCounts;
  total: number;
  thresholds: RiskThresholds;
}) {
  const sum = HEALTH_ORDER.reduce((n, h) => n + counts[h], 0);
  return (
    <div className="health-breakdown">
      <div className="health-bar" aria-hidden="true">
        {sum > 0 &&
          HEALTH_ORDER.map((h) =>
            counts[h] > 0 ? (
              <span
                key={h}
                className={`health-bar-seg risk-${h}`}
                style={{ flexGrow: counts[h] }}
                title={`${HEALTH_LABEL[h]}: ${counts[h]}`}
              />
            ) : null,
          )}
      </div>
      <dl className="health-counts">
        {HEALTH_ORDER.map((h) => (
          <div
            key={h}
            className={counts[h] > 0 ? `health-count health-count-${h}` : 'health-count'}
            title={healthRange(h, thresholds)}
          >
            <dt>
              <span className={`risk-swatch risk-${h}`} aria-hidden="true" />
              {HEALTH_LABEL[h]}
            </dt>
            <dd data-testid={`overview-health-${h}`}>{counts[h]}</dd>
          </div>
        ))}
      </dl>
      <p className="small muted">
        {sum} of {total} server{total === 1 ? '' : 's'}: healthy under {Math.round(thresholds.warning * 100)} % risk,
        critical from {Math.round(thresholds.critical * 100)} %; stale servers (no sample in 15 min) are never counted
        healthy.
      </p>
    </div>
  );
});

const RiskHistogram = memo(function RiskHistogram({
  bins,
  thresholds,
}: {
  bins: readonly number[];
  thresholds: RiskThresholds;
}) {
  const theme = useChartTheme();
  const bars = useMemo(() => histogramBars(bins, thresholds), [bins, thresholds]);
  // One bin usually holds nearly the whole fleet: a log scale keeps the few servers at risk visible.
  const counts = bars.map((b) => b.count).filter((c) => c > 0);
  const log = counts.length > 1 && Math.max(...counts) > 20 * Math.min(...counts);
  const option = useMemo(
    () => ({
      ...baseOption(theme),
      grid: { left: 36, right: 8, top: 18, bottom: 24 },
      tooltip: {
        ...baseOption(theme).tooltip,
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        formatter: (params: { dataIndex: number }[]) => {
          const bar = bars[params[0]?.dataIndex ?? 0];
          return bar ? `Risk ${bar.label}<br/><b>${bar.count}</b> server${bar.count === 1 ? '' : 's'}` : '';
        },
      },
      xAxis: {
        type: 'category',
        data: bars.map((b) => `${Math.round(b.from * 100)}`),
        axisLine: { lineStyle: { color: theme.border } },
        axisTick: { show: false },
        axisLabel: { color: theme.muted, fontSize: 10, formatter: (v: string) => `${v}%` },
      },
      yAxis: log
        ? {
            type: 'log',
            min: 1,
            logBase: 10,
            axisLabel: { color: theme.muted, fontSize: 10 },
            splitLine: { lineStyle: { color: theme.border, type: 'dashed' } },
          }
        : {
            type: 'value',
            minInterval: 1,
            axisLabel: { color: theme.muted, fontSize: 10 },
            splitLine: { lineStyle: { color: theme.border, type: 'dashed' } },
          },
      series: [
        {
          type: 'bar',
          barCategoryGap: '18%',
          data: bars.map((b) => ({
            // A log axis has no 0: an empty bin is no bar.
            value: log && b.count === 0 ? null : b.count,
            itemStyle: { color: theme[b.band], borderRadius: [3, 3, 0, 0] },
          })),
          label: {
            show: true,
            position: 'top',
            color: theme.muted,
            fontSize: 10,
            formatter: (p: { value: number | null }) => (p.value ? String(p.value) : ''),
          },
        },
      ],
    }),
    [bars, theme, log],
  );
  const label = `Risk distribution: ${bars.map((b) => `${b.count} at ${b.label}`).join(', ')}`;
  return (
    <div data-testid="overview-histogram-chart" data-bins={bins.join(',')} data-scale={log ? 'log' : 'linear'}>
      <EChart option={option} label={label} className="chart chart-histogram" />
      {log && (
        <p className="small muted chart-note">
          Logarithmic count scale: the few servers at risk stay visible next to the many healthy ones.
        </p>
      )}
    </div>
  );
});

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
