import { memo, useLayoutEffect, useRef } from 'react';
import { METRIC_BY_NAME, type MetricName } from '@shared/contract';
import type { ServerSummary } from '@shared/domain';
import { formatAge } from '../format';
import { useRowWindow } from '../hooks/use-row-window';
import { hrefFor } from '../routing/routes';
import { describeRisk, formatFailureMode, formatRisk, riskBand } from '../risk';
import {
  describeMetric,
  formatMetric,
  METRIC_COLUMNS,
  metricLevel,
  PROFILE_LABEL,
  STATE_LABEL,
  STATE_TONE,
  type SortKey,
  type SortOrder,
  sameServer,
} from './servers-model';

/** Up to this many rows render in full; above it only the visible ones (plus overscan) do. */
const WINDOW_THRESHOLD = 150;
const WINDOW_OPTIONS = { threshold: WINDOW_THRESHOLD, overscan: 12, estimatedRowHeight: 29 };
const COLUMN_COUNT = 6 + METRIC_COLUMNS.length;

export interface ServersTableProps {
  /** Filtered and sorted. */
  servers: readonly ServerSummary[];
  sort: SortOrder;
  onSort: (key: SortKey) => void;
  /** The fleet clock now (ms): "last seen" is measured against it, not the browser's clock. */
  fleetNowMs: number;
  /** The answer's fleetTime, exposed for tests and diagnostics. */
  fleetTime: string;
  /** When this changes (another filter or order) the table scrolls back to its top. */
  viewKey: string;
}

export function ServersTable({ servers, sort, onSort, fleetNowMs, fleetTime, viewKey }: ServersTableProps) {
  const scrollerRef = useRef<HTMLDivElement>(null);
  // A new filter or order is a new list: showing its 500th row first would be a surprise.
  useLayoutEffect(() => {
    scrollerRef.current?.scrollTo({ top: 0 });
  }, [viewKey]);
  const range = useRowWindow(scrollerRef, servers.length, WINDOW_OPTIONS);
  const start = range?.start ?? 0;
  const end = range?.end ?? servers.length;
  const rowHeight = range?.rowHeight ?? 0;
  const visible = servers.slice(start, end);

  const header = (key: SortKey, label: string, unit?: string, title?: string, numeric = false) => {
    const active = sort.key === key;
    const arrow = active && (
      <span className="sort-arrow" aria-hidden="true">
        {sort.direction === 'ascending' ? '▲' : '▼'}
      </span>
    );
    return (
      <th
        scope="col"
        className={numeric ? 'num' : undefined}
        aria-sort={active ? sort.direction : undefined}
        data-testid={`servers-sort-${key}`}
      >
        <button type="button" className="sort-button" onClick={() => onSort(key)} title={title}>
          {/* The arrow sits on the side away from the column's alignment edge, so the label stays put. */}
          <span className="sort-label">
            {numeric && arrow}
            {label}
            {!numeric && arrow}
          </span>
          {unit && <span className="sort-unit">{unit}</span>}
        </button>
      </th>
    );
  };

  return (
    <div className="servers-scroll" ref={scrollerRef} tabIndex={0} role="region" aria-label="Servers table">
      <table
        className="servers-table"
        data-testid="servers-table"
        data-fleet-time={fleetTime}
        data-rows={servers.length}
        aria-rowcount={servers.length + 1}
      >
        <colgroup>
          <col className="col-name" />
          <col className="col-profile" />
          <col className="col-state" />
          <col className="col-risk" />
          <col className="col-mode" />
          <col className="col-seen" />
          {METRIC_COLUMNS.map((c) => (
            <col key={c.metric} className={`col-metric col-${c.metric}`} />
          ))}
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            {header('name', 'Server')}
            {header('profile', 'Profile')}
            {header('state', 'State', undefined, 'Operating state as the source reports it; sorts worst first')}
            {header(
              'risk',
              'Risk',
              '8 h',
              'Probability of an incident within 8 hours (the model); sorts highest first',
              true,
            )}
            <th scope="col" title="The most likely kind of incident, should one come (faint where the risk is low)">
              <span className="sort-button plain-head">
                <span className="sort-label">Failure</span>
                <span className="sort-unit">mode</span>
              </span>
            </th>
            {header('lastSeen', 'Last seen', 'fleet time', 'Newest sample, on the fleet clock; sorts stalest first')}
            {METRIC_COLUMNS.map((c) => header(c.metric, c.label, c.unit, thresholdHint(c.metric), true))}
          </tr>
        </thead>
        <tbody>
          {start > 0 && <Spacer height={start * rowHeight} />}
          {visible.map((server, i) => (
            <ServerRow
              key={server.name}
              server={server}
              index={start + i}
              age={formatAge(fleetNowMs - Date.parse(server.lastSeen))}
            />
          ))}
          {end < servers.length && <Spacer height={(servers.length - end) * rowHeight} />}
        </tbody>
      </table>
    </div>
  );
}

function thresholdHint(metric: MetricName): string {
  const spec = METRIC_BY_NAME[metric];
  const column = METRIC_COLUMNS.find((c) => c.metric === metric)!;
  const unit = column.unit === '%' ? ' %' : column.unit === 'ms p95' ? ' ms' : '';
  const levels =
    spec.warning !== null && spec.critical !== null
      ? ` · warning ≥ ${formatMetric(column, spec.warning)}${unit}, critical ≥ ${formatMetric(column, spec.critical)}${unit}`
      : ' · no universal threshold';
  return `${spec.description}${levels}`;
}

function Spacer({ height }: { height: number }) {
  return (
    <tr className="spacer" aria-hidden="true">
      <td colSpan={COLUMN_COUNT} style={{ height }} />
    </tr>
  );
}

interface ServerRowProps {
  server: ServerSummary;
  index: number;
  age: string;
}

/**
 * One server. Memoized on its figures, not its identity: every update brings fresh objects,
 * and a row whose numbers did not change (a filtered or re-sorted table) is not redrawn.
 */
const ServerRow = memo(
  function ServerRow({ server, index, age }: ServerRowProps) {
    const silent = !server.reporting;
    return (
      <tr
        data-row=""
        data-testid={`servers-row-${server.name}`}
        data-reporting={server.reporting}
        data-health={server.health}
        className={silent ? 'row-silent' : undefined}
        aria-rowindex={index + 2}
      >
        <th scope="row" className="cell-name mono" title={silent ? `${server.name}: not reporting` : server.name}>
          {silent && <span className="silent-dot" aria-hidden="true" />}
          <a href={hrefFor('servers', server.name)} className="server-link" data-testid="servers-link">
            {server.name}
          </a>
        </th>
        <td className="cell-profile" data-profile={server.profile} title={server.profile}>
          {PROFILE_LABEL[server.profile]}
        </td>
        <td className="cell-state">
          {server.state === null ? (
            <span className="muted" title="The source reports no state">
              —
            </span>
          ) : (
            <span className={`state state-${STATE_TONE[server.state]}`} data-state={server.state}>
              {STATE_LABEL[server.state]}
            </span>
          )}
        </td>
        <td
          className={server.risk === null ? 'num cell-risk cell-missing' : 'num cell-risk'}
          data-testid="servers-risk"
          data-risk={server.risk ?? undefined}
          data-risk-unavailable={server.riskUnavailable?.reason}
          title={describeRisk(server.risk, server.riskUnavailable)}
        >
          {(server.risk !== null || server.health === 'stale') && (
            <span className={`risk-dot risk-${server.health}`} aria-hidden="true" />
          )}
          {formatRisk(server.risk)}
        </td>
        <td
          className={
            server.failureMode === null ||
            server.failureMode === 'none' ||
            server.risk === null ||
            riskBand(server.risk) === 'healthy'
              ? 'cell-mode muted'
              : 'cell-mode'
          }
          data-testid="servers-failure-mode"
          data-failure-mode={server.failureMode ?? undefined}
          title={
            server.failureMode === null
              ? 'No prediction'
              : server.failureMode === 'none'
                ? 'No incident expected'
                : `Should an incident come, most likely: ${server.failureMode}`
          }
        >
          {formatFailureMode(server.failureMode)}
        </td>
        <td className="cell-seen" data-testid="servers-last-seen">
          {silent ? (
            <span className="silent" title="Not reporting: no sample in the last 15 minutes of fleet time">
              {age}
              <span className="visually-hidden"> (not reporting)</span>
            </span>
          ) : (
            age
          )}
        </td>
        {METRIC_COLUMNS.map((column) => {
          const value = server.latest[column.metric];
          const level = metricLevel(column.metric, value);
          const className =
            value === undefined
              ? 'num cell-missing'
              : value === null
                ? 'num cell-nonfinite'
                : level
                  ? `num level-${level}`
                  : 'num';
          return (
            <td
              key={column.metric}
              className={className}
              data-metric={column.metric}
              data-level={level ?? undefined}
              title={describeMetric(column, value)}
            >
              {formatMetric(column, value)}
              {level && <span className="visually-hidden"> ({level})</span>}
            </td>
          );
        })}
      </tr>
    );
  },
  (a, b) => a.index === b.index && a.age === b.age && sameServer(a.server, b.server),
);
