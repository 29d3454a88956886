import type Database from 'better-sqlite3';
import { isMetricName, isValidServerName } from '@shared/contract';
import { INCIDENT_TYPES, type Incident, type IncidentType } from '@shared/domain';

interface IncidentRow {
  id: string;
  server: string;
  type: string;
  onset: number;
  end_ts: number;
  precursor: number;
  precursor_start: number | null;
  metric: string;
  cause: string | null;
}

export interface IncidentQuery {
  /** Incidents overlapping [fromMs, toMs): onset < toMs and end >= fromMs. */
  fromMs?: number;
  toMs?: number;
  server?: string;
}

function isIncidentType(value: unknown): value is IncidentType {
  return typeof value === 'string' && (INCIDENT_TYPES as readonly string[]).includes(value);
}

function incidentProblem(incident: Incident): string | null {
  if (typeof incident.id !== 'string' || incident.id.length === 0) return 'id: must be a non-empty string';
  if (!isValidServerName(incident.server))
    return `server: ${JSON.stringify(incident.server)} is not a valid server name`;
  if (!isIncidentType(incident.type)) return `type: ${JSON.stringify(incident.type)} is not an incident type`;
  if (!Number.isSafeInteger(incident.onset)) return `onset: ${incident.onset} is not an epoch-ms time`;
  if (!Number.isSafeInteger(incident.end) || incident.end < incident.onset)
    return `end: ${incident.end} is not an epoch-ms time at or after onset`;
  if (typeof incident.precursor !== 'boolean') return 'precursor: must be a boolean';
  if (
    incident.precursorStart !== null &&
    (!Number.isSafeInteger(incident.precursorStart) || incident.precursorStart > incident.onset)
  ) {
    return `precursorStart: ${incident.precursorStart} is not an epoch-ms time at or before onset`;
  }
  if (!isMetricName(incident.metric)) return `metric: ${JSON.stringify(incident.metric)} is not a contract metric`;
  if (incident.cause !== null && !isValidServerName(incident.cause))
    return `cause: ${JSON.stringify(incident.cause)} is not a valid server name`;
  return null;
}

export class IncidentTable {
  private readonly upsert: Database.Statement<IncidentRow>;
  private readonly selectAll: Database.Statement<[number, number], IncidentRow>;
  private readonly selectByServer: Database.Statement<[string, number, number], IncidentRow>;
  private readonly upsertAll: Database.Transaction<(incidents: readonly Incident[]) => number>;

  constructor(
    db: Database.Database,
    private readonly file: string,
  ) {
    this.upsert = db.prepare(`
      INSERT INTO incidents (id, server, type, onset, end_ts, precursor, precursor_start, metric, cause)
      VALUES (@id, @server, @type, @onset, @end_ts, @precursor, @precursor_start, @metric, @cause)
      ON CONFLICT (id) DO UPDATE SET server = excluded.server, type = excluded.type, onset = excluded.onset,
        end_ts = excluded.end_ts, precursor = excluded.precursor, precursor_start = excluded.precursor_start,
        metric = excluded.metric, cause = excluded.cause`);
    const columns = 'id, server, type, onset, end_ts, precursor, precursor_start, metric, cause';
    this.selectAll = db.prepare(`SELECT ${columns} FROM incidents WHERE end_ts >= ? AND onset < ? ORDER BY onset, id`);
    this.selectByServer = db.prepare(
      `SELECT ${columns} FROM incidents WHERE server = ? AND end_ts >= ? AND onset < ? ORDER BY onset, id`,
    );
    this.upsertAll = db.transaction((incidents: readonly Incident[]) => {
      for (const incident of incidents) {
        this.upsert.run({
          id: incident.id,
          server: incident.server,
          type: incident.type,
          onset: incident.onset,
          end_ts: incident.end,
          precursor: incident.precursor ? 1 : 0,
          precursor_start: incident.precursorStart,
          metric: incident.metric,
          cause: incident.cause,
        });
      }
      return incidents.length;
    });
  }

  /** Inserts or replaces (by id) all of them in one transaction; one bad incident writes none. */
  insert(incidents: readonly Incident[]): number {
    incidents.forEach((incident, index) => {
      const problem = incidentProblem(incident);
      if (problem) throw new TypeError(`${this.file}: incident ${index} (${JSON.stringify(incident.id)}): ${problem}`);
    });
    return this.upsertAll.immediate(incidents);
  }

  list(query: IncidentQuery = {}): Incident[] {
    const from = query.fromMs ?? Number.MIN_SAFE_INTEGER;
    const to = query.toMs ?? Number.MAX_SAFE_INTEGER;
    const rows =
      query.server === undefined ? this.selectAll.all(from, to) : this.selectByServer.all(query.server, from, to);
    return rows.map((r) => ({
      id: r.id,
      server: r.server,
      type: r.type as IncidentType,
      onset: r.onset,
      end: r.end_ts,
      precursor: r.precursor === 1,
      precursorStart: r.precursor_start,
      metric: r.metric as Incident['metric'],
      cause: r.cause,
    }));
  }
}
