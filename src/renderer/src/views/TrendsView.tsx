import { useMemo, useState, type ReactNode } from 'react';
import { METRIC_BY_NAME, METRIC_NAMES, isMetricName, type MetricName } from '@shared/contract';
import { useQuery } from '../api/use-query';
import { EChart } from '../charts/EChart';
import { EmptyState } from '../components/EmptyState';
import { ErrorPanel } from '../components/ErrorPanel';
import { Panel } from '../components/Panel';
import { View } from '../components/View';
import { formatTimestamp } from '../format';
import { useChartTheme } from './trends-chart-theme';
import {
  TREND_RANGES,
  TRENDS_THROTTLE_MS,
  alertsOpenedOption,
  confidenceOption,
  describeTrends,
  metricOption,
  rangeHours,
  riskOption,
  trendsCoverage,
  type TrendRangeId,
} from './trends-model';
import './TrendsView.css';

export function TrendsView() {
  const [range, setRange] = useState<TrendRangeId>('24h');
  const [metric, setMetric] = useState<MetricName>('cpu_percent');
  const hours = rangeHours(range);
  const trends = useQuery(
    'trends.fleet',
    { hours },
    { refetchOn: 'predictions.updated', throttleMs: TRENDS_THROTTLE_MS },
  );
  const theme = useChartTheme();
  const data = trends.data;
  const coverage = useMemo(() => (data ? trendsCoverage(data) : null), [data]);
  const describe = useMemo(() => (data ? describeTrends(data, hours) : null), [data, hours]);
  const options = useMemo(
    () =>
      data
        ? {
            risk: riskOption(data, theme),
            confidence: confidenceOption(data, theme),
            alerts: alertsOpenedOption(data, theme),
          }
        : null,
    [data, theme],
  );
  const metricChart = useMemo(() => (data ? metricOption(data, metric, theme) : null), [data, metric, theme]);

  const rangePicker = (
    <div className="trends-range" role="group" aria-label="Time range">
      {TREND_RANGES.map((r) => (
        <button
          key={r.id}
          type="button"
          className="chip"
          aria-pressed={range === r.id}
          data-testid={`trends-range-${r.id}`}
          onClick={() => setRange(r.id)}
        >
          {r.label}
        </button>
      ))}
    </div>
  );

  const first = data?.times[0];
  const last = data?.times.at(-1);

  return (
    <View
      id="trends"
      title="Trends"
      subtitle="How fleet risk, forecast confidence, metrics and alerts moved over time."
      actions={rangePicker}
    >
      {trends.error && <ErrorPanel title="Could not load the trends" error={trends.error} onRetry={trends.refetch} />}
      {!data && !trends.error && (
        <p className="muted" role="status" data-testid="trends-loading">
          Loading the last {TREND_RANGES.find((r) => r.id === range)?.label}…
        </p>
      )}

      {data && coverage && describe && options && metricChart && (
        <>
          {!coverage.risk && coverage.metricsWithData.length === 0 ? (
            <EmptyState
              id="trends"
              icon="trends"
              title="No history in this range yet"
              needs="Metric history in the local store and prediction cycles from a loaded model. It builds up as sources report, one sample per server every 5 minutes."
            >
              <p>
                Fleet risk and every metric over the last hours to a week, the model&apos;s confidence, and the alerts
                opened, in {data.bucketMinutes}-minute buckets.
              </p>
            </EmptyState>
          ) : (
            <>
              <p className="trends-span small muted" data-testid="trends-span">
                {data.times.length} buckets of {formatBucket(data.bucketMinutes)}
                {first && last && (
                  <>
                    , from <time dateTime={first}>{formatTimestamp(first)}</time> to{' '}
                    <time dateTime={last}>{formatTimestamp(last)}</time> (fleet clock)
                  </>
                )}
                . Refreshes after prediction cycles, at most every {TRENDS_THROTTLE_MS / 1000} s.
              </p>
              <div className="trends-grid">
                <TrendPanel
                  title="Risk over time"
                  testId="trends-risk"
                  hasData={coverage.risk}
                  empty="No prediction cycle in this range: risk needs a loaded model."
                  aside={<Partial count={coverage.riskBuckets} of={coverage.buckets} testId="trends-risk-coverage" />}
                  note="Probability of an incident within 8 hours across the predicted servers: mean, 90th percentile and the riskiest server per bucket; bars count servers over the warning level (30 %)."
                >
                  <EChart option={options.risk} label={describe.risk} className="trends-chart" />
                </TrendPanel>
                <TrendPanel
                  title="Prediction confidence"
                  testId="trends-confidence"
                  hasData={coverage.confidence}
                  empty="No prediction cycle in this range: confidence needs a loaded model."
                  aside={<Partial count={coverage.confidenceBuckets} of={coverage.buckets} />}
                  note="Decisiveness: how far the risks sit from a coin flip (|2·risk − 1|, 100 % = every server clearly safe or clearly in trouble). Band: the forecast's P10–P90 width one hour ahead as a share of the metric's range (lower is surer)."
                >
                  <EChart option={options.confidence} label={describe.confidence} className="trends-chart" />
                </TrendPanel>
                <TrendPanel
                  title="Metrics across the fleet"
                  testId="trends-metrics"
                  hasData={coverage.metricsWithData.includes(metric)}
                  empty={`No ${metric} samples in this range.`}
                  aside={
                    <label className="trends-metric-picker">
                      <span>Metric</span>
                      <select
                        className="input"
                        value={metric}
                        data-testid="trends-metric"
                        onChange={(e) => {
                          if (isMetricName(e.target.value)) setMetric(e.target.value);
                        }}
                      >
                        {METRIC_NAMES.map((m) => (
                          <option key={m} value={m}>
                            {m} ({METRIC_BY_NAME[m].unit})
                          </option>
                        ))}
                      </select>
                    </label>
                  }
                  note={`${METRIC_BY_NAME[metric].description}: the fleet's mean and 90th percentile per bucket${
                    METRIC_BY_NAME[metric].critical !== null
                      ? `; dashed lines at the warning (${METRIC_BY_NAME[metric].warning}) and critical (${METRIC_BY_NAME[metric].critical}) thresholds when the data comes near them`
                      : ''
                  }.`}
                >
                  <EChart option={metricChart} label={describe.metric(metric)} className="trends-chart" />
                </TrendPanel>
                <TrendPanel
                  title="Alerts opened"
                  testId="trends-alerts"
                  hasData
                  aside={
                    <span className="small muted" data-testid="trends-alerts-total">
                      {coverage.alertsOpened} in range
                    </span>
                  }
                  note="Alerts opened per bucket, stacked by severity (warning at 30 % risk, critical at 60 %)."
                >
                  <EChart option={options.alerts} label={describe.alerts} className="trends-chart" />
                </TrendPanel>
              </div>
            </>
          )}
        </>
      )}
    </View>
  );
}

/** "Predictions in 3 of 96 buckets": said when the history is shorter than the range (a fresh store). */
function Partial({ count, of, testId }: { count: number; of: number; testId?: string }) {
  if (count === 0 || count >= of) return null;
  return (
    <span
      className="small muted"
      data-testid={testId}
      title="The store holds prediction cycles only from when a model first predicted this fleet"
    >
      predictions in {count} of {of} buckets
    </span>
  );
}

function formatBucket(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

function TrendPanel({
  title,
  testId,
  hasData,
  empty,
  aside,
  note,
  children,
}: {
  title: string;
  testId: string;
  hasData: boolean;
  empty?: string;
  aside?: ReactNode;
  note: string;
  children: ReactNode;
}) {
  return (
    <Panel title={title} testId={testId} aside={aside} className="trends-panel">
      {hasData ? (
        <div data-testid={`${testId}-chart`}>{children}</div>
      ) : (
        <p className="trends-nodata" data-testid={`${testId}-empty`}>
          {empty}
        </p>
      )}
      <p className="small trends-note">{note}</p>
    </Panel>
  );
}
