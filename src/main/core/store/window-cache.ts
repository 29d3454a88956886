import type Database from 'better-sqlite3';
import { STEP_MS as GRID_STEP_MS } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { allocateColumns, sliceColumns } from '../metrics/columns';
import { META_RETENTION_EPOCH, SAMPLE_METRIC_COLUMNS, STATE_CODES as STORED_STATE_CODES } from './schema';

const M = SAMPLE_METRIC_COLUMNS.length;
// Module constants for what the per-row loops read: under vitest's module runner (the tests and
// the benches) every read of an imported binding is a getter call, through each re-exporting module.
const STEP_MS = GRID_STEP_MS;
const STATE_CODES = STORED_STATE_CODES;

/** One server's rows for the grid points of the last window read, in a ring indexed by grid step. */
interface ServerWindow {
  /** Grid timestamp each slot holds, or -1 for none. */
  ts: Float64Array;
  /** (M, steps) decoded values, metric-major so a column copies in one go: NaN and -0 as ingested. */
  values: Float64Array;
  present: Uint8Array;
  /** State code, -1 for null. */
  state: Int8Array;
  /** Every stored row with from <= ts <= to is in the slots. */
  from: number;
  to: number;
  /** Rows older than this can no longer change (they would be out of order): no need to re-read them. */
  frozenBefore: number;
}

interface ServerListRow {
  id: number;
  name: string;
  last_seen: number;
}

/**
 * latestWindow for the whole fleet, incremental. A cold read decodes every row, handed over by
 * a SQL function (windowRow below: about 0.7 µs a row here, ~0.2-0.3 s for 1,000 x 288 on this
 * 2-core box, half what row arrays from better-sqlite3 cost); the live loop asks again every step, and then only each server's last hour (the out-of-order
 * window: older rows cannot be added or changed any more) and the new steps are re-read.
 * Retention bumps a counter in `meta` that drops the cache, so deleted rows never reappear.
 * Correct across connections provided they share the out-of-order window (the store worker gets
 * the same options as its parent).
 */
export class FleetWindowCache {
  private readonly servers: Database.Statement<[], ServerListRow>;
  private readonly epoch: Database.Statement<[string], { value: string }>;
  private readonly range: Database.Statement<[number, number, number], number>;
  private readonly snapshot: Database.Transaction<
    (steps: number, endMs: number | undefined) => { start: number; list: ServerListRow[] } | null
  >;
  private readonly windows = new Map<number, ServerWindow>();
  private buffers = new WindowBuffers(0);
  private steps = 0;
  private retentionEpoch: string | undefined;

  constructor(
    db: Database.Database,
    private readonly outOfOrderWindowMs: number,
  ) {
    this.servers = db.prepare('SELECT id, name, last_seen FROM servers ORDER BY name');
    this.epoch = db.prepare('SELECT value FROM meta WHERE key = ?');
    // Rows reach JS as the arguments of a function that writes them into the window (see
    // WINDOW_ROW_FUNCTION), not as row arrays: the statement itself returns one count.
    registerWindowRowFunction(db);
    this.range = db
      .prepare<[number, number, number], number>(
        `SELECT count(${WINDOW_ROW_FUNCTION}(ts / ${STEP_MS}, ${SAMPLE_METRIC_COLUMNS.join(', ')}, nan_mask, neg_zero_mask, state))
         FROM samples WHERE server_id = ? AND ts >= ? AND ts <= ? AND ts % ${STEP_MS} = 0`,
      )
      .pluck(true);
    const newest = db.prepare<[], { newest: number | null }>('SELECT max(last_seen) AS newest FROM servers');
    // One read transaction: the servers' newest timestamps and their rows come from one snapshot.
    this.snapshot = db.transaction((steps: number, endMs: number | undefined) => {
      const epoch = this.epoch.get(META_RETENTION_EPOCH)?.value;
      if (epoch !== this.retentionEpoch || steps !== this.steps) {
        this.windows.clear();
        this.buffers = new WindowBuffers(steps);
        this.retentionEpoch = epoch;
        this.steps = steps;
      }
      const newestTs = endMs ?? newest.get()?.newest ?? null;
      if (newestTs === null) return null;
      const end = Math.floor(newestTs / STEP_MS) * STEP_MS;
      const start = end - (steps - 1) * STEP_MS;
      const list = this.servers.all();
      for (let k = 0; k < list.length; k++) {
        const server = list[k]!;
        if (server.last_seen < start) {
          const gone = this.windows.get(server.id);
          if (gone) {
            this.windows.delete(server.id);
            this.buffers.give(gone);
          }
          continue;
        }
        this.refresh(server, start, end, list.length - k);
      }
      return { start, list };
    });
  }

  read(steps: number, endMs: number | undefined, dense: boolean): SampleColumns {
    const snap = this.snapshot.deferred(steps, endMs);
    if (snap === null) return allocateColumns(0);
    const { start, list } = snap;
    const out = allocateColumns(list.length * steps);
    const outValues = SAMPLE_METRIC_COLUMNS.map((m) => out.metrics[m].values);
    const outPresent = SAMPLE_METRIC_COLUMNS.map((m) => out.metrics[m].present);
    const firstSlot = slotOf(start, steps);
    let n = 0;
    for (const server of list) {
      const w = this.windows.get(server.id);
      if (!w) continue;
      let count = 0;
      for (let k = 0, slot = firstSlot; k < steps; k++, slot = slot + 1 === steps ? 0 : slot + 1) {
        if (w.ts[slot] === start + k * STEP_MS) count++;
      }
      if (count === 0) continue;
      if (count === steps || dense) {
        // The usual case, a server with every step (or a dense window): whole columns at once,
        // the ring's two halves copied in window order; then the rows it lacks are blanked.
        for (let m = 0; m < M; m++) {
          copyRing(w.values, m * steps, firstSlot, steps, outValues[m]!, n);
          copyRingBytes(w.present, m * steps, firstSlot, steps, outPresent[m]!, n);
        }
        for (let k = 0, slot = firstSlot; k < steps; k++, slot = slot + 1 === steps ? 0 : slot + 1) {
          const row = n + k;
          const gridTs = start + k * STEP_MS;
          out.server[row] = server.name;
          out.timestamp[row] = gridTs;
          if (w.ts[slot] === gridTs) {
            const code = w.state[slot]!;
            out.state[row] = code < 0 ? null : (STATE_CODES[code] ?? null);
          } else {
            for (let m = 0; m < M; m++) {
              outValues[m]![row] = 0;
              outPresent[m]![row] = 0;
            }
          }
        }
        n += steps;
        continue;
      }
      for (let k = 0, slot = firstSlot; k < steps; k++, slot = slot + 1 === steps ? 0 : slot + 1) {
        const gridTs = start + k * STEP_MS;
        if (w.ts[slot] !== gridTs) continue;
        out.server[n] = server.name;
        out.timestamp[n] = gridTs;
        for (let m = 0; m < M; m++) {
          outValues[m]![n] = w.values[m * steps + slot]!;
          outPresent[m]![n] = w.present[m * steps + slot]!;
        }
        const code = w.state[slot]!;
        out.state[n] = code < 0 ? null : (STATE_CODES[code] ?? null);
        n++;
      }
    }
    return n === out.length ? out : sliceColumns(out, 0, n);
  }

  /** `serversLeft`: this server and those after it in the list, a hint for how many windows a cold read needs. */
  private refresh(server: ServerListRow, start: number, end: number, serversLeft: number): void {
    const steps = this.steps;
    let w = this.windows.get(server.id);
    let readFrom = start;
    if (!w) {
      w = this.buffers.take(serversLeft);
      this.windows.set(server.id, w);
    } else if (start < w.from || start > w.to) {
      // Nothing it holds is in the new window: start it over.
      w.ts.fill(-1);
    } else {
      readFrom = Math.max(start, Math.min(w.frozenBefore, w.to + STEP_MS));
      readFrom = Math.ceil(readFrom / STEP_MS) * STEP_MS;
      for (let t = readFrom; t <= end; t += STEP_MS) w.ts[slotOf(t, steps)] = -1;
    }
    if (readFrom <= end) {
      windowRowTarget = w;
      windowRowSteps = steps;
      try {
        this.range.get(server.id, readFrom, end);
      } finally {
        windowRowTarget = null;
      }
    }
    w.from = start;
    w.to = end;
    w.frozenBefore = server.last_seen - this.outOfOrderWindowMs;
  }
}

/**
 * A cold window is ~300k rows: as row arrays (`.all()`), better-sqlite3 creates each of their
 * ~3.5M values through V8's API (~0.4 s here, most of a cold read). As the arguments of a SQL
 * function the values cost a fraction of that, so the range query calls this one per row, and it
 * decodes the row straight into the window being refreshed. Its first argument is the grid step
 * (ts / STEP_MS; the query skips rows off the grid, which ingest never stores) rather than ts: an
 * integer that fits 31 bits costs V8 no allocation, a larger one or a double one each.
 * Registered once per connection, direct-only (no view or trigger can call it); outside a
 * refresh it refuses to run.
 */
const WINDOW_ROW_FUNCTION = 'tft_window_row';
const registered = new WeakSet<Database.Database>();
let windowRowTarget: ServerWindow | null = null;
let windowRowSteps = 0;

function registerWindowRowFunction(db: Database.Database): void {
  if (registered.has(db)) return;
  db.function(WINDOW_ROW_FUNCTION, { deterministic: false, directOnly: true }, windowRow);
  registered.add(db);
}

if (M !== 10) throw new Error(`windowRow() takes 10 metric arguments, the store has ${M} metric columns`);

function windowRow(
  step: number,
  v0: number | null,
  v1: number | null,
  v2: number | null,
  v3: number | null,
  v4: number | null,
  v5: number | null,
  v6: number | null,
  v7: number | null,
  v8: number | null,
  v9: number | null,
  nanMask: number,
  negZeroMask: number,
  state: number | null,
): null {
  const w = windowRowTarget;
  if (w === null) throw new Error(`${WINDOW_ROW_FUNCTION}() only runs inside a window refresh`);
  const steps = windowRowSteps;
  const k = step % steps;
  const slot = k < 0 ? k + steps : k;
  w.ts[slot] = step * STEP_MS;
  w.state[slot] = state === null ? -1 : state;
  putValue(w, slot, steps, 0, v0, nanMask, negZeroMask);
  putValue(w, slot, steps, 1, v1, nanMask, negZeroMask);
  putValue(w, slot, steps, 2, v2, nanMask, negZeroMask);
  putValue(w, slot, steps, 3, v3, nanMask, negZeroMask);
  putValue(w, slot, steps, 4, v4, nanMask, negZeroMask);
  putValue(w, slot, steps, 5, v5, nanMask, negZeroMask);
  putValue(w, slot, steps, 6, v6, nanMask, negZeroMask);
  putValue(w, slot, steps, 7, v7, nanMask, negZeroMask);
  putValue(w, slot, steps, 8, v8, nanMask, negZeroMask);
  putValue(w, slot, steps, 9, v9, nanMask, negZeroMask);
  return null;
}

/** The decoding of decodeRow (row-codec.ts) for one metric: NULL + nan bit = NaN, 0 + neg_zero bit = -0. */
function putValue(
  w: ServerWindow,
  slot: number,
  steps: number,
  m: number,
  v: number | null,
  nanMask: number,
  negZeroMask: number,
): void {
  const k = m * steps + slot;
  const bit = 1 << m;
  if (v !== null) {
    w.values[k] = negZeroMask & bit ? -0 : v;
    w.present[k] = 1;
  } else if (nanMask & bit) {
    w.values[k] = NaN;
    w.present[k] = 1;
  } else {
    w.values[k] = 0;
    w.present[k] = 0;
  }
}

/**
 * Hands out ServerWindows of one length, carved from shared buffers: a cold fleet read needs one
 * per server, and allocating their 4,000 small typed arrays one by one costs 10-30 ms here.
 * Windows given back (servers that left the window) are handed out again.
 */
class WindowBuffers {
  private static readonly MAX_SLAB = 256;
  private readonly spare: ServerWindow[] = [];
  private ts = new Float64Array(0);
  private values = new Float64Array(0);
  private present = new Uint8Array(0);
  private state = new Int8Array(0);
  private next = 0;
  private capacity = 0;

  constructor(private readonly steps: number) {}

  /** An empty window (every slot -1). `wanted` windows are needed soon: a new slab holds that many, up to 256. */
  take(wanted: number): ServerWindow {
    const reused = this.spare.pop();
    if (reused) {
      reused.ts.fill(-1);
      reused.frozenBefore = -Infinity;
      return reused;
    }
    const steps = this.steps;
    if (this.next === this.capacity) {
      const n = Math.max(1, Math.min(WindowBuffers.MAX_SLAB, wanted));
      this.ts = new Float64Array(n * steps).fill(-1);
      this.values = new Float64Array(n * steps * M);
      this.present = new Uint8Array(n * steps * M);
      this.state = new Int8Array(n * steps).fill(-1);
      this.next = 0;
      this.capacity = n;
    }
    const k = this.next++;
    return {
      ts: this.ts.subarray(k * steps, (k + 1) * steps),
      values: this.values.subarray(k * steps * M, (k + 1) * steps * M),
      present: this.present.subarray(k * steps * M, (k + 1) * steps * M),
      state: this.state.subarray(k * steps, (k + 1) * steps),
      from: 0,
      to: 0,
      frozenBefore: -Infinity,
    };
  }

  give(w: ServerWindow): void {
    this.spare.push(w);
  }
}

function slotOf(ts: number, steps: number): number {
  const k = Math.floor(ts / STEP_MS) % steps;
  return k < 0 ? k + steps : k;
}

/**
 * ring[base + first .. base + steps) then ring[base .. base + first) into out at `at`: the window
 * in time order. Plain loops, one function per array type so each stays monomorphic:
 * `set(subarray(...))` creates two views per call, and a cold fleet window makes 40,000 calls.
 */
function copyRing(ring: Float64Array, base: number, first: number, steps: number, out: Float64Array, at: number): void {
  let o = at;
  for (let k = base + first, stop = base + steps; k < stop; k++) out[o++] = ring[k]!;
  for (let k = base, stop = base + first; k < stop; k++) out[o++] = ring[k]!;
}

function copyRingBytes(
  ring: Uint8Array,
  base: number,
  first: number,
  steps: number,
  out: Uint8Array,
  at: number,
): void {
  let o = at;
  for (let k = base + first, stop = base + steps; k < stop; k++) out[o++] = ring[k]!;
  for (let k = base, stop = base + first; k < stop; k++) out[o++] = ring[k]!;
}
