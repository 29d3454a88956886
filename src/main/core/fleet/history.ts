import { METRIC_NAMES, STEP_MS, type MetricName, type ServerState } from '@shared/contract';
import { ApiError } from '@shared/contract';
import type { MetricsHistory, PredictionHistory } from '@shared/domain';
import type { MetricsStore, StoredServer } from '../store';
import type { PredictionLog } from './prediction-log';

const HOUR_MS = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

/** The store's record of a server, or not_found naming it. */
export function requireServer(store: MetricsStore, server: string): StoredServer {
  const found = store.listServers().find((s) => s.name === server);
  if (!found) throw new ApiError('not_found', `No server named "${server}" in the store`);
  return found;
}

/**
 * The grid of the last `hours` of fleet time: `hours * 12` steps, oldest first, the last one the
 * newest grid point at or before `fleetTime`.
 */
export function historyGrid(fleetTime: number, hours: number): { start: number; end: number; steps: number } {
  const end = Math.floor(fleetTime / STEP_MS) * STEP_MS;
  const steps = Math.round((hours * HOUR_MS) / STEP_MS);
  return { start: end - (steps - 1) * STEP_MS, end, steps };
}

/** `metrics.history`: one server's samples on the 5-minute grid; null where nothing (finite) was reported. */
export function metricsHistory(store: MetricsStore, server: string, hours: number, fleetTime: number): MetricsHistory {
  const info = requireServer(store, server);
  const { start, end, steps } = historyGrid(fleetTime, hours);
  const times = Array.from({ length: steps }, (_, i) => iso(start + i * STEP_MS));
  const metrics = Object.fromEntries(
    METRIC_NAMES.map((m) => [m, new Array<number | null>(steps).fill(null)]),
  ) as Record<MetricName, (number | null)[]>;
  const states = new Array<ServerState | null>(steps).fill(null);
  const rows = store.querySamples(server, start, end + 1);
  for (let r = 0; r < rows.length; r++) {
    // The store only holds grid-aligned samples; a row off the grid (none) would be dropped.
    const offset = rows.timestamp[r]! - start;
    if (offset % STEP_MS !== 0) continue;
    const i = offset / STEP_MS;
    if (i < 0 || i >= steps) continue;
    for (const m of METRIC_NAMES) {
      const column = rows.metrics[m];
      if (!column.present[r]) continue;
      const v = column.values[r]!;
      metrics[m][i] = Number.isFinite(v) ? v : null;
    }
    states[i] = rows.state[r] ?? null;
  }
  return { server, profile: info.profile, stepMinutes: STEP_MS / 60_000, times, metrics, states };
}

/** `predictions.history`: one server's stored risk per cycle of the last `hours`, oldest first. */
export function predictionHistory(
  store: MetricsStore,
  log: PredictionLog,
  server: string,
  hours: number,
  fleetTime: number,
): PredictionHistory {
  const info = requireServer(store, server);
  const rows = log.range(info.id, fleetTime - hours * HOUR_MS, fleetTime);
  return {
    server,
    points: rows.map((r) => ({
      time: iso(r.ts),
      risk: Math.min(1, Math.max(0, r.risk)),
      failureMode: r.failureMode,
      model: r.model,
    })),
  };
}
