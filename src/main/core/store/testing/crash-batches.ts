import { STEP_MS } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { fleetBatch } from './fleet-batch';

export const CRASH_T0 = Date.UTC(2024, 0, 1);
export const CRASH_SERVERS = 10;
export const CRASH_STEPS = 100;
/** Rows per batch: one transaction each (below the store's chunk size), so a batch is all-or-nothing. */
export const CRASH_BATCH_ROWS = CRASH_SERVERS * CRASH_STEPS;

/** Batch k: every server's steps [k*100, k*100 + 100), values derived from k, so any batch can be recomputed. */
export function crashBatch(k: number): SampleColumns {
  return fleetBatch({
    servers: CRASH_SERVERS,
    steps: CRASH_STEPS,
    start: CRASH_T0 + k * CRASH_STEPS * STEP_MS,
    prefix: 'crash',
    seed: k,
  });
}

/** The batch a stored timestamp belongs to. */
export function batchOfTimestamp(ts: number): number {
  return Math.floor((ts - CRASH_T0) / (CRASH_STEPS * STEP_MS));
}
