import { describe, expect, it } from 'vitest';
import type { ServerSummary } from '@shared/domain';
import { heatBlocks, moveFocus, sameCell } from './HeatmapView.model';

function server(name: string, profile: ServerSummary['profile'], risk: number | null, reporting = true): ServerSummary {
  return {
    name,
    profile,
    state: 'healthy',
    lastSeen: '2026-01-01T12:00:00.000Z',
    reporting,
    latest: {},
    risk,
    failureMode: risk === null ? null : 'cpu',
    riskUnavailable: null,
    health: 'healthy',
  };
}

const T = { warning: 0.3, critical: 0.6 };

describe('heatmap blocks', () => {
  const fleet = [
    server('web10', 'web_api', 0.1),
    server('web2', 'web_api', 0.7),
    server('db1', 'database', 0.35),
    server('db0', 'database', 0.95, false),
    server('ml1', 'ml_compute', null),
  ];
  it('groups by profile in contract order, names in natural order, indexes across blocks', () => {
    const blocks = heatBlocks(fleet, T);
    expect(blocks.map((b) => b.profile)).toEqual(['ml_compute', 'database', 'web_api']);
    expect(blocks[2]!.cells.map((c) => c.server.name)).toEqual(['web2', 'web10']);
    expect(blocks.flatMap((b) => b.cells.map((c) => c.index))).toEqual([0, 1, 2, 3, 4]);
  });
  it('colours by the one rule: stale wins over any risk, no risk is unknown', () => {
    const cells = heatBlocks(fleet, T).flatMap((b) => b.cells);
    const health = Object.fromEntries(cells.map((c) => [c.server.name, c.health]));
    expect(health).toEqual({ ml1: 'unknown', db0: 'stale', db1: 'warning', web2: 'critical', web10: 'healthy' });
    const db = heatBlocks(fleet, T).find((b) => b.profile === 'database')!;
    expect(db.counts).toEqual({ healthy: 0, warning: 1, critical: 0, stale: 1, unknown: 0 });
  });
  it('orders worst first on demand, stale after the risks', () => {
    const db = heatBlocks([...fleet, server('db2', 'database', 0.8)], T, 'risk').find((b) => b.profile === 'database')!;
    expect(db.cells.map((c) => c.server.name)).toEqual(['db2', 'db1', 'db0']);
  });
  it('redraws a cell only when what it shows changed', () => {
    const [a] = heatBlocks([server('a', 'generic', 0.1)], T)[0]!.cells;
    const [b] = heatBlocks([{ ...server('a', 'generic', 0.1), latest: { cpu_percent: 3 } }], T)[0]!.cells;
    const [c] = heatBlocks([server('a', 'generic', 0.2)], T)[0]!.cells;
    expect(sameCell(a!, b!)).toBe(true);
    expect(sameCell(a!, c!)).toBe(false);
  });
});

describe('keyboard navigation', () => {
  // Two blocks of 7 and 3 cells, 3 columns:   0 1 2 | 3 4 5 | 6      then   7 8 9
  const sizes = [7, 3];
  it('walks left and right in reading order across blocks, and stops at the ends', () => {
    expect(moveFocus(sizes, 3, 6, 'ArrowRight')).toBe(7);
    expect(moveFocus(sizes, 3, 7, 'ArrowLeft')).toBe(6);
    expect(moveFocus(sizes, 3, 0, 'ArrowLeft')).toBe(0);
    expect(moveFocus(sizes, 3, 9, 'ArrowRight')).toBe(9);
    expect(moveFocus(sizes, 3, 5, 'Home')).toBe(0);
    expect(moveFocus(sizes, 3, 5, 'End')).toBe(9);
  });
  it('moves up and down a row, into the next or previous block at the same column', () => {
    expect(moveFocus(sizes, 3, 1, 'ArrowDown')).toBe(4);
    expect(moveFocus(sizes, 3, 4, 'ArrowDown')).toBe(6); // the last row is shorter: its last cell
    expect(moveFocus(sizes, 3, 6, 'ArrowDown')).toBe(7);
    expect(moveFocus(sizes, 3, 5, 'ArrowDown')).toBe(6);
    expect(moveFocus(sizes, 3, 8, 'ArrowUp')).toBe(6); // column 1 of the previous block's last row is empty
    expect(moveFocus(sizes, 3, 7, 'ArrowUp')).toBe(6);
    expect(moveFocus(sizes, 3, 4, 'ArrowUp')).toBe(1);
    expect(moveFocus(sizes, 3, 1, 'ArrowUp')).toBe(1);
    expect(moveFocus(sizes, 3, 8, 'ArrowDown')).toBe(8);
  });
  it('copes with one column, empty blocks and an empty map', () => {
    expect(moveFocus([2, 0, 2], 1, 1, 'ArrowDown')).toBe(2);
    expect(moveFocus([2, 0, 2], 1, 2, 'ArrowUp')).toBe(1);
    expect(moveFocus([], 4, 0, 'ArrowDown')).toBe(0);
  });
});
