import type Database from 'better-sqlite3';
import type { ServerPrediction } from '@shared/domain';
import type { MetricsStore } from '../store';

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

  /** Writes one cycle in one transaction; servers the store does not know (none, in practice) are left out. */
  write(
    time: number,
    model: string,
    predictions: readonly ServerPrediction[],
    serverIds: ReadonlyMap<string, number>,
  ): number {
    const rows: [number, number, string, number, string, Buffer][] = [];
    for (const p of predictions) {
      const id = serverIds.get(p.server);
      if (id === undefined) continue;
      const payload = { failureModes: p.failureModes, coverage: p.coverage, knownServer: p.knownServer };
      rows.push([id, time, model, p.risk, p.failureMode, Buffer.from(JSON.stringify(payload))]);
    }
    this.writeAll(rows);
    return rows.length;
  }

  /** Stored rows of one server, newest first (tests, and later the trends view). */
  history(serverId: number, limit = 100): { ts: number; model: string; risk: number; failureMode: string | null }[] {
    return this.store.db
      .prepare<[number, number], { ts: number; model: string; risk: number; failure_mode: string | null }>(
        'SELECT ts, model, risk, failure_mode FROM predictions WHERE server_id = ? ORDER BY ts DESC LIMIT ?',
      )
      .all(serverId, limit)
      .map((r) => ({ ts: r.ts, model: r.model, risk: r.risk, failureMode: r.failure_mode }));
  }
}
