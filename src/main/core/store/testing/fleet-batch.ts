import { STEP_MS, type ServerState } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { allocateColumns } from '../../metrics/columns';
import { SAMPLE_METRIC_COLUMNS, STATE_CODES } from '../schema';

export interface FleetBatchSpec {
  servers: number;
  steps: number;
  /** First timestamp (on the grid). */
  start: number;
  /** Server name prefix; names are `${prefix}${index padded}`. */
  prefix?: string;
  /** Deterministic variation, so different batches hold different values. */
  seed?: number;
}

/**
 * A synthetic fleet batch, server-major (all of a server's steps, then the next server): the
 * layout a window export or file import produces. Values are cheap deterministic functions of
 * (seed, server, step) inside every metric's range, so a test can recompute what it wrote.
 */
export function fleetBatch(spec: FleetBatchSpec): SampleColumns {
  const { servers, steps, start } = spec;
  const prefix = spec.prefix ?? 'ppweb';
  const seed = spec.seed ?? 0;
  const out = allocateColumns(servers * steps);
  let i = 0;
  for (let s = 0; s < servers; s++) {
    const name = `${prefix}${String(s).padStart(4, '0')}`;
    for (let k = 0; k < steps; k++, i++) {
      out.server[i] = name;
      out.timestamp[i] = start + k * STEP_MS;
      out.state[i] = STATE_CODES[(s + k + seed) % STATE_CODES.length] as ServerState;
      for (let m = 0; m < SAMPLE_METRIC_COLUMNS.length; m++) {
        const column = out.metrics[SAMPLE_METRIC_COLUMNS[m]!];
        column.values[i] = syntheticValue(seed, s, k, m);
        column.present[i] = 1;
      }
    }
  }
  return out;
}

/** In [0, 1): valid for every contract metric (all ranges start at 0 and reach at least 1). */
export function syntheticValue(seed: number, server: number, step: number, metric: number): number {
  const x = Math.sin(seed * 12.9898 + server * 78.233 + step * 37.719 + metric * 4.581) * 43758.5453;
  return x - Math.floor(x);
}
