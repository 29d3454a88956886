import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_CONTRACT_VERSION } from '@shared/contract';
import { writeSamplesFile } from '../../../metrics/io';
import { defaultFleet } from '../../../metrics/simulator/fleet-sim';
import { generateFleet } from '../../../metrics/simulator/generate';

/** 2026-01-05, a Monday (UTC). */
const START = Date.UTC(2026, 0, 5);

/**
 * A small dataset folder as `generate` writes it (server_metrics.parquet + metrics_metadata.json
 * with the incident list), from the seeded simulator: what the training tests train on.
 */
export async function writeDatasetFolder(dir: string, options: { servers?: number; hours?: number; seed?: string } = {}): Promise<string> {
  const servers = options.servers ?? 3;
  const hours = options.hours ?? 60;
  const seed = options.seed ?? 'train-tests';
  const fleet = generateFleet({ seed, start: START, servers: defaultFleet(servers), hours });
  mkdirSync(dir, { recursive: true });
  await writeSamplesFile(join(dir, 'server_metrics.parquet'), fleet.columns, 'parquet', {
    profileOf: (server) => fleet.mapping.get(server)?.profile,
  });
  const iso = (ms: number): string => new Date(ms).toISOString();
  const metadata = {
    contractVersion: DATA_CONTRACT_VERSION,
    generator: { seed, hours, servers, format: 'parquet' },
    dependencies: Object.fromEntries(fleet.dependencies),
    incidents: {
      total: fleet.incidents.length,
      list: fleet.incidents.map((i) => ({ ...i, onset: iso(i.onset), end: iso(i.end), precursorStart: i.precursorStart === null ? null : iso(i.precursorStart) })),
    },
  };
  writeFileSync(join(dir, 'metrics_metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
  return dir;
}
