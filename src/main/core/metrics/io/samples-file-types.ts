import type { MetricName, Profile } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';

/** `arrow` is the Arrow IPC file format (`.arrow`, `.feather` v2); `arrow-stream` the IPC stream format. */
export const SAMPLES_FORMATS = ['parquet', 'arrow', 'arrow-stream', 'csv'] as const;
export type SamplesFormat = (typeof SAMPLES_FORMATS)[number];

export interface ReadProgress {
  bytesRead: number;
  totalBytes: number;
}

/** What a reader returns once the whole file has passed every check. */
export interface SamplesFile {
  format: SamplesFormat;
  /**
   * The samples, in file order, timestamps snapped to the 5-minute grid, identical duplicates
   * dropped. Metrics the file has no column for are missing in every row.
   */
  columns: SampleColumns;
  /** The contract metrics the file has a column for. */
  metrics: MetricName[];
  /** Server -> profile, where the file records one (a `profile` column). */
  profiles: Map<string, Profile>;
  /** Rows dropped as exact copies of an earlier row for the same server and grid point. */
  duplicatesDropped: number;
  /** Rows whose timestamp moved to the nearest 5-minute mark. */
  snapped: number;
  /** The data contract version the writer recorded (Parquet and Arrow metadata), or null. */
  contractVersion: string | null;
}
