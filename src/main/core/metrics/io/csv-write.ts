import { METRIC_NAMES, type MetricName, type Profile } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';

export interface CsvWriteOptions {
  /** Metric columns to write, in this order (default: every contract metric). */
  metrics?: readonly MetricName[];
  /** Adds a `profile` column from this lookup. */
  profileOf?: (server: string) => Profile | undefined;
  /** Write the `state` column (default true). */
  state?: boolean;
  lineEnding?: '\n' | '\r\n';
}

/**
 * The spelling the CSV reader accepts back unchanged: shortest round-trip decimals (so every
 * double survives), `-0` kept (String(-0) is "0"), `NaN`, `Inf`, `-Inf`, and an empty field
 * for missing. A NaN's payload does not survive text; every other value does, bit for bit.
 */
export function formatMetricValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Object.is(value, -0)) return '-0';
  return String(value);
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** RFC 4180 quoting, only where a field needs it. */
export function quoteCsvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A multi-metric CSV (timestamps in ISO 8601 UTC) that `parseCsvSamples` reads back to the same columns. */
export function formatCsv(columns: SampleColumns, options: CsvWriteOptions = {}): string {
  const metrics = options.metrics ?? METRIC_NAMES;
  const withState = options.state ?? true;
  const eol = options.lineEnding ?? '\n';
  const { profileOf } = options;
  const header = ['timestamp', 'server', ...(profileOf ? ['profile'] : []), ...(withState ? ['state'] : []), ...metrics];
  const lines: string[] = [header.join(',')];
  const metricColumns = metrics.map((m) => columns.metrics[m]);
  const profiles = new Map<string, string>();
  for (let i = 0; i < columns.length; i++) {
    const server = columns.server[i]!;
    const fields = [new Date(columns.timestamp[i]!).toISOString(), quoteCsvField(server)];
    if (profileOf) {
      let p = profiles.get(server);
      if (p === undefined) profiles.set(server, (p = profileOf(server) ?? ''));
      fields.push(p);
    }
    if (withState) fields.push(columns.state[i] ?? '');
    for (const column of metricColumns) fields.push(column.present[i] ? formatMetricValue(column.values[i]!) : '');
    lines.push(fields.join(','));
  }
  return lines.join(eol) + eol;
}
