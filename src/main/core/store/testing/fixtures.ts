import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricName, ServerState } from '@shared/contract';
import type { SampleColumns, SampleRow } from '@shared/domain';
import { rowsToColumns } from '../../metrics/columns';

/** 2024-01-01T00:00Z: on the 5-minute grid. */
export const T0 = Date.UTC(2024, 0, 1);
export const MIN = 60_000;
export const STEP = 5 * MIN;

/** A temp folder per test: real files, because WAL and fsync behave differently in :memory:. */
export function tempDir(prefix = 'tftmp-store-'): { dir: string; file(name?: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file: (name = 'metrics.db') => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function sample(
  server: string,
  timestamp: number,
  metrics: Partial<Record<MetricName, number | null>> = { cpu_percent: 10 },
  state: ServerState | null = null,
): SampleRow {
  return { server, timestamp, state, metrics };
}

export function batchOf(...rows: SampleRow[]): SampleColumns {
  return rowsToColumns(rows);
}
