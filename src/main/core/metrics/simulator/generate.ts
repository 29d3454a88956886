import { STEP_MS } from '@shared/contract';
import type { Incident, SampleColumns } from '@shared/domain';
import { allocateColumns } from '../columns';
import type { ServerMapping } from '../server-encoding';
import { FleetSimulator, type FleetSimOptions } from './fleet-sim';

export interface GenerateOptions extends FleetSimOptions {
  hours: number;
  /** Called now and then with (steps done, steps total). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface GeneratedFleet {
  columns: SampleColumns;
  /** Incidents whose onset falls inside the generated range, in onset order. */
  incidents: Incident[];
  mapping: ServerMapping;
  /** Each server's upstream (the server it depends on, whose failures can cascade to it). */
  dependencies: Map<string, string>;
  start: number;
  end: number;
}

/**
 * Batch generation: the live simulator stepped `hours * 12` times into one preallocated batch
 * (rows ordered by time, then server).
 */
export function generateFleet(options: GenerateOptions): GeneratedFleet {
  if (!(options.hours > 0)) throw new Error(`hours must be positive, got ${options.hours}`);
  const fleet = new FleetSimulator(options);
  const steps = Math.round((options.hours * 3_600_000) / STEP_MS);
  const width = fleet.size;
  const columns = allocateColumns(steps * width);
  const start = fleet.time;
  const every = Math.max(1, Math.floor(steps / 100));
  for (let s = 0; s < steps; s++) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    fleet.stepInto(columns, s * width);
    if (options.onProgress && (s % every === 0 || s === steps - 1)) options.onProgress(s + 1, steps);
  }
  const end = start + steps * STEP_MS;
  const incidents = fleet.incidents.filter((i) => i.onset < end).sort((a, b) => a.onset - b.onset || a.server.localeCompare(b.server));
  const dependencies = new Map<string, string>();
  for (const name of fleet.serverNames()) {
    const upstream = fleet.dependencyOf(name);
    if (upstream !== null) dependencies.set(name, upstream);
  }
  return { columns, incidents, mapping: fleet.mapping, dependencies, start, end };
}
