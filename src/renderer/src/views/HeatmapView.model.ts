import { PROFILES, type Profile } from '@shared/contract';
import type { ServerHealth, ServerSummary } from '@shared/domain';
import { healthOf, type RiskThresholds } from '../risk';

export interface HeatCell {
  server: ServerSummary;
  health: ServerHealth;
  /** Position in the whole map, block after block: what keyboard navigation moves. */
  index: number;
}

export interface HeatBlock {
  profile: Profile;
  cells: HeatCell[];
  counts: Record<ServerHealth, number>;
}

export type HeatOrder = 'name' | 'risk';

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function emptyCounts(): Record<ServerHealth, number> {
  return { healthy: 0, warning: 0, critical: 0, stale: 0, unknown: 0 };
}

/** Worst first for the risk order: critical, warning, then by risk, stale and unknown last. */
const HEALTH_RANK: Record<ServerHealth, number> = { critical: 0, warning: 1, healthy: 2, stale: 3, unknown: 4 };

/**
 * One block per profile present (contract order), cells by name (stable places, what a person
 * remembers) or worst first. The colour follows the one rule (healthOf with the core's
 * thresholds): a server that does not report is stale whatever its last risk said.
 */
export function heatBlocks(
  servers: readonly ServerSummary[],
  thresholds: RiskThresholds,
  order: HeatOrder = 'name',
): HeatBlock[] {
  const byProfile = new Map<Profile, ServerSummary[]>();
  for (const s of servers) {
    const list = byProfile.get(s.profile);
    if (list) list.push(s);
    else byProfile.set(s.profile, [s]);
  }
  const blocks: HeatBlock[] = [];
  let index = 0;
  for (const profile of PROFILES) {
    const list = byProfile.get(profile);
    if (!list) continue;
    const decorated = list.map((server) => ({ server, health: healthOf(server.risk, server.reporting, thresholds) }));
    decorated.sort(
      order === 'name'
        ? (a, b) => collator.compare(a.server.name, b.server.name)
        : (a, b) =>
            HEALTH_RANK[a.health] - HEALTH_RANK[b.health] ||
            (b.server.risk ?? -1) - (a.server.risk ?? -1) ||
            collator.compare(a.server.name, b.server.name),
    );
    const counts = emptyCounts();
    const cells = decorated.map(({ server, health }) => {
      counts[health]++;
      return { server, health, index: index++ };
    });
    blocks.push({ profile, cells, counts });
  }
  return blocks;
}

export type NavKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End';

export function isNavKey(key: string): key is NavKey {
  return (
    key === 'ArrowLeft' ||
    key === 'ArrowRight' ||
    key === 'ArrowUp' ||
    key === 'ArrowDown' ||
    key === 'Home' ||
    key === 'End'
  );
}

/**
 * Where a key moves the focus in the map. `sizes` are the blocks' cell counts, `columns` the
 * cells per row (the same for every block: they share a width). Left and right walk the cells in
 * reading order across blocks; up and down move a row, into the previous or next block's
 * nearest row at the same column (or its last cell when that row is shorter); Home and End go to
 * the first and last cell. The focus never leaves the map.
 */
export function moveFocus(sizes: readonly number[], columns: number, index: number, key: NavKey): number {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const cols = Math.max(1, Math.floor(columns));
  const clamp = (i: number): number => Math.min(total - 1, Math.max(0, i));
  const i = clamp(index);
  switch (key) {
    case 'Home':
      return 0;
    case 'End':
      return total - 1;
    case 'ArrowLeft':
      return clamp(i - 1);
    case 'ArrowRight':
      return clamp(i + 1);
  }
  // Which block and position the cell is in.
  let start = 0;
  let block = 0;
  while (block < sizes.length && i >= start + sizes[block]!) {
    start += sizes[block]!;
    block++;
  }
  const pos = i - start;
  const row = Math.floor(pos / cols);
  const col = pos % cols;
  const size = sizes[block]!;
  const rows = Math.ceil(size / cols);
  if (key === 'ArrowUp') {
    if (row > 0) return start + (row - 1) * cols + col;
    // Into the previous non-empty block's last row.
    let b = block - 1;
    let s = start;
    while (b >= 0 && sizes[b] === 0) b--;
    if (b < 0) return i;
    for (let k = block - 1; k >= b; k--) s -= sizes[k]!;
    const prevRows = Math.ceil(sizes[b]! / cols);
    return Math.min(s + (prevRows - 1) * cols + col, s + sizes[b]! - 1);
  }
  // ArrowDown
  if (row < rows - 1) return Math.min(start + (row + 1) * cols + col, start + size - 1);
  let b = block + 1;
  let s = start + size;
  while (b < sizes.length && sizes[b] === 0) b++;
  if (b >= sizes.length) return i;
  for (let k = block + 1; k < b; k++) s += sizes[k]!;
  return Math.min(s + col, s + sizes[b]! - 1);
}

/** Whether a cell must be redrawn: what it shows (colour, label, tooltip figures) changed. */
export function sameCell(a: HeatCell, b: HeatCell): boolean {
  return (
    a.index === b.index &&
    a.health === b.health &&
    a.server.name === b.server.name &&
    a.server.risk === b.server.risk &&
    a.server.failureMode === b.server.failureMode &&
    a.server.state === b.server.state &&
    a.server.reporting === b.server.reporting
  );
}
