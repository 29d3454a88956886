import { memo, useMemo } from 'react';
import { METRIC_BY_NAME, type MetricName } from '@shared/contract';
import { FAILURE_MODE_METRIC, type Explanation, type PredictionHistory, type ServerPrediction, type VariableImportance } from '@shared/domain';
import { useQuery } from '../api/use-query';
import {
  baseOption,
  escapeHtml,
  timeAxis,
  useChartTheme,
  valueAxis,
  withAlpha,
  type ChartTheme,
} from '../charts/chart-theme';
import { EChart } from '../charts/EChart';
import { EmptyState } from '../components/EmptyState';
import { ErrorPanel } from '../components/ErrorPanel';
import { Panel, Stat } from '../components/Panel';
import { RiskLegend } from '../components/RiskLegend';
import { View } from '../components/View';
import { fleetNow } from '../fleet-clock';
import { formatAge, formatClock, formatTimestamp } from '../format';
import { readingOf, useFleetClock } from '../hooks/use-fleet-clock';
import { useNow } from '../hooks/use-now';
import {
  formatFailureMode,
  formatRisk,
  healthOf,
  HEALTH_LABEL,
  RISK_THRESHOLDS,
  riskBand,
  type RiskThresholds,
} from '../risk';
import { hrefFor } from '../routing/routes';
import {
  describeTimeToThreshold,
  formatTimeToThreshold,
  STALE_AFTER_MS,
  timeToThreshold,
} from './OverviewView.model';
import {
  attentionPeak,
  chartedMetrics,
  failureModeRows,
  formatMetricValue,
  KIND_LABEL,
  metricSeries,
  topVariables,
  type MetricSeries,
} from './ServerDetail.model';
import { PROFILE_LABEL, STATE_LABEL } from './servers-model';

/**
 * One server: its last 24 hours and the 8-hour forecast of every target metric against the
 * contract thresholds, its risk over time, the failure modes, and why the model says so.
 */
export function ServerDetailView({ server }: { server: string }) {
  const input = { server };
  const prediction = useQuery('predictions.server', input, { refetchOn: 'predictions.updated', throttleMs: 2000 });
  const history = useQuery(
    'metrics.history',
    { server, hours: 24 },
    { refetchOn: ['fleet.updated', 'predictions.updated'], throttleMs: 4000 },
  );
  const riskHistory = useQuery(
    'predictions.history',
    { server, hours: 24 },
    { refetchOn: 'predictions.updated', throttleMs: 4000 },
  );
  const explain = useQuery('predictions.explain', input, { refetchOn: 'predictions.updated', throttleMs: 4000 });
  const alerts = useQuery('alerts.active', {}, { refetchOn: 'alerts.changed', throttleMs: 2000 });
  const status = useQuery('fleet.status', {}, { refetchOn: 'predictions.updated', throttleMs: 10_000 });
  const thresholds = status.data?.risk.thresholds ?? RISK_THRESHOLDS;
  // "Since", "last sample" and time to threshold are fleet time, moved on between answers.
  const answered = readingOf(status.data?.fleetTime, status.updatedAt);
  const clock = useFleetClock(answered, false);
  const wallNow = useNow(10_000);

  const notFound = prediction.error?.code === 'not_found' || history.error?.code === 'not_found';
  const back = (
    <a href={hrefFor('servers')} className="button button-small" data-testid="detail-back">
      ← All servers
    </a>
  );

  if (notFound) {
    return (
      <View id="servers" title={server} subtitle="Server detail" actions={back}>
        <div data-testid="detail-not-found">
          <EmptyState
            id="server-detail"
            icon="servers"
            title={`No server named “${server}”`}
            needs={
              <span>
                A server of that name reporting to a metric source. Check the spelling (names are case-sensitive), or
                find it in the <a href={hrefFor('servers')}>servers list</a> or on the{' '}
                <a href={hrefFor('heatmap')}>heatmap</a>.
              </span>
            }
          >
            <p>The store has no server of this name, so there is nothing to show: no metrics, no forecast, no risk.</p>
          </EmptyState>
        </div>
      </View>
    );
  }

  const p = prediction.data?.prediction ?? null;
  const h = history.data;
  const alert = alerts.data?.alerts.find((a) => a.server === server);
  const fleetMs = answered
    ? fleetNow(answered, clock.rate, wallNow)
    : h?.times.length
      ? Date.parse(h.times.at(-1)!)
      : wallNow;
  const lastSeenMs = h ? lastReportedAt(h.times, h.metrics) : null;
  // Measured within the history answer (its grid ends at the fleet time it was answered): an
  // extrapolated clock against an answer a few seconds old would call a 300x fleet stale.
  const historyEndMs = h?.times.length ? Date.parse(h.times.at(-1)!) : null;
  const sampleAgeMs = lastSeenMs !== null && historyEndMs !== null ? Math.max(0, historyEndMs - lastSeenMs) : null;
  const reporting = sampleAgeMs !== null ? sampleAgeMs <= STALE_AFTER_MS : true;
  const risk = p?.risk ?? null;
  const health = h || p ? healthOf(risk, reporting, thresholds) : null;
  const modeMetric = p ? FAILURE_MODE_METRIC[p.failureMode] : undefined;
  const ttt = timeToThreshold(p?.failureMode ?? null, alert, p?.forecast, prediction.data?.horizon.times, {
    value: modeMetric && h && reporting ? lastValue(h.metrics[modeMetric]) : undefined,
    nowMs: fleetMs,
  });
  const profile = p?.profile ?? h?.profile;
  const state = h?.states.findLast((s) => s !== null) ?? null;
  const subtitle = [
    profile ? PROFILE_LABEL[profile] : null,
    state ? STATE_LABEL[state] : null,
    sampleAgeMs !== null ? `last sample ${formatAge(sampleAgeMs)}` : null,
  ]
    .filter(Boolean)
    .join(' · ');

  return (
    <View id="servers" title={server} subtitle={subtitle || 'Server detail'} actions={back}>
      <div data-testid="server-detail" data-server={server} data-health={health ?? undefined} className="detail">
        {prediction.error && (
          <ErrorPanel title="Could not load the prediction" error={prediction.error} onRetry={prediction.refetch} />
        )}
        {health === 'stale' && (
          <div className="notice notice-warn" role="status" data-testid="detail-stale">
            <p>
              <strong>This server is not reporting.</strong> Its newest sample is{' '}
              {sampleAgeMs !== null ? formatAge(sampleAgeMs) : 'old'} (fleet time), so there is no current risk for it:
              whatever it last showed describes the past.
            </p>
          </div>
        )}

        <div className="stats stats-detail" data-testid="detail-stats">
          <Stat
            label="Risk 8 h"
            testId="detail-risk"
            value={prediction.data ? formatRisk(risk) : '…'}
            hint={
              health ? (
                <span className="detail-health">
                  <span className={`risk-swatch risk-${health}`} aria-hidden="true" /> {HEALTH_LABEL[health]}
                </span>
              ) : undefined
            }
            tone={risk === null ? undefined : riskBand(risk, thresholds)}
          />
          <Stat
            label="Failure mode"
            testId="detail-failure-mode"
            value={p ? (p.failureMode === 'none' ? 'none' : p.failureMode) : prediction.data ? '—' : '…'}
            hint={
              p ? `${formatRisk(p.failureModes[p.failureMode] ?? null)} likely, should an incident come` : undefined
            }
          />
          <Stat
            label="Time to threshold"
            testId="detail-ttt"
            value={p ? formatTimeToThreshold(ttt, fleetMs) : '—'}
            hint={
              <span title={describeTimeToThreshold(ttt)}>
                {ttt.kind === 'none' ? 'no metric threshold' : `${ttt.metric} critical`}
              </span>
            }
          />
          <Stat
            label="Alert"
            testId="detail-alert"
            value={alert ? alert.severity : 'None'}
            tone={alert ? alert.severity : undefined}
            hint={
              alert
                ? `since ${formatClock(Date.parse(alert.startedAt), fleetMs)}, peak ${formatRisk(alert.peakRisk)}`
                : 'no open alert'
            }
          />
          <Stat
            label="Coverage"
            testId="detail-coverage"
            value={p ? `${Math.round(p.coverage * 100)} %` : '—'}
            hint={
              p
                ? p.knownServer
                  ? 'of the 24 h window · seen in training'
                  : 'of the 24 h window · new: predicted via its profile'
                : undefined
            }
          />
          <Stat
            label="Model"
            testId="detail-model"
            value={prediction.data?.model ? prediction.data.model.name : 'None'}
            hint={
              prediction.data?.predictedAt
                ? `v${prediction.data.model?.version ?? '?'} · cycle ${formatClock(Date.parse(prediction.data.predictedAt), fleetMs)}`
                : undefined
            }
          />
        </div>
        {p?.upstream && <UpstreamNote prediction={p} />}
        {prediction.data?.unavailable && (
          <p className="notice" data-testid="detail-unavailable">
            No prediction for this server: {prediction.data.unavailable.detail}
          </p>
        )}

        <Panel
          title="Metrics: last 24 h and the 8 h forecast"
          testId="detail-metrics"
          aside={
            <span className="chart-key">
              <span className="key-line" /> measured <span className="key-line key-p50" /> forecast P50{' '}
              <span className="key-band" /> P10–P90 <span className="key-line key-critical" /> critical{' '}
              <span className="key-line key-warning" /> warning
            </span>
          }
        >
          {history.error && (
            <ErrorPanel title="Could not load the metric history" error={history.error} onRetry={history.refetch} />
          )}
          {!h && !history.error ? (
            <p className="muted">Loading…</p>
          ) : (
            <div className="metric-charts">
              {chartedMetrics(p?.forecast).map((metric) => (
                <MetricPanel
                  key={metric}
                  metric={metric}
                  history={h}
                  prediction={p}
                  horizonTimes={prediction.data?.horizon.times}
                />
              ))}
            </div>
          )}
        </Panel>

        <div className="grid-2">
          <Panel
            title="Risk over time (24 h)"
            testId="detail-risk-history"
            aside={<RiskLegend compact thresholds={thresholds} />}
          >
            {riskHistory.error ? (
              <ErrorPanel
                title="Could not load the risk history"
                error={riskHistory.error}
                onRetry={riskHistory.refetch}
              />
            ) : !riskHistory.data ? (
              <p className="muted">Loading…</p>
            ) : riskHistory.data.points.length === 0 ? (
              <p className="muted">No prediction cycle has scored this server in the last 24 hours.</p>
            ) : (
              <RiskHistoryChart history={riskHistory.data} thresholds={thresholds} />
            )}
          </Panel>
          <Panel
            title="Failure mode probabilities"
            testId="detail-failure-modes"
            aside={<span className="panel-note">should an incident come</span>}
          >
            {p ? (
              <FailureModesChart prediction={p} />
            ) : (
              <p className="muted">{prediction.data?.unavailable?.detail ?? 'Loading…'}</p>
            )}
          </Panel>
        </div>

        <Panel title="Why: what drives this prediction" testId="detail-explain">
          {explain.error ? (
            <ErrorPanel title="Could not load the explanation" error={explain.error} onRetry={explain.refetch} />
          ) : !explain.data ? (
            <p className="muted">Loading…</p>
          ) : explain.data.explanation === null ? (
            <p className="notice" data-testid="detail-explain-unavailable">
              No explanation: {explain.data.unavailable?.detail ?? 'the model gave none for this server.'}
            </p>
          ) : (
            <ExplanationBody explanation={explain.data} />
          )}
        </Panel>
      </div>
    </View>
  );
}

/** The newest non-null value of a series. */
function lastValue(values: readonly (number | null)[] | undefined): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i]!;
  return null;
}

/** The newest grid time at which any metric was reported. */
function lastReportedAt(
  times: readonly string[],
  metrics: Readonly<Record<string, readonly (number | null)[]>>,
): number | null {
  const columns = Object.values(metrics);
  for (let i = times.length - 1; i >= 0; i--) {
    if (columns.some((c) => c[i] !== null && c[i] !== undefined)) return Date.parse(times[i]!);
  }
  return null;
}

const MetricPanel = memo(function MetricPanel({
  metric,
  history,
  prediction,
  horizonTimes,
}: {
  metric: MetricName;
  history: Parameters<typeof metricSeries>[1];
  prediction: ServerPrediction | null;
  horizonTimes: readonly string[] | undefined;
}) {
  const band = prediction?.forecast.find((b) => b.metric === metric);
  const series = useMemo(
    () => metricSeries(metric, history, band, horizonTimes),
    [metric, history, band, horizonTimes],
  );
  const spec = METRIC_BY_NAME[metric];
  const level =
    series.critical !== null && series.last !== null && series.last >= series.critical
      ? 'critical'
      : series.warning !== null && series.last !== null && series.last >= series.warning
        ? 'warning'
        : null;
  return (
    <figure
      className="metric-chart"
      data-testid={`detail-metric-${metric}`}
      data-points={series.history.length}
      data-forecast={series.p50.length}
    >
      <figcaption className="metric-chart-head">
        <span className="metric-chart-name mono">{metric}</span>
        <span className="metric-chart-desc">{spec.description}</span>
        <span className={level ? `metric-chart-now level-text-${level}` : 'metric-chart-now'}>
          {formatMetricValue(metric, series.last)}
          {series.forecastEnd !== null && (
            <span className="muted"> → {formatMetricValue(metric, series.forecastEnd)} in 8 h</span>
          )}
        </span>
      </figcaption>
      <MetricChart series={series} />
    </figure>
  );
});

function MetricChart({ series }: { series: MetricSeries }) {
  const theme = useChartTheme();
  const option = useMemo(() => metricOption(series, theme), [series, theme]);
  const label = `${series.metric}: last 24 hours measured, then the 8-hour forecast with its P10 to P90 band; now ${formatMetricValue(series.metric, series.last)}${
    series.forecastEnd !== null ? `, forecast ${formatMetricValue(series.metric, series.forecastEnd)} in 8 hours` : ''
  }${series.critical !== null ? `; critical threshold ${formatMetricValue(series.metric, series.critical)}` : ''}.`;
  return <EChart option={option} label={label} className="chart chart-metric" />;
}

function metricOption(s: MetricSeries, theme: ChartTheme) {
  const spec = METRIC_BY_NAME[s.metric];
  const values = [...s.history, ...s.p90, ...s.p10].map((p) => p[1]).filter((v): v is number => v !== null);
  const dataMax = values.length ? Math.max(...values) : 1;
  const showThresholds = s.critical !== null && s.warning !== null;
  // Thresholds stay in view when the data comes within reach of them; far below, they would flatten the line.
  const nearThresholds = showThresholds && dataMax >= s.warning! * 0.6;
  let max: number | undefined = nearThresholds ? niceCeil(Math.max(dataMax, s.critical!) * 1.05) : undefined;
  if (spec.unit === '%') max = nearThresholds ? 100 : Math.min(100, niceCeil(Math.max(dataMax * 1.15, 5)));
  const now = s.history.findLast((p) => p[1] !== null)?.[0];
  const marks: unknown[] = [];
  if (s.warning !== null && (max === undefined || s.warning <= max))
    marks.push({
      yAxis: s.warning,
      lineStyle: { color: theme.warning, type: 'dashed' },
      label: { formatter: 'warning', color: theme.muted },
    });
  if (s.critical !== null && (max === undefined || s.critical <= max))
    marks.push({
      yAxis: s.critical,
      lineStyle: { color: theme.critical, type: 'dashed' },
      label: { formatter: 'critical', color: theme.muted },
    });
  if (now !== undefined && s.p50.length > 0)
    marks.push({
      xAxis: now,
      lineStyle: { color: theme.faint, type: 'solid' },
      label: { formatter: 'now', color: theme.muted, position: 'end' },
    });
  const forecastEnd = s.p50.at(-1)?.[0];
  const fmt = (v: number) => formatMetricValue(s.metric, v);
  return {
    ...baseOption(theme),
    grid: { left: 44, right: 52, top: 14, bottom: 22 },
    tooltip: {
      ...baseOption(theme).tooltip,
      trigger: 'axis',
      formatter: (params: { seriesName: string; value: [number, number | null] }[]) => {
        const first = params[0];
        if (!first) return '';
        const lines = [formatTimestamp(new Date(first.value[0]).toISOString()).slice(5, 16)];
        for (const p of params) {
          if (p.seriesName === 'band' || p.value[1] === null) continue;
          lines.push(`${p.seriesName}: <b>${fmt(p.value[1])}</b>`);
        }
        const i = s.p90.findIndex((q) => q[0] === first.value[0]);
        if (i >= 0) lines.push(`P10–P90: ${fmt(s.p10[i]![1]!)} – ${fmt(s.p90[i]![1]!)}`);
        return lines.join('<br/>');
      },
    },
    xAxis: timeAxis(theme),
    yAxis: valueAxis(theme, {
      min: 0,
      max,
      axisLabel: {
        color: theme.muted,
        fontSize: 10,
        formatter: (v: number) =>
          spec.unit === 'ratio' ? `${+(v * 100).toFixed(2)}%` : spec.unit === '%' ? `${v}%` : `${v}`,
      },
    }),
    series: [
      {
        name: 'measured',
        type: 'line',
        data: s.history,
        symbol: 'none',
        connectNulls: false,
        lineStyle: { color: theme.text, width: 1.25 },
        itemStyle: { color: theme.text },
        markLine: marks.length ? { silent: true, symbol: 'none', data: marks } : undefined,
        markArea:
          now !== undefined && forecastEnd !== undefined
            ? {
                silent: true,
                itemStyle: { color: withAlpha(theme.accent, 0.05) },
                label: { show: false },
                data: [[{ xAxis: now }, { xAxis: forecastEnd }]],
              }
            : undefined,
      },
      {
        name: 'band',
        type: 'line',
        data: s.p10,
        stack: 'band',
        symbol: 'none',
        lineStyle: { opacity: 0 },
        silent: true,
        tooltip: { show: false },
      },
      {
        name: 'band',
        type: 'line',
        data: s.bandWidth,
        stack: 'band',
        symbol: 'none',
        lineStyle: { opacity: 0 },
        areaStyle: { color: withAlpha(theme.accent, 0.22) },
        silent: true,
      },
      {
        name: 'forecast P50',
        type: 'line',
        data: s.p50,
        symbol: 'none',
        lineStyle: { color: theme.accent, width: 1.75, type: [4, 3] },
        itemStyle: { color: theme.accent },
      },
    ],
  };
}

/** 1, 2, 2.5, 5 x 10^k at or above `v`: axis ends people read at a glance. */
function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const RiskHistoryChart = memo(function RiskHistoryChart({
  history,
  thresholds,
}: {
  history: PredictionHistory;
  thresholds: RiskThresholds;
}) {
  const theme = useChartTheme();
  const option = useMemo(() => {
    const data = history.points.map((p) => [Date.parse(p.time), p.risk]);
    const modes = history.points.map((p) => p.failureMode);
    return {
      ...baseOption(theme),
      grid: { left: 40, right: 12, top: 12, bottom: 22 },
      tooltip: {
        ...baseOption(theme).tooltip,
        trigger: 'axis',
        formatter: (params: { dataIndex: number; value: [number, number] }[]) => {
          const p = params[0];
          if (!p) return '';
          return `${formatTimestamp(new Date(p.value[0]).toISOString()).slice(5, 16)}<br/>Risk <b>${formatRisk(p.value[1])}</b> · ${escapeHtml(formatFailureMode(modes[p.dataIndex] ?? null))}`;
        },
      },
      xAxis: timeAxis(theme),
      yAxis: valueAxis(theme, {
        min: 0,
        max: 1,
        interval: 0.2,
        axisLabel: { color: theme.muted, fontSize: 10, formatter: (v: number) => `${Math.round(v * 100)}%` },
      }),
      series: [
        {
          name: 'risk',
          type: 'line',
          data,
          symbol: 'none',
          step: false,
          lineStyle: { color: theme.text, width: 1.5 },
          itemStyle: { color: theme.text },
          markArea: {
            silent: true,
            data: [
              [{ yAxis: 0, itemStyle: { color: withAlpha(theme.healthy, 0.1) } }, { yAxis: thresholds.warning }],
              [
                { yAxis: thresholds.warning, itemStyle: { color: withAlpha(theme.warning, 0.14) } },
                { yAxis: thresholds.critical },
              ],
              [{ yAxis: thresholds.critical, itemStyle: { color: withAlpha(theme.critical, 0.14) } }, { yAxis: 1 }],
            ],
          },
        },
      ],
    };
  }, [history, thresholds, theme]);
  const last = history.points.at(-1);
  const max = history.points.reduce((m, p) => Math.max(m, p.risk), 0);
  return (
    <div data-testid="detail-risk-chart" data-points={history.points.length}>
      <EChart
        option={option}
        label={`Risk over the last 24 hours: ${history.points.length} prediction cycles, now ${formatRisk(last?.risk)}, highest ${formatRisk(max)}.`}
        className="chart chart-risk"
      />
    </div>
  );
});

const FailureModesChart = memo(function FailureModesChart({ prediction }: { prediction: ServerPrediction }) {
  const theme = useChartTheme();
  const rows = useMemo(() => failureModeRows(prediction.failureModes), [prediction.failureModes]);
  const option = useMemo(() => {
    const shown = [...rows].reverse();
    return {
      ...baseOption(theme),
      grid: { left: 84, right: 44, top: 4, bottom: 4 },
      tooltip: { show: false },
      xAxis: { type: 'value', max: 1, show: false },
      yAxis: {
        type: 'category',
        data: shown.map((r) => r.label),
        axisLine: { show: false },
        axisTick: { show: false },
        axisLabel: { color: theme.text, fontSize: 11 },
      },
      series: [
        {
          type: 'bar',
          barWidth: '62%',
          data: shown.map((r) => ({
            value: r.p,
            itemStyle: {
              color:
                r.mode === 'none'
                  ? theme.faint
                  : r.mode === prediction.failureMode
                    ? theme.accent
                    : withAlpha(theme.accent, 0.45),
              borderRadius: [0, 3, 3, 0],
            },
          })),
          label: {
            show: true,
            position: 'right',
            color: theme.muted,
            fontSize: 11,
            formatter: (p: { value: number }) => formatRisk(p.value),
          },
          showBackground: true,
          backgroundStyle: { color: withAlpha(theme.faint, 0.12), borderRadius: 3 },
        },
      ],
    };
  }, [rows, prediction.failureMode, theme]);
  return (
    <div data-testid="detail-failure-chart" data-modes={rows.length}>
      <EChart
        option={option}
        label={`Failure mode probabilities: ${rows.map((r) => `${r.label} ${formatRisk(r.p)}`).join(', ')}.`}
        className="chart"
        style={{ height: Math.max(120, rows.length * 26 + 8) }}
      />
    </div>
  );
});

/**
 * The share of the risk that comes from the server this one depends on (its upstream), shown when
 * the core knows the fleet's topology (the simulator) and the model has a cascade coefficient.
 */
export function UpstreamNote({ prediction }: { prediction: ServerPrediction }) {
  const u = prediction.upstream;
  if (!u) return null;
  return (
    <p
      className="small muted"
      data-testid="detail-upstream"
      title={`Risk 8 h also counts the chance that ${u.server} has an incident and takes this server down: ${formatRisk(u.coefficient)} of upstream incidents did in training.`}
    >
      Upstream{' '}
      <a href={hrefFor('servers', u.server)} className="mono">
        {u.server}
      </a>{' '}
      {formatRisk(u.risk)} → this server {formatRisk(u.modelRisk)} alone, {formatRisk(prediction.risk)} with it
    </p>
  );
}

export function ExplanationBody({ explanation }: { explanation: Explanation }) {
  const e = explanation.explanation!;
  return (
    <div className="explain" data-testid="detail-explain-body">
      {e.drivers.length > 0 ? (
        <ol className="drivers" data-testid="detail-drivers">
          {e.drivers.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ol>
      ) : (
        <p className="muted">The model names no single driver: no input stands out for this prediction.</p>
      )}
      <div className="grid-2">
        <figure className="explain-figure">
          <figcaption className="explain-caption">
            Variable importance <span className="muted">(within each kind: past metrics, calendar, server)</span>
          </figcaption>
          <ImportanceChart variables={e.variables} />
        </figure>
        <figure className="explain-figure">
          <figcaption className="explain-caption">
            Attention over the past window <span className="muted">(which hours the forecast looks at)</span>
          </figcaption>
          <AttentionChart times={e.attention.times} weights={e.attention.weights} />
        </figure>
      </div>
      <p className="small muted">
        From {explanation.model ? `${explanation.model.name} ${explanation.model.version}` : 'the model'}
        {explanation.time ? `, cycle ending ${formatTimestamp(explanation.time)}` : ''}. Importance is the model&apos;s
        variable-selection weight, not a causal effect.
      </p>
    </div>
  );
}

const ImportanceChart = memo(function ImportanceChart({ variables }: { variables: readonly VariableImportance[] }) {
  const theme = useChartTheme();
  const top = useMemo(() => topVariables(variables, 8), [variables]);
  const option = useMemo(() => {
    const shown = [...top].reverse();
    const kindColor = { observed: theme.accent, known: theme.warning, static: theme.muted } as const;
    return {
      ...baseOption(theme),
      grid: { left: 150, right: 44, top: 4, bottom: 4 },
      tooltip: {
        ...baseOption(theme).tooltip,
        trigger: 'item',
        formatter: (p: { dataIndex: number }) => {
          const v = shown[p.dataIndex];
          return v
            ? `${escapeHtml(v.name)} (${KIND_LABEL[v.kind]})<br/><b>${formatRisk(v.importance)}</b> of its kind's weight`
            : '';
        },
      },
      xAxis: { type: 'value', max: 1, show: false },
      yAxis: {
        type: 'category',
        data: shown.map((v) => v.name),
        axisLine: { show: false },
        axisTick: { show: false },
        axisLabel: {
          color: theme.text,
          fontSize: 10,
          fontFamily: 'ui-monospace, monospace',
          width: 140,
          overflow: 'truncate',
        },
      },
      series: [
        {
          type: 'bar',
          barWidth: '64%',
          data: shown.map((v) => ({
            value: v.importance,
            itemStyle: { color: kindColor[v.kind], borderRadius: [0, 3, 3, 0] },
          })),
          label: {
            show: true,
            position: 'right',
            color: theme.muted,
            fontSize: 10,
            formatter: (p: { value: number }) => formatRisk(p.value),
          },
        },
      ],
    };
  }, [top, theme]);
  return (
    <div data-testid="detail-importance" data-variables={top.length}>
      <EChart
        option={option}
        label={`Variable importance: ${top.map((v) => `${v.name} ${formatRisk(v.importance)}`).join(', ')}.`}
        className="chart"
        style={{ height: Math.max(140, top.length * 18 + 8) }}
      />
      <p className="chart-legend small">
        <span className="key-swatch" style={{ background: 'var(--accent)' }} /> past metrics{' '}
        <span className="key-swatch" style={{ background: 'var(--risk-warning)' }} /> calendar{' '}
        <span className="key-swatch" style={{ background: 'var(--text-muted)' }} /> server
      </p>
    </div>
  );
});

const AttentionChart = memo(function AttentionChart({
  times,
  weights,
}: {
  times: readonly string[];
  weights: readonly number[];
}) {
  const theme = useChartTheme();
  const option = useMemo(
    () => ({
      ...baseOption(theme),
      grid: { left: 40, right: 12, top: 12, bottom: 22 },
      tooltip: {
        ...baseOption(theme).tooltip,
        trigger: 'axis',
        formatter: (params: { value: [number, number] }[]) => {
          const p = params[0];
          return p
            ? `${formatTimestamp(new Date(p.value[0]).toISOString()).slice(5, 16)}<br/>attention <b>${(p.value[1] * 100).toFixed(1)} %</b>`
            : '';
        },
      },
      xAxis: timeAxis(theme),
      yAxis: valueAxis(theme, {
        min: 0,
        axisLabel: { color: theme.muted, fontSize: 10, formatter: (v: number) => `${+(v * 100).toFixed(1)}%` },
      }),
      series: [
        {
          type: 'line',
          data: times.map((t, i) => [Date.parse(t), weights[i] ?? 0]),
          symbol: 'none',
          lineStyle: { color: theme.accent, width: 1.5 },
          itemStyle: { color: theme.accent },
          areaStyle: { color: withAlpha(theme.accent, 0.18) },
        },
      ],
    }),
    [times, weights, theme],
  );
  const peak = attentionPeak(times, weights);
  return (
    <div data-testid="detail-attention" data-steps={weights.length}>
      <EChart
        option={option}
        label={`Attention over the past window: ${weights.length} steps${peak ? `, most at ${formatTimestamp(new Date(peak.at).toISOString())}` : ''}.`}
        className="chart chart-attention"
      />
    </div>
  );
});
