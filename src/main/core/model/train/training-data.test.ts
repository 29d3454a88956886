import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SampleColumns } from '@shared/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSamplesFile } from '../../metrics/io';
import { DEFAULT_FEATURE_SPEC } from '../features';
import { writeDatasetFolder } from './testing/dataset-folder';
import { buildTrainingDataset, DatasetError, loadTrainingData } from './training-data';

let root: string;
let datasetDir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tftmp-train-data-'));
  datasetDir = await writeDatasetFolder(join(root, 'ds'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadTrainingData', () => {
  it('reads a dataset folder: samples, incidents as epoch ms, a description', async () => {
    const data = await loadTrainingData(datasetDir);
    expect(data.columns.length).toBe(3 * 60 * 12);
    expect(data.incidents.every((i) => typeof i.onset === 'number' && typeof i.end === 'number')).toBe(true);
    expect(data.description).toBe('simulated, 3 servers x 2.5 days, seed train-tests');
    // The topology: the web server depends on the database.
    expect(data.dependencies.get('ppweb001')).toMatch(/^ppdb/);
    const ds = buildTrainingDataset(data, DEFAULT_FEATURE_SPEC, 1);
    expect(ds.stats.train.windows).toBeGreaterThan(0);
  });

  it('names the file when metrics_metadata.json is missing or the parquet is corrupt', async () => {
    const noMeta = join(root, 'no-meta');
    const corrupt = join(root, 'corrupt');
    mkdirSync(noMeta);
    mkdirSync(corrupt);
    copyFileSync(join(datasetDir, 'server_metrics.parquet'), join(noMeta, 'server_metrics.parquet'));
    copyFileSync(join(datasetDir, 'metrics_metadata.json'), join(corrupt, 'metrics_metadata.json'));
    writeFileSync(join(corrupt, 'server_metrics.parquet'), 'PAR1 this is not parquet at all');

    await expect(loadTrainingData(noMeta)).rejects.toThrow(/metrics_metadata\.json: missing/);
    await expect(loadTrainingData(noMeta)).rejects.toBeInstanceOf(DatasetError);
    await expect(loadTrainingData(corrupt)).rejects.toThrow(/server_metrics\.parquet/);
    await expect(loadTrainingData(corrupt)).rejects.toBeInstanceOf(DatasetError);
    await expect(loadTrainingData(join(root, 'absent'))).rejects.toThrow(/dataset folder .*absent does not exist/);
  });

  it('refuses a dataset too short for one window, a metric missing everywhere, and bad incidents', async () => {
    const data = await loadTrainingData(datasetDir);
    const cut = join(root, 'short');
    mkdirSync(cut);
    copyFileSync(join(datasetDir, 'metrics_metadata.json'), join(cut, 'metrics_metadata.json'));
    const keep: number[] = [];
    const t0 = Math.min(...data.columns.timestamp);
    for (let i = 0; i < data.columns.length; i++) if (data.columns.timestamp[i]! < t0 + 10 * 3_600_000) keep.push(i);
    await writeSamplesFile(join(cut, 'server_metrics.parquet'), sliceColumns(data.columns, keep), 'parquet');
    await expect(loadTrainingData(cut)).rejects.toThrow(/server_metrics\.parquet: too short for one window/);

    const noDisk = { ...data.columns, metrics: { ...data.columns.metrics, disk_percent: { values: data.columns.metrics.disk_percent.values, present: new Uint8Array(data.columns.length) } } };
    rmSync(join(cut, 'server_metrics.parquet'));
    await writeSamplesFile(join(cut, 'server_metrics.parquet'), noDisk, 'parquet');
    await expect(loadTrainingData(cut)).rejects.toThrow(/server_metrics\.parquet: metric disk_percent missing in every row/);

    writeFileSync(join(cut, 'metrics_metadata.json'), JSON.stringify({ incidents: { list: [{ id: 'a', server: 's', type: 'memory_leak', metric: 'memory_percent', onset: 'yesterday' }] } }));
    await expect(loadTrainingData(cut)).rejects.toThrow(/metrics_metadata\.json: incidents\.list\[0\]\.onset/);

    // A topology that is not server -> server is refused, naming the entry.
    for (const [dependencies, message] of [
      [['ppweb001'], /dependencies: expected an object/],
      [{ ppweb001: 3 }, /dependencies\.ppweb001: expected the name of the server it depends on/],
      [{ ppweb001: 'ppweb001' }, /dependencies\.ppweb001: a server cannot depend on itself/],
    ] as const) {
      writeFileSync(join(cut, 'metrics_metadata.json'), JSON.stringify({ dependencies, incidents: { list: [] } }));
      await expect(loadTrainingData(cut)).rejects.toThrow(message);
    }
    expect(DEFAULT_FEATURE_SPEC.observed.some((c) => c.startsWith('disk_percent'))).toBe(true);
  });
});

function sliceColumns(c: SampleColumns, rows: number[]): SampleColumns {
  const metrics = Object.fromEntries(
    Object.entries(c.metrics).map(([k, m]) => [k, { values: Float64Array.from(rows, (r) => m.values[r]!), present: Uint8Array.from(rows, (r) => m.present[r]!) }]),
  ) as SampleColumns['metrics'];
  return { length: rows.length, server: rows.map((r) => c.server[r]!), timestamp: Float64Array.from(rows, (r) => c.timestamp[r]!), state: rows.map((r) => c.state[r]!), metrics };
}
