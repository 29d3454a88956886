import { METRIC_BY_NAME, STEP_MS, isServerState, isValidServerName, type ServerState } from '@shared/contract';
import type { SampleRow } from '@shared/domain';
import type { RejectReason, RejectionField } from '../ingest';
import { SAMPLE_METRIC_COLUMNS } from '../schema';

/** A metric as the model keeps it: a number (NaN and -0 included) or 'missing'. */
type Cell = number | 'missing';
interface ModelRow {
  cells: Cell[];
  state: ServerState | null;
}

export interface ModelOutcome {
  accepted: number;
  duplicates: number;
  rejected: Record<RejectReason, number>;
  /** Every rejection, in row order. */
  rejections: { row: number; reason: RejectReason; field: RejectionField }[];
}

const same = (a: Cell, b: Cell): boolean => (a === 'missing' || b === 'missing' ? a === b : Object.is(a, b));

/**
 * The ingest semantics of RELIABILITY.md, written as plainly as possible and with no SQL: the
 * oracle the store is property-tested against. Row by row, in order: contract violation ->
 * invalid; beyond now + tolerance -> future; a stored sample at (server, ts) -> duplicate if
 * identical else conflict; older than the window before the server's newest -> out_of_order;
 * otherwise accepted.
 */
export class ReferenceStore {
  readonly series = new Map<string, Map<number, ModelRow>>();
  private readonly newest = new Map<string, number>();

  constructor(
    private readonly windowMs = 60 * 60 * 1000,
    private readonly futureMs = 10 * 60 * 1000,
  ) {}

  ingest(rows: readonly SampleRow[], now: number): ModelOutcome {
    const out: ModelOutcome = {
      accepted: 0,
      duplicates: 0,
      rejected: { conflict: 0, out_of_order: 0, future: 0, invalid: 0 },
      rejections: [],
    };
    const reject = (row: number, reason: RejectReason, field: RejectionField): void => {
      out.rejected[reason]++;
      out.rejections.push({ row, reason, field });
    };
    rows.forEach((r, i) => {
      const invalid = this.invalidField(r);
      if (invalid) return reject(i, 'invalid', invalid);
      if (r.timestamp > now + this.futureMs) return reject(i, 'future', 'timestamp');
      const row: ModelRow = {
        cells: SAMPLE_METRIC_COLUMNS.map((m) => r.metrics[m] ?? 'missing'),
        state: r.state ?? null,
      };
      const series = this.series.get(r.server) ?? new Map<number, ModelRow>();
      const existing = series.get(r.timestamp);
      if (existing) {
        const m = existing.cells.findIndex((c, k) => !same(c, row.cells[k]!));
        if (m >= 0) return reject(i, 'conflict', SAMPLE_METRIC_COLUMNS[m]!);
        if (existing.state !== row.state) return reject(i, 'conflict', 'state');
        out.duplicates++;
        return;
      }
      const newest = this.newest.get(r.server);
      if (newest !== undefined && r.timestamp < newest - this.windowMs) return reject(i, 'out_of_order', 'timestamp');
      series.set(r.timestamp, row);
      this.series.set(r.server, series);
      this.newest.set(r.server, Math.max(newest ?? -Infinity, r.timestamp));
      out.accepted++;
    });
    return out;
  }

  /** The model's content of one server as rows, in ts order (comparable with columnsToRows of a query). */
  rowsOf(server: string): SampleRow[] {
    const series = this.series.get(server);
    if (!series) return [];
    return [...series.entries()]
      .sort(([a], [b]) => a - b)
      .map(([timestamp, row]) => {
        const metrics: SampleRow['metrics'] = {};
        row.cells.forEach((c, k) => {
          if (c !== 'missing') metrics[SAMPLE_METRIC_COLUMNS[k]!] = c;
        });
        return { server, timestamp, state: row.state, metrics };
      });
  }

  private invalidField(r: SampleRow): RejectionField | null {
    if (!isValidServerName(r.server)) return 'server';
    if (!Number.isSafeInteger(r.timestamp) || r.timestamp < 0 || r.timestamp % STEP_MS !== 0) return 'timestamp';
    if (r.state !== null && r.state !== undefined && !isServerState(r.state)) return 'state';
    for (const m of SAMPLE_METRIC_COLUMNS) {
      const v = r.metrics[m];
      if (v === undefined || v === null || !Number.isFinite(v)) continue;
      if (v < METRIC_BY_NAME[m].min || v > METRIC_BY_NAME[m].max) return m;
    }
    return null;
  }
}
