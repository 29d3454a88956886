import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../core/util/logger';
import { buildDataset } from '../core/model/features';
import { expectedTensors, loadModelFolder } from '../core/model/folder';
import { createInferenceSession } from '../core/model/infer';
import { CheckpointError, DatasetError, loadTrainingData, type TrainWorkerFactory } from '../core/model/train';
import { bundleTrainWorker } from '../core/model/train/testing/train-worker-bundle';
import type { NodeBundle } from '../core/store/testing/bundle';
import { generateCommand } from './generate';
import { trainCommand } from './train';
import { UsageError } from './usage-error';
import { captureIo } from './testing/capture-io';

let root: string;
let datasetDir: string;
let bundle: NodeBundle;
let worker: TrainWorkerFactory;

const quiet = captureIo;

beforeAll(async () => {
  ({ bundle, factory: worker } = await bundleTrainWorker());
  root = mkdtempSync(join(tmpdir(), 'train-cli-'));
  datasetDir = join(root, 'ds');
  const out = process.stdout.write.bind(process.stdout);
  process.stdout.write = () => true;
  const err = process.stderr.write.bind(process.stderr);
  process.stderr.write = () => true;
  try {
    await generateCommand(['--servers', '3', '--hours', '60', '--output', datasetDir, '--seed', '7', '--start', '2026-01-05']);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}, 60_000);

afterAll(() => {
  bundle?.dispose();
  rmSync(root, { recursive: true, force: true });
});

const TINY = ['--epochs', '3', '--batch-size', '16', '--max-windows-per-epoch', '32', '--seed', '3', '--learning-rate', '0.002'];
const AT = (): Date => new Date(Date.UTC(2026, 0, 2, 3, 4, 5));

describe('train command', () => {
  it('writes a model folder that loads and whose ONNX runs', { timeout: 90_000 }, async () => {
    const io = quiet();
    const output = join(root, 'models');
    const done = await trainCommand(['--dataset', datasetDir, '--output', output, ...TINY], { ...io, worker, now: AT });
    expect(done).not.toBeNull();
    expect(readdirSync(output)).toEqual(['tft_model_20260102_030405']);
    expect(io.text()).toContain(`Wrote ${join(output, 'tft_model_20260102_030405')}`);
    expect(io.errors()).toMatch(/^run tft_run_20260102_030405: checkpoints in \S+\ndataset: 3 servers/);
    expect(io.errors()).toContain(`checkpoints in ${join(output, '.checkpoints', 'tft_run_20260102_030405')}`);
    expect(io.errors()).not.toContain('member');
    expect(io.errors()).toMatch(/epoch 3\/3 step 2\/2 · train \d+\.\d+ · val \d+\.\d+ · .* windows\/s · ETA .* · wasm/);
    const loaded = await loadModelFolder(done!.dir);
    const m = loaded.manifest;
    expect(m.training.epochsRun).toBe(3);
    expect(m.training.backend).toBe('wasm');
    expect(m.training.seed).toBe(3);
    expect(m.training.dataset.trainingServers.length).toBeGreaterThan(0);
    expect(m.training.dataset.description).toContain('3 servers');
    expect(m.hyperParameters.batchSize).toBe(16);
    expect(m.hyperParameters.learningRate).toBe(0.002);
    // The summary says what the dataset's topology gave the upstream term (model.json training.cascade).
    const c = m.training.cascade;
    expect(io.text()).toContain(
      c
        ? `  cascades: ${c.followed} of ${c.pairs} dependents followed their upstream's incident within 60 min (coefficient ${c.coefficient})`
        : '  no topology in the dataset',
    );

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

  it('Ctrl-C writes no model and says how to resume; --resume then writes the model the uninterrupted run wrote', { timeout: 90_000 }, async () => {
    const uninterrupted = JSON.parse(readFileSync(join(root, 'models', 'tft_model_20260102_030405', 'model.json'), 'utf8')) as { onnx: { sha256: string } };
    const io = quiet();
    const output = join(root, 'interrupted');
    const controller = new AbortController();
    // Ctrl-C once the first epoch's line is out (its checkpoint is being written then).
    (io.stderr as unknown as PassThrough).on('data', (c: Buffer) => {
      if (c.toString().includes('epoch 1/3 step 2/2')) controller.abort('interrupted (SIGINT)');
    });
    const cancelled = await trainCommand(['--dataset', datasetDir, '--output', output, ...TINY], { ...io, worker, now: AT, signal: controller.signal });
    expect(cancelled).toBeNull();
    expect(process.exitCode).toBe(130);
    process.exitCode = undefined;
    const match = /train: cancelled \(interrupted \(SIGINT\)\); nothing written but the checkpoint of epoch (\d), to continue: npm run train -- --resume (\S+)\n/.exec(io.errors());
    expect(match, io.errors()).not.toBeNull();
    const runDir = match![2]!;
    expect(readdirSync(output)).toEqual(['.checkpoints']);

    // Settings come from the checkpoint: giving them again is a mistake.
    await expect(trainCommand(['--resume', runDir, '--epochs', '5'], { ...quiet(), worker })).rejects.toThrow(UsageError);
    await expect(trainCommand(['--resume', runDir, '--epochs', '5'], { ...quiet(), worker })).rejects.toThrow(/--epochs cannot be given with it/);

    const again = quiet();
    const resumed = await trainCommand(['--resume', runDir], { ...again, worker, now: AT });
    expect(resumed!.resumedFromEpoch).toBe(Number(match![1]));
    expect(again.errors()).toContain(`resuming after epoch ${match![1]} of 3`);
    expect(again.text()).toContain(`resumed after epoch ${match![1]}`);
    expect(resumed!.manifest.onnx.sha256).toBe(uninterrupted.onnx.sha256);
    expect(readdirSync(output)).toEqual(['tft_model_20260102_030405']);
  });

  it('refuses a bad dataset folder or --resume path, naming the file, and writes nothing', { timeout: 30_000 }, async () => {
    const noMeta = join(root, 'no-meta');
    mkdirSync(noMeta);
    copyFileSync(join(datasetDir, 'server_metrics.parquet'), join(noMeta, 'server_metrics.parquet'));
    const run = (...args: string[]): Promise<unknown> => trainCommand(args, { ...quiet(), worker });
    await expect(run('--dataset', noMeta, '--output', join(root, 'never'))).rejects.toThrow(/metrics_metadata\.json: missing/);
    await expect(run('--dataset', noMeta, '--output', join(root, 'never'))).rejects.toBeInstanceOf(DatasetError);
    expect(existsSync(join(root, 'never'))).toBe(false);
    await expect(run('--resume', join(root, 'no-such-run'))).rejects.toBeInstanceOf(CheckpointError);
    await expect(run('--epochs', 'many')).rejects.toThrow(/--epochs must be a whole number >= 1, got "many"/);
    await expect(run('--learning-rate', '0')).rejects.toThrow(/--learning-rate must be a positive number, got "0"/);
    await expect(run('--seed', '3', '--seeds', '3,4')).rejects.toThrow(/--seed \(one model\) and --seeds \(an ensemble\): give one of them/);
    await expect(run('--seeds', '3,3')).rejects.toThrow(/--seeds: 3 is given twice/);
    await expect(run('--seeds', '3')).rejects.toThrow(/--seeds takes 2 to 8 seeds, one per member, got 1 \(for one model: --seed N\)/);
    await expect(run('--seeds', '3,x')).rejects.toThrow(/--seeds must be a whole number >= 0, got "x"/);
  });
});

describe('train command, an ensemble', () => {
  const ENSEMBLE = TINY.filter((_, i) => TINY[i] !== '--seed' && TINY[i - 1] !== '--seed');

  it(
    '--seeds trains one member per seed, resumes after Ctrl-C in the second, and writes one graph whose risk is the mean of the single models of those seeds',
    { timeout: 120_000 },
    async () => {
      const single = (seed: string): Promise<string> =>
        trainCommand(['--dataset', datasetDir, '--output', join(root, `single-${seed}`), ...ENSEMBLE, '--seed', seed], { ...quiet(), worker, now: AT }).then((s) => s!.dir);
      const singles = [await single('3'), await single('4')];

      const io = quiet();
      const output = join(root, 'ensemble');
      const controller = new AbortController();
      // Ctrl-C once member 2 has its first epoch (member 1 is then finished and kept).
      (io.stderr as unknown as PassThrough).on('data', (c: Buffer) => {
        if (c.toString().includes('member 2/2: epoch 1/3 step 2/2')) controller.abort('interrupted (SIGINT)');
      });
      const cancelled = await trainCommand(['--dataset', datasetDir, '--output', output, ...ENSEMBLE, '--seeds', '3,4'], { ...io, worker, now: AT, signal: controller.signal });
      expect(cancelled).toBeNull();
      process.exitCode = undefined;
      expect(io.errors()).toMatch(/member 1\/2: dataset: 3 servers/);
      expect(io.errors()).toMatch(/member 1\/2: 3 epochs \(best \d\), /);
      const match = /nothing written but the checkpoint of member 2's epoch (\d), to continue: npm run train -- --resume (\S+)\n/.exec(io.errors());
      expect(match, io.errors()).not.toBeNull();
      const runDir = match![2]!;
      expect(readdirSync(runDir).sort()).toEqual(['checkpoint.bin', 'member-0.json', 'member-0.onnx']);

      const again = quiet();
      const summary = await trainCommand(['--resume', runDir], { ...again, worker, now: AT });
      expect(again.errors()).toContain(`resuming member 2/2 after epoch ${match![1]} of 3`);
      expect(again.errors()).toMatch(/member 1\/2: finished in an earlier session: 3 epochs/);
      expect(again.text()).toMatch(/ensemble of 2 \(seeds 3, 4\), each output the mean of the members'; backend wasm; training .* \(all sessions\)/);
      expect(again.text()).toMatch(/member 1 \(seed 3\): 3 epochs .*; finished in an earlier session\n {2}member 2 \(seed 4\): 3 epochs/);
      expect(readdirSync(output)).toEqual(['tft_model_20260102_030405']);

      const loaded = await loadModelFolder(summary!.dir);
      const m = loaded.manifest;
      expect(m.hyperParameters.ensembleMembers).toBe(2);
      expect(m.training.seed).toBe(3);
      expect(m.training.ensemble?.members.map((x) => x.seed)).toEqual([3, 4]);
      const members = await Promise.all(singles.map((dir) => loadModelFolder(dir)));
      // Each member is the single model of its seed, byte for byte.
      expect(m.training.ensemble?.members.map((x) => x.onnxSha256)).toEqual(members.map((x) => x.manifest.onnx.sha256));
      // Servers: those both members trained on.
      const both = members[0]!.manifest.training.dataset.trainingServers.filter((s) => members[1]!.manifest.training.dataset.trainingServers.includes(s));
      expect(m.training.dataset.trainingServers).toEqual(both);
      expect(m.notes).toContain('An ensemble of 2 TFTs (seeds 3, 4)');

      const data = await loadTrainingData(datasetDir);
      const ds = buildDataset(data.columns, data.incidents, { seed: 3 });
      const batch = ds.materialize('validation', Int32Array.from([0, 1, 2, 3]));
      const feeds = { observed: batch.observed, observed_mask: batch.observedMask, known: batch.known, profile: batch.profile, server_bucket: batch.serverBucket };
      const riskOf = async (l: Awaited<ReturnType<typeof loadModelFolder>>): Promise<Float32Array> => {
        const session = await createInferenceSession({ modelBytes: l.onnxBytes, ...expectedTensors(l.manifest), provider: 'cpu', logger: createMemoryLogger() });
        try {
          return (await session.run(feeds, batch.size)).risk!.data as Float32Array;
        } finally {
          await session.close();
        }
      };
      const [r, r3, r4] = [await riskOf(loaded), await riskOf(members[0]!), await riskOf(members[1]!)];
      for (let i = 0; i < r.length; i++) expect(Math.abs(r[i]! - (r3[i]! + r4[i]!) / 2)).toBeLessThan(1e-6);
    },
  );
});
