import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSamplesFile } from '../core/metrics/io';
import { createMemoryLogger } from '../core/util/logger';
import { buildDataset, DEFAULT_FEATURE_SPEC } from '../core/model/features';
import { expectedTensors, loadModelFolder } from '../core/model/folder';
import { createInferenceSession } from '../core/model/infer';
import { useBackend } from '../core/model/tft/testing/fixtures';
import { generateCommand } from './generate';
import { DatasetError, loadTrainingData, modelFolderName, trainCommand } from './train';

let root: string;
let datasetDir: string;

const quiet = (): { stdout: PassThrough; stderr: NodeJS.WriteStream; text: () => string } => {
  const stdout = new PassThrough();
  const chunks: string[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c.toString()));
  const stderr = new PassThrough() as unknown as NodeJS.WriteStream;
  return { stdout, stderr, text: () => chunks.join('') };
};

beforeAll(async () => {
  await useBackend('wasm');
  root = mkdtempSync(join(tmpdir(), 'train-cli-'));
  datasetDir = join(root, 'ds');
  const out = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true);
  const err = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true);
  try {
    await generateCommand(['--servers', '4', '--hours', '72', '--output', datasetDir, '--seed', '7', '--start', '2026-01-05']);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('train command', () => {
  it('writes a model folder that loads and whose ONNX runs', { timeout: 60_000 }, async () => {
    const io = quiet();
    const output = join(root, 'models');
    const done = await trainCommand(
      ['--dataset', datasetDir, '--output', output, '--epochs', '1', '--batch-size', '16', '--max-windows-per-epoch', '32', '--seed', '3'],
      { ...io, now: () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) },
    );
    expect(done).not.toBeNull();
    expect(readdirSync(output)).toEqual(['tft_model_20260102_030405']);
    expect(io.text()).toContain('Wrote');
    const loaded = await loadModelFolder(done!.dir);
    const m = loaded.manifest;
    expect(m.training.epochsRun).toBe(1);
    expect(m.training.bestEpoch).toBe(1);
    expect(m.training.backend).toBe('wasm');
    expect(m.training.seed).toBe(3);
    expect(m.training.dataset.trainingServers.length).toBeGreaterThan(0);
    expect(m.training.dataset.description).toContain('4 servers');
    expect(m.hyperParameters.batchSize).toBe(16);

    // The ONNX runs on real windows of the same dataset.
    const data = await loadTrainingData(datasetDir);
    const ds = buildDataset(data.columns, data.incidents, { seed: 3 });
    const batch = ds.materialize('validation', Int32Array.from([0, 1, 2]));
    const session = await createInferenceSession({ modelBytes: loaded.onnxBytes, ...expectedTensors(m), provider: 'cpu', logger: createMemoryLogger() });
    try {
      const out = await session.run(
        { observed: batch.observed, observed_mask: batch.observedMask, known: batch.known, profile: batch.profile, server_bucket: batch.serverBucket },
        batch.size,
      );
      const risk = out.risk!.data as Float32Array;
      expect(risk).toHaveLength(3);
      for (const r of risk) expect(r >= 0 && r <= 1).toBe(true);
    } finally {
      await session.close();
    }
  });

  it('names the file when metrics_metadata.json is missing or the parquet is corrupt', async () => {
    const noMeta = join(root, 'no-meta');
    const corrupt = join(root, 'corrupt');
    mkdirSync(noMeta);
    mkdirSync(corrupt);
    copyFileSync(join(datasetDir, 'server_metrics.parquet'), join(noMeta, 'server_metrics.parquet'));
    copyFileSync(join(datasetDir, 'metrics_metadata.json'), join(corrupt, 'metrics_metadata.json'));
    writeFileSync(join(corrupt, 'server_metrics.parquet'), 'PAR1 this is not parquet at all');

    const run = (dir: string): Promise<unknown> => trainCommand(['--dataset', dir, '--output', join(root, 'never')], quiet());
    await expect(run(noMeta)).rejects.toThrow(/metrics_metadata\.json: missing/);
    await expect(run(noMeta)).rejects.toBeInstanceOf(DatasetError);
    await expect(run(corrupt)).rejects.toThrow(/server_metrics\.parquet/);
    await expect(run(corrupt)).rejects.toBeInstanceOf(DatasetError);
    expect(() => readdirSync(join(root, 'never'))).toThrow();
  });

  it('refuses a dataset too short for one window, a metric missing everywhere, and bad incidents', async () => {
    const data = await loadTrainingData(datasetDir);
    expect(data.incidents.every((i) => typeof i.onset === 'number')).toBe(true);
    // Too short / missing metric: checked on a rewritten copy through the same loader.
    const cut = join(root, 'short');
    mkdirSync(cut);
    copyFileSync(join(datasetDir, 'metrics_metadata.json'), join(cut, 'metrics_metadata.json'));
    const keep: number[] = [];
    const t0 = Math.min(...data.columns.timestamp);
    for (let i = 0; i < data.columns.length; i++) if (data.columns.timestamp[i]! < t0 + 10 * 3_600_000) keep.push(i);
    const sliced = sliceColumns(data.columns, keep);
    await writeSamplesFile(join(cut, 'server_metrics.parquet'), sliced, 'parquet');
    await expect(loadTrainingData(cut)).rejects.toThrow(/server_metrics\.parquet: too short for one window/);

    const noDisk = { ...data.columns, metrics: { ...data.columns.metrics, disk_percent: { values: data.columns.metrics.disk_percent.values, present: new Uint8Array(data.columns.length) } } };
    rmSync(join(cut, 'server_metrics.parquet'));
    await writeSamplesFile(join(cut, 'server_metrics.parquet'), noDisk, 'parquet');
    await expect(loadTrainingData(cut)).rejects.toThrow(/server_metrics\.parquet: metric disk_percent missing in every row/);

    writeFileSync(join(cut, 'metrics_metadata.json'), JSON.stringify({ incidents: { list: [{ id: 'a', server: 's', type: 'memory_leak', metric: 'memory_percent', onset: 'yesterday' }] } }));
    await expect(loadTrainingData(cut)).rejects.toThrow(/metrics_metadata\.json: incidents\.list\[0\]\.onset/);
    expect(DEFAULT_FEATURE_SPEC.observed.some((c) => c.startsWith('disk_percent'))).toBe(true);
  });

  it('names model folders by UTC time', () => {
    expect(modelFolderName(new Date(Date.UTC(2026, 10, 26, 9, 8, 7)))).toBe('tft_model_20261126_090807');
  });
});

function sliceColumns(c: Awaited<ReturnType<typeof loadTrainingData>>['columns'], rows: number[]): typeof c {
  const metrics = Object.fromEntries(
    Object.entries(c.metrics).map(([k, m]) => [k, { values: Float64Array.from(rows, (r) => m.values[r]!), present: Uint8Array.from(rows, (r) => m.present[r]!) }]),
  ) as typeof c.metrics;
  return { length: rows.length, server: rows.map((r) => c.server[r]!), timestamp: Float64Array.from(rows, (r) => c.timestamp[r]!), state: rows.map((r) => c.state[r]!), metrics };
}
