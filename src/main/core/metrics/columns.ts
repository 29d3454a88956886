import { METRIC_NAMES, type MetricName } from '@shared/contract';
import type { MetricColumn, SampleColumns, SampleRow } from '@shared/domain';

/** An empty batch with room for `length` rows: every metric missing, every state null. */
export function allocateColumns(length: number): SampleColumns {
  const metrics = {} as Record<MetricName, MetricColumn>;
  for (const name of METRIC_NAMES) metrics[name] = { values: new Float64Array(length), present: new Uint8Array(length) };
  return {
    length,
    server: new Array<string>(length).fill(''),
    timestamp: new Float64Array(length),
    state: new Array<SampleColumns['state'][number]>(length).fill(null),
    metrics,
  };
}

export function rowsToColumns(rows: readonly SampleRow[]): SampleColumns {
  const out = allocateColumns(rows.length);
  rows.forEach((row, i) => {
    out.server[i] = row.server;
    out.timestamp[i] = row.timestamp;
    out.state[i] = row.state ?? null;
    for (const name of METRIC_NAMES) {
      const value = row.metrics[name];
      if (value === undefined || value === null) continue;
      out.metrics[name].values[i] = value;
      out.metrics[name].present[i] = 1;
    }
  });
  return out;
}

export function columnsToRows(columns: SampleColumns): SampleRow[] {
  const rows: SampleRow[] = [];
  for (let i = 0; i < columns.length; i++) {
    const metrics: SampleRow['metrics'] = {};
    for (const name of METRIC_NAMES) {
      const column = columns.metrics[name];
      if (column.present[i]) metrics[name] = column.values[i]!;
    }
    rows.push({ server: columns.server[i]!, timestamp: columns.timestamp[i]!, state: columns.state[i] ?? null, metrics });
  }
  return rows;
}

/** Rows [start, end) as a new batch (copies, so the result outlives the source buffers). */
export function sliceColumns(columns: SampleColumns, start: number, end: number): SampleColumns {
  const metrics = {} as Record<MetricName, MetricColumn>;
  for (const name of METRIC_NAMES) {
    metrics[name] = {
      values: columns.metrics[name].values.slice(start, end),
      present: columns.metrics[name].present.slice(start, end),
    };
  }
  return {
    length: Math.max(0, Math.min(end, columns.length) - start),
    server: columns.server.slice(start, end),
    timestamp: columns.timestamp.slice(start, end),
    state: columns.state.slice(start, end),
    metrics,
  };
}

/** Several batches as one, in order. */
export function concatColumns(batches: readonly SampleColumns[]): SampleColumns {
  const total = batches.reduce((n, b) => n + b.length, 0);
  const out = allocateColumns(total);
  let offset = 0;
  for (const batch of batches) {
    out.timestamp.set(batch.timestamp.subarray(0, batch.length), offset);
    for (let i = 0; i < batch.length; i++) {
      out.server[offset + i] = batch.server[i]!;
      out.state[offset + i] = batch.state[i] ?? null;
    }
    for (const name of METRIC_NAMES) {
      out.metrics[name].values.set(batch.metrics[name].values.subarray(0, batch.length), offset);
      out.metrics[name].present.set(batch.metrics[name].present.subarray(0, batch.length), offset);
    }
    offset += batch.length;
  }
  return out;
}

/** The rows at `rows` (indices into `columns`, in the order given) as a new batch. */
export function selectRows(columns: SampleColumns, rows: readonly number[]): SampleColumns {
  const out = allocateColumns(rows.length);
  rows.forEach((from, i) => {
    out.server[i] = columns.server[from]!;
    out.timestamp[i] = columns.timestamp[from]!;
    out.state[i] = columns.state[from] ?? null;
  });
  for (const name of METRIC_NAMES) {
    const source = columns.metrics[name];
    const target = out.metrics[name];
    rows.forEach((from, i) => {
      target.values[i] = source.values[from]!;
      target.present[i] = source.present[from]!;
    });
  }
  return out;
}

/**
 * Rows [start, end) sharing the source's typed arrays (subarray views: no copy of the metric
 * columns); the server and state arrays are copied. Valid as long as the source is not reused.
 */
export function viewColumns(columns: SampleColumns, start: number, end: number): SampleColumns {
  const metrics = {} as Record<MetricName, MetricColumn>;
  for (const name of METRIC_NAMES) {
    metrics[name] = {
      values: columns.metrics[name].values.subarray(start, end),
      present: columns.metrics[name].present.subarray(start, end),
    };
  }
  return {
    length: end - start,
    server: columns.server.slice(start, end),
    timestamp: columns.timestamp.subarray(start, end),
    state: columns.state.slice(start, end),
    metrics,
  };
}
