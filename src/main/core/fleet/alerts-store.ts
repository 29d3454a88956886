import type Database from 'better-sqlite3';
import { isMetricName, isProfile } from '@shared/contract';
import type { MetricsStore } from '../store';
import type { AlertRecord } from './alerts';

type Row = [number, number, string, string, number, number | null, number | null, Buffer];

interface Payload {
  server: string;
  profile: string;
  risk: number;
  peakRisk: number;
  failureMode: string;
  timeToThreshold: AlertRecord['timeToThreshold'];
  updatedAt: number;
  acknowledgedBy: string | null;
  calmCycles: number;
  coolCycles: number;
}

/**
 * The store's `alerts` table (migration 3): id, server, severity, state, start, end and
 * acknowledgement time as columns; the rest (risk, failure mode, time to threshold, who
 * acknowledged, the hysteresis counters) as a small JSON payload. Writes through `store.db`, as
 * PredictionLog does, until MetricsStore gains alert methods.
 */
export class AlertLog {
  private readonly upsert: Database.Statement<Row>;
  private readonly writeAll: (rows: readonly Row[]) => void;

  constructor(private readonly store: MetricsStore) {
    this.upsert = store.db.prepare(
      'INSERT OR REPLACE INTO alerts (id, server_id, severity, state, started_at, ended_at, acknowledged_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.writeAll = store.db.transaction((rows: readonly Row[]) => {
      for (const row of rows) this.upsert.run(...row);
    });
  }

  /** Writes these alerts (new or changed) in one transaction; servers the store does not know are left out. */
  write(alerts: readonly AlertRecord[], serverIds: ReadonlyMap<string, number>): number {
    const rows: Row[] = [];
    for (const a of alerts) {
      const serverId = serverIds.get(a.server);
      if (serverId === undefined) continue;
      const payload: Payload = {
        server: a.server,
        profile: a.profile,
        risk: a.risk,
        peakRisk: a.peakRisk,
        failureMode: a.failureMode,
        timeToThreshold: a.timeToThreshold,
        updatedAt: a.updatedAt,
        acknowledgedBy: a.acknowledgedBy,
        calmCycles: a.calmCycles,
        coolCycles: a.coolCycles,
      };
      rows.push([
        a.id,
        serverId,
        a.severity,
        a.state,
        a.startedAt,
        a.endedAt,
        a.acknowledgedAt,
        Buffer.from(JSON.stringify(payload)),
      ]);
    }
    this.writeAll(rows);
    return rows.length;
  }

  /** The open alerts (to restore the book at start) and the id the next alert gets. */
  load(): { open: AlertRecord[]; nextId: number } {
    const db = this.store.db;
    const max = db.prepare<[], { id: number | null }>('SELECT MAX(id) AS id FROM alerts').get()?.id ?? 0;
    const rows = db
      .prepare<
        [],
        {
          id: number;
          severity: string;
          state: string;
          started_at: number;
          ended_at: number | null;
          acknowledged_at: number | null;
          payload: Buffer | null;
        }
      >("SELECT id, severity, state, started_at, ended_at, acknowledged_at, payload FROM alerts WHERE state = 'open'")
      .all();
    const open: AlertRecord[] = [];
    for (const r of rows) {
      const p = parsePayload(r.payload);
      if (!p || (r.severity !== 'warning' && r.severity !== 'critical')) continue;
      open.push({
        id: r.id,
        server: p.server,
        profile: isProfile(p.profile) ? p.profile : 'generic',
        severity: r.severity,
        state: 'open',
        risk: p.risk,
        peakRisk: p.peakRisk,
        failureMode: p.failureMode,
        timeToThreshold: p.timeToThreshold && isMetricName(p.timeToThreshold.metric) ? p.timeToThreshold : null,
        startedAt: r.started_at,
        endedAt: r.ended_at,
        updatedAt: p.updatedAt,
        acknowledgedBy: p.acknowledgedBy,
        acknowledgedAt: r.acknowledged_at,
        calmCycles: p.calmCycles,
        coolCycles: p.coolCycles,
      });
    }
    return { open, nextId: max + 1 };
  }
}

function parsePayload(payload: Buffer | null): Payload | null {
  if (!payload) return null;
  try {
    const p = JSON.parse(payload.toString('utf8')) as Partial<Payload>;
    if (typeof p.server !== 'string' || typeof p.risk !== 'number' || typeof p.failureMode !== 'string') return null;
    return {
      server: p.server,
      profile: typeof p.profile === 'string' ? p.profile : 'generic',
      risk: p.risk,
      peakRisk: typeof p.peakRisk === 'number' ? p.peakRisk : p.risk,
      failureMode: p.failureMode,
      timeToThreshold: p.timeToThreshold ?? null,
      updatedAt: typeof p.updatedAt === 'number' ? p.updatedAt : 0,
      acknowledgedBy: typeof p.acknowledgedBy === 'string' ? p.acknowledgedBy : null,
      calmCycles: typeof p.calmCycles === 'number' ? p.calmCycles : 0,
      coolCycles: typeof p.coolCycles === 'number' ? p.coolCycles : 0,
    };
  } catch {
    return null;
  }
}
