import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFleet } from '../metrics/simulator/fleet-sim';
import { generateFleet } from '../metrics/simulator/generate';
import { loadTrainingData } from '../model/train/training-data';
import { openStore, type MetricsStore } from '../store/metrics-store';
import { prepareData, writeDataset } from './training-data-source';

const START = Date.UTC(2026, 0, 5);
const HOURS = 48;
let root: string;
let store: MetricsStore;
const fleet = generateFleet({ seed: 'tds', start: START, servers: defaultFleet(8), hours: HOURS });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tftmp-tds-'));
  store = openStore(join(root, 'metrics.db'));
  store.ingest(fleet.columns, { now: START + HOURS * 3_600_000 });
  store.insertIncidents(fleet.incidents);
});
afterAll(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

describe('training data from the app carries the topology', () => {
  it('a simulated fleet brings its dependencies, and the dataset folder keeps them for training', async () => {
    const prepared = prepareData({ kind: 'simulated', servers: 8, days: 2, seed: 's' }, null);
    expect(prepared.dependencies.size).toBeGreaterThan(0);
    for (const [server, upstream] of prepared.dependencies) expect(prepared.profiles.has(server) && prepared.profiles.has(upstream)).toBe(true);
    const data = await loadTrainingData(await writeDataset(join(root, 'simulated'), prepared));
    expect([...data.dependencies]).toEqual([...prepared.dependencies]);
  });

  it("the store's data takes the live topology, limited to the servers in the range; without one, none is written", async () => {
    const range = { kind: 'store' as const, from: new Date(START).toISOString(), to: new Date(START + HOURS * 3_600_000).toISOString() };
    const topology = new Map([...fleet.dependencies, ['ppweb999', 'ppdb001']]);
    const prepared = prepareData(range, store, () => topology);
    expect([...prepared.dependencies]).toEqual([...fleet.dependencies]);
    const data = await loadTrainingData(await writeDataset(join(root, 'store'), prepared));
    expect(data.dependencies.size).toBe(fleet.dependencies.size);

    const none = await loadTrainingData(await writeDataset(join(root, 'store-none'), prepareData(range, store)));
    expect(none.dependencies.size).toBe(0);
  });
});
