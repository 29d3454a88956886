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
    const rows = db.prepare<[], AlertRow>(`SELECT ${ROW_COLUMNS} FROM alerts WHERE state = 'open'`).all();
    const open: AlertRecord[] = [];
    for (const r of rows) {
      const record = toRecord(r);
      if (record) open.push({ ...record, state: 'open' });
    }
    return { open, nextId: max + 1 };
  }

  /**
   * Stored alerts matching the filters, newest first (started_at, then id), at most `limit`, and
   * how many matched in all. `server` and `profile` filter on the store's server record.
   */
  list(query: AlertListFilter): { alerts: AlertRecord[]; total: number } {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.state) {
      where.push('a.state = ?');
      params.push(query.state);
    }
    if (query.severity) {
      where.push('a.severity = ?');
      params.push(query.severity);
    }
    if (query.server !== undefined) {
      where.push('s.name = ?');
      params.push(query.server);
    }
    if (query.profile) {
      where.push('s.profile = ?');
      params.push(query.profile);
    }
    if (query.since !== undefined) {
      where.push('a.started_at >= ?');
      params.push(query.since);
    }
    const from = `FROM alerts a JOIN servers s ON s.id = a.server_id${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
    const db = this.store.db;
    const total = db.prepare<(string | number)[], { n: number }>(`SELECT COUNT(*) AS n ${from}`).get(...params)?.n ?? 0;
    const rows = db
      .prepare<(string | number)[], AlertRow>(
        `SELECT ${ROW_COLUMNS.split(', ')
          .map((c) => `a.${c}`)
          .join(', ')} ${from} ORDER BY a.started_at DESC, a.id DESC LIMIT ?`,
      )
      .all(...params, Math.max(0, Math.floor(query.limit)));
    const alerts: AlertRecord[] = [];
    for (const r of rows) {
      const record = toRecord(r);
      if (record) alerts.push(record);
    }
    return { alerts, total };
  }
}

/** Filters of `AlertLog.list`; `since` is a fleet time (ms) the alert started at or after. */
export interface AlertListFilter {
  state?: 'open' | 'resolved';
  severity?: 'warning' | 'critical';
  server?: string;
  profile?: string;
  since?: number;
  limit: number;
}

interface AlertRow {
  id: number;
  severity: string;
  state: string;
  started_at: number;
  ended_at: number | null;
  acknowledged_at: number | null;
  payload: Buffer | null;
}

const ROW_COLUMNS = 'id, severity, state, started_at, ended_at, acknowledged_at, payload';

/** A stored row as the book's record; null for a row whose payload cannot be read. */
function toRecord(r: AlertRow): AlertRecord | null {
  const p = parsePayload(r.payload);
  if (!p || (r.severity !== 'warning' && r.severity !== 'critical')) return null;
  return {
    id: r.id,
    server: p.server,
    profile: isProfile(p.profile) ? p.profile : 'generic',
    severity: r.severity,
    state: r.state === 'open' ? 'open' : 'resolved',
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
  };
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
