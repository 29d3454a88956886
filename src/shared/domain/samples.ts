import type { MetricName, ServerState } from '../contract/metrics';

/**
 * One metric over many rows, Arrow-style: `present[i] === 0` means the value is missing (the
 * server did not report it), which is not the same as a reported NaN. `values[i]` is
 * meaningless where `present[i] === 0` (kept at 0 so buffers compare equal).
 */
export interface MetricColumn {
  values: Float64Array;
  present: Uint8Array;
}

/**
 * A batch of samples in columns: the shape that crosses every boundary in bulk (files, store,
 * workers, model windows). Row i is (server[i], timestamp[i], metrics[*][i], state[i]).
 */
export interface SampleColumns {
  length: number;
  server: string[];
  /** Epoch milliseconds, UTC, on the 5-minute grid. */
  timestamp: Float64Array;
  /** The simulator's label; null where the source reports none. */
  state: (ServerState | null)[];
  metrics: Record<MetricName, MetricColumn>;
}

/** One sample as a row (CSV, JSON API). A metric absent from `metrics` (or null) is missing. */
export interface SampleRow {
  server: string;
  timestamp: number;
  state?: ServerState | null;
  metrics: Partial<Record<MetricName, number | null>>;
}

export const INCIDENT_TYPES = [
  'memory_leak',
  'disk_fill',
  'cpu_runaway',
  'network_saturation',
  'cascading_failure',
  'hardware_fault',
] as const;
export type IncidentType = (typeof INCIDENT_TYPES)[number];

/** A labelled incident: what the model learns to foresee and the evaluation scores against. */
export interface Incident {
  id: string;
  server: string;
  type: IncidentType;
  /** When the server became critical (epoch ms): what "warned before onset" is measured against. */
  onset: number;
  /** When it recovered (epoch ms). */
  end: number;
  /** Whether a precursor was visible before onset; about 30% of incidents have none. */
  precursor: boolean;
  /** When the precursor began (epoch ms), or null for sudden incidents. */
  precursorStart: number | null;
  /** The metric that crosses its critical threshold at onset. */
  metric: MetricName;
  /** For cascading failures: the server whose failure caused this one. */
  cause: string | null;
}
