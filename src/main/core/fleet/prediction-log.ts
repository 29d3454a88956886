import type Database from 'better-sqlite3';
import { METRIC_BY_NAME, type MetricName } from '@shared/contract';
import type { ServerPrediction } from '@shared/domain';
import type { MetricsStore } from '../store';

/** One stored prediction as history reads it. */
export interface PredictionRow {
  ts: number;
  model: string;
  risk: number;
  failureMode: string | null;
}

/** The payload's key for the +1 h band width (see `bandWidthAt`). */
export const BAND_WIDTH_1H_KEY = 'bandWidth1h';
const BAND_LEAD_MS = 3_600_000;

/**
 * The horizon step whose end is `leadMs` after the window end, for steps of `stepMinutes`; null
 * when no step ends there (a step that does not divide the lead, or a horizon shorter than it).
 */
export function horizonStepAt(stepMinutes: number, horizonSteps: number, leadMs = BAND_LEAD_MS): number | null {
  const stepMs = stepMinutes * 60_000;
  if (!(stepMs > 0)) return null;
  const k = leadMs / stepMs - 1;
  return Number.isInteger(k) && k >= 0 && k < horizonSteps ? k : null;
}

/**
 * P90 - P10 of each target metric at horizon step `k`, as a share of the metric's contract range
 * (max - min): the prediction's uncertainty, comparable across metrics. Non-finite widths are left out.
 */
export function bandWidthAt(
  prediction: Pick<ServerPrediction, 'forecast'>,
  k: number,
): Partial<Record<MetricName, number>> {
  const out: Partial<Record<MetricName, number>> = {};
  for (const band of prediction.forecast) {
    const spec = METRIC_BY_NAME[band.metric];
    const p10 = band.p10[k];
    const p90 = band.p90[k];
    if (!spec || p10 === undefined || p90 === undefined) continue;
    const width = (p90 - p10) / (spec.max - spec.min);
    if (Number.isFinite(width)) out[band.metric] = Math.max(0, width);
  }
  return out;
}

/**
 * The store's `predictions` table (migration 3): one row per (server, window time, model), the
 * risk and failure mode as columns (what history queries filter on) and the failure-mode
 * probabilities, coverage and known-server flag as a small JSON payload. Forecast bands are not
 * kept: they are recomputed in memory each cycle and would multiply the table's size by ~50.
 * Cycles of the same 30-minute window replace each other (the store's retention prunes the rest).
 *
 * It writes through `store.db` because MetricsStore has no prediction method yet; when it gains
 * one, this moves there.
 */
export class PredictionLog {
  private readonly insert: Database.Statement<[number, number, string, number, string, Buffer]>;
  private readonly writeAll: (rows: readonly [number, number, string, number, string, Buffer][]) => void;

  constructor(private readonly store: MetricsStore) {
    this.insert = store.db.prepare(
      'INSERT OR REPLACE INTO predictions (server_id, ts, model, risk, failure_mode, payload) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.writeAll = store.db.transaction((rows: readonly [number, number, string, number, string, Buffer][]) => {
      for (const row of rows) this.insert.run(...row);
    });
  }

  /**
   * Writes one cycle in one transaction; servers the store does not know (none, in practice) are
   * left out. The payload also keeps the +1 h P10-P90 width per target metric (`bandWidth1h`,
   * share of the contract range): the trends view's confidence. `horizon.stepMinutes` (the model's
   * featureSpec.stepMinutes) says which step is +1 h; without it the forecast is taken to span the
   * contract's 8 h horizon.
   */
  write(
    time: number,
    model: string,
    predictions: readonly ServerPrediction[],
    serverIds: ReadonlyMap<string, number>,
    /** The model's horizon step, for the +1 h band width. */
    horizon: { stepMinutes: number },
  ): number {
    const rows: [number, number, string, number, string, Buffer][] = [];
    for (const p of predictions) {
      const id = serverIds.get(p.server);
      if (id === undefined) continue;
      const steps = p.forecast[0]?.p50.length ?? 0;
      const k = horizonStepAt(horizon.stepMinutes, steps);
      const payload = {
        failureModes: p.failureModes,
        coverage: p.coverage,
        knownServer: p.knownServer,
        ...(k === null ? {} : { [BAND_WIDTH_1H_KEY]: bandWidthAt(p, k) }),
      };
      rows.push([id, time, model, p.risk, p.failureMode, Buffer.from(JSON.stringify(payload))]);
    }
    this.writeAll(rows);
    return rows.length;
  }

  /** Stored rows of one server, newest first (tests). */
  history(serverId: number, limit = 100): PredictionRow[] {
    return this.store.db
      .prepare<[number, number], { ts: number; model: string; risk: number; failure_mode: string | null }>(
        'SELECT ts, model, risk, failure_mode FROM predictions WHERE server_id = ? ORDER BY ts DESC LIMIT ?',
      )
      .all(serverId, limit)
      .map((r) => ({ ts: r.ts, model: r.model, risk: r.risk, failureMode: r.failure_mode }));
  }

  /** Stored rows of one server with fromMs <= ts <= toMs, oldest first (predictions.history). */
  range(serverId: number, fromMs: number, toMs: number): PredictionRow[] {
    return this.store.db
      .prepare<[number, number, number], { ts: number; model: string; risk: number; failure_mode: string | null }>(
        'SELECT ts, model, risk, failure_mode FROM predictions WHERE server_id = ? AND ts >= ? AND ts <= ? ORDER BY ts, model',
      )
      .all(serverId, fromMs, toMs)
      .map((r) => ({ ts: r.ts, model: r.model, risk: r.risk, failureMode: r.failure_mode }));
  }
}
