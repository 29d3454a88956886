import { METRIC_NAMES, STEP_MS, type MetricName } from '@shared/contract';
import type { Incident, IncidentType, SampleColumns } from '@shared/domain';
import { allocateColumns } from '../../../metrics/columns';

/** Test fixtures: small hand-made series whose every value a test can recompute. */

export const MONDAY = Date.UTC(2024, 0, 1); // 2024-01-01 was a Monday
export const HOUR = 3_600_000;

/**
 * `samples` 5-minute samples of one server starting at `start`; `value(metric, i, ts)` gives
 * each value, `undefined` for a missing one (present = 0).
 */
export function handSeries(
  server: string,
  start: number,
  samples: number,
  value: (metric: MetricName, i: number, ts: number) => number | undefined,
): SampleColumns {
  const out = allocateColumns(samples);
  for (let i = 0; i < samples; i++) {
    const ts = start + i * STEP_MS;
    out.server[i] = server;
    out.timestamp[i] = ts;
    for (const m of METRIC_NAMES) {
      const v = value(m, i, ts);
      if (v === undefined) continue;
      out.metrics[m].values[i] = v;
      out.metrics[m].present[i] = 1;
    }
  }
  return out;
}

/** Rows for which `keep` is true, copied (a sample removed is a gap, not a zero). */
export function filterRows(columns: SampleColumns, keep: (row: number) => boolean): SampleColumns {
  const rows: number[] = [];
  for (let i = 0; i < columns.length; i++) if (keep(i)) rows.push(i);
  return pickRows(columns, rows);
}

/** The given rows, in the given order (copies). */
export function pickRows(columns: SampleColumns, rows: readonly number[]): SampleColumns {
  const out = allocateColumns(rows.length);
  rows.forEach((r, i) => {
    out.server[i] = columns.server[r]!;
    out.timestamp[i] = columns.timestamp[r]!;
    out.state[i] = columns.state[r] ?? null;
    for (const m of METRIC_NAMES) {
      out.metrics[m].values[i] = columns.metrics[m].values[r]!;
      out.metrics[m].present[i] = columns.metrics[m].present[r]!;
    }
  });
  return out;
}

export function incident(server: string, type: IncidentType, onset: number, end: number): Incident {
  return {
    id: `${server}-${onset}`,
    server,
    type,
    onset,
    end,
    precursor: false,
    precursorStart: null,
    metric: 'cpu_percent',
    cause: null,
  };
}
