import { METRIC_NAMES, type MetricName, type ServerState } from '@shared/contract';
import type { MetricColumn, SampleColumns } from '@shared/domain';

/**
 * Columns that grow as a streamed file is parsed: memory follows the rows kept, not the file
 * size. Each row also remembers where it came from (a CSV line), so checks that can only run
 * once the whole file is in (duplicates) can still name the line.
 */
export class ColumnBuilder {
  length = 0;
  private capacity: number;
  private server: string[] = [];
  private state: (ServerState | null)[] = [];
  private timestamp: Float64Array;
  private origin: Float64Array;
  private values: Float64Array[];
  private present: Uint8Array[];
  /** One string per distinct server name, however many rows name it. */
  private readonly names = new Map<string, string>();

  constructor(initialCapacity = 4096) {
    this.capacity = Math.max(16, initialCapacity);
    this.timestamp = new Float64Array(this.capacity);
    this.origin = new Float64Array(this.capacity);
    this.values = METRIC_NAMES.map(() => new Float64Array(this.capacity));
    this.present = METRIC_NAMES.map(() => new Uint8Array(this.capacity));
  }

  /** Appends a row with every metric missing; set metrics with `setMetric(row, ...)`. */
  push(server: string, timestamp: number, state: ServerState | null, origin: number): number {
    if (this.length === this.capacity) this.grow();
    const row = this.length++;
    let name = this.names.get(server);
    if (name === undefined) {
      name = server;
      this.names.set(server, server);
    }
    this.server.push(name);
    this.state.push(state);
    this.timestamp[row] = timestamp;
    this.origin[row] = origin;
    return row;
  }

  setMetric(row: number, metricIndex: number, value: number): void {
    this.values[metricIndex]![row] = value;
    this.present[metricIndex]![row] = 1;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const grown = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.timestamp = grown(this.timestamp, (n) => new Float64Array(n));
    this.origin = grown(this.origin, (n) => new Float64Array(n));
    this.values = this.values.map((a) => grown(a, (n) => new Float64Array(n)));
    this.present = this.present.map((a) => grown(a, (n) => new Uint8Array(n)));
    this.capacity = capacity;
  }

  /** The rows as exact-length columns, and the origin (line) of each row. */
  finish(): { columns: SampleColumns; origin: Float64Array } {
    const n = this.length;
    const metrics = {} as Record<MetricName, MetricColumn>;
    METRIC_NAMES.forEach((name, k) => {
      metrics[name] = { values: this.values[k]!.slice(0, n), present: this.present[k]!.slice(0, n) };
    });
    return {
      columns: { length: n, server: this.server, timestamp: this.timestamp.slice(0, n), state: this.state, metrics },
      origin: this.origin.slice(0, n),
    };
  }
}
