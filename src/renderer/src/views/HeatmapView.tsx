import { memo, useCallback, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { ServerHealth, ServerSummary } from '@shared/domain';
import { useQuery } from '../api/use-query';
import { EmptyState } from '../components/EmptyState';
import { ErrorPanel } from '../components/ErrorPanel';
import { RiskLegend } from '../components/RiskLegend';
import { View } from '../components/View';
import { fleetNow } from '../fleet-clock';
import { formatAge } from '../format';
import { readingOf, useFleetClock } from '../hooks/use-fleet-clock';
import { useNow } from '../hooks/use-now';
import { formatFailureMode, formatRisk, HEALTH_LABEL, HEALTH_ORDER, RISK_THRESHOLDS } from '../risk';
import { hrefFor } from '../routing/routes';
import {
  heatBlocks,
  isNavKey,
  moveFocus,
  sameCell,
  type HeatBlock,
  type HeatCell,
  type HeatOrder,
} from './HeatmapView.model';
import { PROFILE_LABEL, STATE_LABEL } from './servers-model';
import { Chip } from '../components/Chip';

/** Up to this many servers the cells are tiles with the name and risk written in; above it, squares. */
const TILE_LIMIT = 80;

export function HeatmapView() {
  // Risk moves per prediction cycle, reporting (stale) with the samples: both, throttled. One
  // query for the whole map: cells never subscribe to anything themselves.
  const servers = useQuery(
    'fleet.servers',
    {},
    { refetchOn: ['predictions.updated', 'fleet.updated'], throttleMs: 1500 },
  );
  const status = useQuery('fleet.status', {}, { refetchOn: 'predictions.updated', throttleMs: 5000 });
  const thresholds = status.data?.risk.thresholds ?? RISK_THRESHOLDS;
  const [order, setOrder] = useState<HeatOrder>('name');
  const all = servers.data?.servers;
  const blocks = useMemo(() => heatBlocks(all ?? [], thresholds, order), [all, thresholds, order]);
  const total = all?.length ?? 0;
  const counts = useMemo(() => {
    const c: Record<ServerHealth, number> = { healthy: 0, warning: 0, critical: 0, stale: 0, unknown: 0 };
    for (const b of blocks) for (const h of HEALTH_ORDER) c[h] += b.counts[h];
    return c;
  }, [blocks]);

  const answered = readingOf(servers.data?.fleetTime, servers.updatedAt);
  const clock = useFleetClock(answered, false);
  const now = useNow(15_000);
  const fleetNowMs = answered ? fleetNow(answered, clock.rate, now) : now;

  return (
    <View
      id="heatmap"
      title="Heatmap"
      subtitle="Every server's risk of an incident in the next 8 hours, grouped by profile."
      actions={<RiskLegend states thresholds={thresholds} />}
    >
      {servers.error && (
        <ErrorPanel title="Could not load the servers" error={servers.error} onRetry={servers.refetch} />
      )}
      {servers.data && total === 0 ? (
        <EmptyState
          id="heatmap"
          icon="heatmap"
          title="No servers to map yet"
          needs="Servers reporting metrics and a loaded model. They arrive with the fleet simulator and metric import (CSV, Parquet, Arrow, Prometheus)."
        >
          <p>
            Every server as a cell coloured by its risk of an incident in the next 8 hours, grouped by profile. Hover or
            focus a cell for the server&apos;s risk and expected failure mode; open it for its forecast.
          </p>
        </EmptyState>
      ) : !servers.data ? (
        !servers.error && <p className="muted">Loading…</p>
      ) : (
        <>
          <div className="heatmap-toolbar">
            <p className="heatmap-summary" data-testid="heatmap-summary" aria-live="polite">
              <strong>{total}</strong> server{total === 1 ? '' : 's'}:{' '}
              {HEALTH_ORDER.filter((h) => counts[h] > 0)
                .map((h) => `${counts[h]} ${HEALTH_LABEL[h].toLowerCase()}`)
                .join(' · ')}
            </p>
            <div className="chips" role="group" aria-label="Order cells by">
              <Chip pressed={order === 'name'} onClick={() => setOrder('name')} testId="heatmap-order-name">
                By name
              </Chip>
              <Chip pressed={order === 'risk'} onClick={() => setOrder('risk')} testId="heatmap-order-risk">
                Worst first
              </Chip>
            </div>
          </div>
          <HeatMap blocks={blocks} tiles={total <= TILE_LIMIT} fleetNowMs={fleetNowMs} />
          <p className="small muted">
            Arrow keys move between cells, Enter opens the server. Colours follow the alert thresholds (warning from{' '}
            {Math.round(thresholds.warning * 100)} %, critical from {Math.round(thresholds.critical * 100)} %); hatched
            cells have not reported for 15 minutes and their last risk no longer counts.
          </p>
        </>
      )}
    </View>
  );
}

function HeatMap({ blocks, tiles, fleetNowMs }: { blocks: HeatBlock[]; tiles: boolean; fleetNowMs: number }) {
  const rootRef = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState<string | null>(null);
  const [hover, setHover] = useState<{ name: string; x: number; y: number; below: boolean } | null>(null);
  const cellByName = useMemo(() => {
    const map = new Map<string, HeatCell>();
    for (const b of blocks) for (const c of b.cells) map.set(c.server.name, c);
    return map;
  }, [blocks]);
  // The one cell Tab lands on: the last one focused, else the first.
  const tabbable = active !== null && cellByName.has(active) ? active : (blocks[0]?.cells[0]?.server.name ?? null);

  const show = useCallback((target: EventTarget | null) => {
    const cell = (target as HTMLElement | null)?.closest<HTMLElement>('[data-cell]');
    const root = rootRef.current;
    if (!cell || !root) return;
    const r = cell.getBoundingClientRect();
    const box = root.getBoundingClientRect();
    const name = cell.dataset['cell']!;
    const below = r.top - box.top < 120;
    setHover({ name, x: r.left - box.left + r.width / 2, y: below ? r.bottom - box.top : r.top - box.top, below });
  }, []);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    if (!isNavKey(e.key)) return;
    const cell = (e.target as HTMLElement).closest<HTMLElement>('[data-cell]');
    const root = rootRef.current;
    if (!cell || !root) return;
    const grid = root.querySelector<HTMLElement>('.heat-grid');
    const columns = grid ? getComputedStyle(grid).gridTemplateColumns.split(' ').filter(Boolean).length : 1;
    const index = Number(cell.dataset['index']);
    const next = moveFocus(
      blocks.map((b) => b.cells.length),
      columns,
      index,
      e.key,
    );
    e.preventDefault();
    const target = root.querySelector<HTMLElement>(`[data-index="${next}"]`);
    target?.focus();
    if (target) target.scrollIntoView({ block: 'nearest' });
  };

  const hovered = hover ? cellByName.get(hover.name) : undefined;

  return (
    <div
      className={tiles ? 'heatmap heatmap-tiles' : 'heatmap'}
      ref={rootRef}
      data-testid="heatmap"
      onKeyDown={onKeyDown}
      onMouseOver={(e) => show(e.target)}
      onMouseLeave={() => setHover(null)}
      onFocus={(e) => {
        const name = (e.target as HTMLElement).dataset['cell'];
        if (name) setActive(name);
        show(e.target);
      }}
      onBlur={(e) => {
        if (!rootRef.current?.contains(e.relatedTarget)) setHover(null);
      }}
    >
      {blocks.map((block) => (
        <Block key={block.profile} block={block} tiles={tiles} tabbable={tabbable} />
      ))}
      {hover && hovered && (
        <CellTooltip cell={hovered} x={hover.x} y={hover.y} below={hover.below} fleetNowMs={fleetNowMs} />
      )}
    </div>
  );
}

const Block = memo(function Block({
  block,
  tiles,
  tabbable,
}: {
  block: HeatBlock;
  tiles: boolean;
  tabbable: string | null;
}) {
  const titleId = `heat-${block.profile}`;
  return (
    <section className="heat-block" aria-labelledby={titleId} data-testid={`heatmap-block-${block.profile}`}>
      <header className="heat-block-header">
        <h2 className="heat-block-title" id={titleId}>
          {PROFILE_LABEL[block.profile]}
          <span className="heat-block-count">{block.cells.length}</span>
        </h2>
        <ul className="heat-block-counts" aria-label={`${PROFILE_LABEL[block.profile]} by health`}>
          {HEALTH_ORDER.filter((h) => block.counts[h] > 0).map((h) => (
            <li key={h} title={HEALTH_LABEL[h]}>
              <span className={`risk-swatch risk-${h}`} aria-hidden="true" />
              {block.counts[h]}
              <span className="visually-hidden"> {HEALTH_LABEL[h]}</span>
            </li>
          ))}
        </ul>
      </header>
      <div className="heat-grid" role="group" aria-labelledby={titleId}>
        {block.cells.map((cell) => (
          <Cell key={cell.server.name} cell={cell} tiles={tiles} tabbable={cell.server.name === tabbable} />
        ))}
      </div>
    </section>
  );
});

function cellLabel(cell: HeatCell): string {
  const s = cell.server;
  const parts = [s.name, HEALTH_LABEL[cell.health]];
  if (cell.health === 'stale') parts.push('not reporting');
  else if (s.risk !== null) parts.push(`risk ${formatRisk(s.risk)}`);
  if (s.failureMode && s.failureMode !== 'none' && cell.health !== 'stale') parts.push(`failure mode ${s.failureMode}`);
  parts.push(PROFILE_LABEL[s.profile]);
  return parts.join(', ');
}

const Cell = memo(
  function Cell({ cell, tiles, tabbable }: { cell: HeatCell; tiles: boolean; tabbable: boolean }) {
    const s = cell.server;
    return (
      <button
        type="button"
        className={`heat-cell heat-${cell.health}`}
        data-cell={s.name}
        data-index={cell.index}
        data-health={cell.health}
        data-testid={`heat-cell-${s.name}`}
        tabIndex={tabbable ? 0 : -1}
        aria-label={cellLabel(cell)}
        onClick={() => {
          window.location.hash = hrefFor('servers', s.name);
        }}
      >
        {tiles && (
          <>
            <span className="heat-cell-name">{s.name}</span>
            <span className="heat-cell-risk">{cell.health === 'stale' ? 'stale' : formatRisk(s.risk)}</span>
          </>
        )}
      </button>
    );
  },
  (a, b) => a.tiles === b.tiles && a.tabbable === b.tabbable && sameCell(a.cell, b.cell),
);

function CellTooltip({
  cell,
  x,
  y,
  below,
  fleetNowMs,
}: {
  cell: HeatCell;
  x: number;
  y: number;
  below: boolean;
  fleetNowMs: number;
}) {
  const s: ServerSummary = cell.server;
  return (
    <div
      className={below ? 'heat-tooltip heat-tooltip-below' : 'heat-tooltip'}
      style={{ left: x, top: y }}
      role="tooltip"
      data-testid="heatmap-tooltip"
    >
      <div className="heat-tooltip-head">
        <span className={`risk-swatch risk-${cell.health}`} aria-hidden="true" />
        <strong className="mono">{s.name}</strong>
        <span className="heat-tooltip-health">{HEALTH_LABEL[cell.health]}</span>
      </div>
      <dl className="kv kv-compact">
        <Row label="Profile">{PROFILE_LABEL[s.profile]}</Row>
        <Row label="Risk (8 h)">
          {s.risk === null ? (s.riskUnavailable?.detail ?? '—') : formatRisk(s.risk)}
          {cell.health === 'stale' && s.risk !== null && ' (before it stopped reporting)'}
        </Row>
        <Row label="Failure mode">{s.failureMode === 'none' ? 'none expected' : formatFailureMode(s.failureMode)}</Row>
        <Row label="State">{s.state === null ? '—' : STATE_LABEL[s.state]}</Row>
        <Row label="Last seen">{formatAge(fleetNowMs - Date.parse(s.lastSeen))}</Row>
      </dl>
      <div className="heat-tooltip-hint">Click or Enter: forecast and why</div>
    </div>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}
