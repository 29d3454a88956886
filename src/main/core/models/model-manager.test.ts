import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, dispatch, type Input, type Method, type Output } from '@shared/contract';
import type { TrainJob } from '@shared/domain';
import { createCore, type Core, type CoreConfig } from '../app';
import { bundleTrainWorker } from '../model/train/testing/train-worker-bundle';
import type { TrainWorkerFactory } from '../model/train/train-worker';
import { bundledModelDir } from '../paths';
import type { NodeBundle } from '../store/testing/bundle';
import { createMemoryLogger } from '../util/logger';
import { JOBS_DIR, STAGING_DIR } from './training-jobs';

// The real parts: a core with a SQLite store in a temp folder, a simulated fleet, the bundled
// model in an onnxruntime session, and the training worker thread (bundled as the app bundles it)
// training a tiny model on a tiny simulated fleet.
const BUNDLED = bundledModelDir({ mainDir: resolve(__dirname, '..', '..', '..', '..', 'out', 'main') });

let bundle: NodeBundle;
let worker: TrainWorkerFactory;
let root: string;

beforeAll(async () => {
  ({ bundle, factory: worker } = await bundleTrainWorker());
  root = mkdtempSync(join(tmpdir(), 'tftmp-models-'));
}, 120_000);
afterAll(() => {
  bundle?.dispose();
  rmSync(root, { recursive: true, force: true });
});

function startCore(dataDir: string, over: Partial<CoreConfig> = {}): Core {
  return createCore({
    dataDir,
    runtime: 'test',
    logger: createMemoryLogger(),
    heartbeatMs: 0,
    simulator: { servers: 4, seed: 'models-test', speed: 1, backfillHours: 26 },
    model: { bundledDir: BUNDLED, provider: 'cpu', intraOpThreads: 1 },
    trainWorker: worker,
    ...over,
  });
}

const call = <M extends Method>(core: Core, method: M, input: Input<M>): Promise<Output<M>> =>
  dispatch(core, method, input, { transport: 'in-process' }, { validateOutput: true }) as Promise<Output<M>>;

async function errorOf(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected the call to fail');
}

async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const TINY = {
  data: { kind: 'simulated' as const, servers: 4, days: 3, seed: 'tiny' },
  settings: { epochs: 1, maxWindowsPerEpoch: 32, batchSize: 16, size: 'small' as const, evaluationServers: 2, evaluationDays: 2 },
};

async function finished(core: Core, id: string, timeoutMs = 150_000): Promise<TrainJob> {
  return waitFor(async () => {
    const { jobs } = await call(core, 'model.jobs', {});
    const job = jobs.find((j) => j.id === id);
    return job && (job.state === 'finished' || job.state === 'failed' || job.state === 'cancelled') ? job : undefined;
  }, timeoutMs);
}

/** Model folders under models/ (hidden staging and job records excluded). */
const modelFolders = (dataDir: string): string[] =>
  existsSync(join(dataDir, 'models')) ? readdirSync(join(dataDir, 'models')).filter((n) => !n.startsWith('.')) : [];

describe('model management and training from the app', () => {
  const dataDir = (): string => join(root, 'app');
  let core: Core;
  let trained: TrainJob;

  beforeAll(async () => {
    core = startCore(dataDir());
    await core.ready();
    await core.predictionsIdle();
  }, 60_000);
  afterAll(async () => {
    await core?.close();
  });

  it('lists the bundled model, active, with its metadata and sha256', async () => {
    const list = await call(core, 'model.list', {});
    expect(list.active).toBe('bundled');
    expect(list.models).toHaveLength(1);
    const bundled = list.models[0]!;
    expect(bundled).toMatchObject({ id: 'bundled', source: 'bundled', active: true, ok: true, name: 'tft' });
    const manifest = JSON.parse(readFileSync(join(BUNDLED, 'model.json'), 'utf8')) as { onnx: { sha256: string }; version: string };
    expect(bundled.sha256).toBe(manifest.onnx.sha256);
    expect(bundled.version).toBe(manifest.version);
    expect(bundled.training?.backend).toBeTruthy();
  });

  it('checks data before training: servers, profiles, coverage, incidents; refuses what cannot train, naming the field', async () => {
    const check = await call(core, 'model.check', { data: TINY.data });
    expect(check).toMatchObject({ kind: 'simulated', servers: 4, ok: true, problems: [] });
    expect(Object.values(check.profiles).reduce((a, b) => a + b, 0)).toBe(4);
    expect(check.coverage).toBeGreaterThan(0.9);
    expect(check.hours).toBeCloseTo(72, 0);

    // A 2-hour range of the store: far less than training needs (41 h).
    const now = Date.now();
    const shortRange = { kind: 'store' as const, from: new Date(now - 2 * 3_600_000).toISOString(), to: new Date(now).toISOString() };
    const storeCheck = await call(core, 'model.check', { data: shortRange });
    expect(storeCheck.ok).toBe(false);
    expect(storeCheck.servers).toBe(4);
    expect(storeCheck.problems.join(' ')).toMatch(/training needs 41 h/);
    const refused = await errorOf(call(core, 'model.train', { data: shortRange }));
    expect(refused.code).toBe('invalid_input');
    expect(refused.issues?.[0]?.path).toBe('data');

    const backwards = await errorOf(call(core, 'model.check', { data: { ...shortRange, from: shortRange.to, to: shortRange.from } }));
    expect(backwards.code).toBe('invalid_input');
    expect(backwards.issues?.[0]?.path).toBe('data.to');

    const tooBig = await errorOf(call(core, 'model.train', { data: { kind: 'simulated', servers: 200, days: 60 } }));
    expect(tooBig.code).toBe('invalid_input');
    expect(tooBig.issues?.[0]?.path).toBe('data.servers');
    const badSetting = await errorOf(call(core, 'model.train', { data: TINY.data, settings: { epochs: 0 } }));
    expect(badSetting.code).toBe('invalid_input');
    expect(badSetting.issues?.map((i) => i.path)).toEqual(['settings.epochs']);
  });

  it('cancels a run at any moment and leaves no model folder behind', { timeout: 120_000 }, async () => {
    const progress: TrainJob[] = [];
    const off = core.events.on('model.progress', (job) => progress.push(job));
    try {
      const job = await call(core, 'model.train', { ...TINY, settings: { ...TINY.settings, epochs: 50, maxWindowsPerEpoch: 64 } });
      expect(job.state).toBe('preparing');
      // One training job at a time.
      const second = await errorOf(call(core, 'model.train', TINY));
      expect(second.code).toBe('conflict');
      expect(second.message).toContain(job.id);
      await waitFor(() => progress.find((p) => p.id === job.id && p.progress !== null && p.progress.step >= 1));
      expect(existsSync(join(dataDir(), 'models', STAGING_DIR, job.id))).toBe(true);
      const cancelled = await call(core, 'model.cancel', { job: job.id });
      expect(cancelled.state).toBe('cancelled');
      expect(cancelled.model).toBeNull();
      expect(modelFolders(dataDir())).toEqual([]);
      expect(existsSync(join(dataDir(), 'models', STAGING_DIR, job.id))).toBe(false);
      const record = JSON.parse(readFileSync(join(dataDir(), 'models', JOBS_DIR, `${job.id}.json`), 'utf8')) as TrainJob;
      expect(record.state).toBe('cancelled');
      expect((await errorOf(call(core, 'model.cancel', { job: job.id }))).code).toBe('conflict');
      expect((await errorOf(call(core, 'model.cancel', { job: 'job-nope' }))).code).toBe('not_found');
      // The progress carried the backend, samples/s and an ETA.
      const last = progress.filter((p) => p.id === job.id && p.progress).at(-1)!.progress!;
      expect(last.backend).toBeTruthy();
      expect(last.samplesPerSec).toBeGreaterThan(0);
      expect(last.etaSeconds).toBeGreaterThanOrEqual(0);
    } finally {
      off();
    }
  });

  it.each(['preparing', 'evaluating'] as const)(
    'cancelled while %s, a job leaves no model folder and no staging',
    { timeout: 120_000 },
    async (phase) => {
      const states: string[] = [];
      const off = core.events.on('model.progress', (job) => states.push(job.state));
      try {
        const job = await call(core, 'model.train', { ...TINY, settings: { ...TINY.settings, evaluationServers: 4, evaluationDays: 4 } });
        if (phase === 'evaluating') await waitFor(() => (states.includes('evaluating') ? true : undefined));
        const cancelled = await call(core, 'model.cancel', { job: job.id });
        expect(cancelled.state).toBe('cancelled');
        expect(cancelled.detail).toMatch(/no model was written/);
        expect(modelFolders(dataDir())).toEqual([]);
        expect(existsSync(join(dataDir(), 'models', STAGING_DIR, job.id))).toBe(false);
      } finally {
        off();
      }
    },
  );

  it('trains a model on the worker, evaluates it next to the active one, and lists it', { timeout: 200_000 }, async () => {
    const changed: string[] = [];
    const off = core.events.on('model.changed', (c) => changed.push(`${c.change}:${c.id}`));
    try {
      const started = Date.now();
      const job = await call(core, 'model.train', TINY);
      trained = await finished(core, job.id);
      expect(trained.error).toBeNull();
      expect(trained.state).toBe('finished');
      console.info(`tiny training job (4 servers x 3 days, 1 epoch, small, evaluation 2 x 2 days): ${Date.now() - started} ms`);
      expect(trained.epochs).toHaveLength(1);
      expect(trained.model?.id).toMatch(/^tft_model_\d{8}_\d{6}$/);
      expect(trained.evaluation?.methods.model).toBeDefined();
      expect(trained.evaluation?.methods.holt).toBeDefined();
      expect(trained.activeEvaluation?.id).toBe('bundled');
      expect(modelFolders(dataDir())).toEqual([trained.model!.id]);
      expect(existsSync(join(dataDir(), 'models', STAGING_DIR, job.id))).toBe(false);
      expect(changed).toEqual([`added:${trained.model!.id}`]);

      const list = await call(core, 'model.list', {});
      const entry = list.models.find((m) => m.id === trained.model!.id)!;
      expect(entry).toMatchObject({ ok: true, active: false, source: 'models-folder', job: job.id, version: trained.model!.version });
      expect(entry.evaluation).toEqual(trained.evaluation);
      expect(entry.data?.servers).toBe(4);
      expect(entry.settings?.hidden).toBe(8);
      // The active model's figures from the same fleets show beside it.
      expect(list.models.find((m) => m.id === 'bundled')?.evaluation).toEqual(trained.activeEvaluation?.evaluation);
    } finally {
      off();
    }
  });

  it('activates the new model: predictions switch to it, and a restart keeps it', { timeout: 60_000 }, async () => {
    const before = await call(core, 'predictions.current', {});
    expect(before.model?.version).not.toBe(trained.model!.version);
    const list = await call(core, 'model.activate', { name: trained.model!.id });
    expect(list.active).toBe(trained.model!.id);
    await core.predictionsIdle();
    const after = await call(core, 'predictions.current', {});
    expect(after.model?.version).toBe(trained.model!.version);
    expect(after.servers.length).toBeGreaterThan(0);
    expect((await call(core, 'system.health', {})).model?.version).toBe(trained.model!.version);

    // The active model and the bundled one cannot be deleted.
    expect((await errorOf(call(core, 'model.delete', { name: trained.model!.id }))).code).toBe('conflict');
    expect((await errorOf(call(core, 'model.delete', { name: 'bundled' }))).code).toBe('conflict');

    await core.close();
    core = startCore(dataDir());
    await core.ready();
    await core.predictionsIdle();
    expect((await call(core, 'predictions.current', {})).model?.version).toBe(trained.model!.version);
    expect((await call(core, 'model.list', {})).active).toBe(trained.model!.id);
    // The job records outlive the restart.
    expect((await call(core, 'model.jobs', {})).jobs.map((j) => j.state).sort()).toEqual(['cancelled', 'cancelled', 'cancelled', 'finished']);
  });

  it('refuses a corrupt folder and keeps the previous model serving', { timeout: 60_000 }, async () => {
    const corrupt = join(root, 'corrupt');
    cpSync(trained.model!.dir, corrupt, { recursive: true });
    const onnx = join(corrupt, 'model.onnx');
    const bytes = readFileSync(onnx);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    writeFileSync(onnx, bytes);
    const error = await errorOf(call(core, 'model.activate', { dir: corrupt }));
    expect(error.code).toBe('conflict');
    expect(error.message).toMatch(/sha256/);
    expect(error.message).toContain(`${trained.model!.version} keeps serving`);
    // A folder that passes its checksum but whose inputs the feature pipeline does not build:
    // refused by the predictor's own check, before anything is swapped.
    const mismatched = join(root, 'mismatched');
    cpSync(BUNDLED, mismatched, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(mismatched, 'model.json'), 'utf8')) as { onnx: { inputs: { name: string }[] } };
    manifest.onnx.inputs[0]!.name = 'not_an_input';
    writeFileSync(join(mismatched, 'model.json'), JSON.stringify(manifest));
    const inputs = await errorOf(call(core, 'model.activate', { dir: mismatched }));
    expect(inputs.code).toBe('conflict');
    expect(inputs.message).toMatch(/not_an_input/);
    expect((await errorOf(call(core, 'model.activate', { name: 'no-such-model' }))).code).toBe('not_found');
    const both = await errorOf(call(core, 'model.activate', { name: 'bundled', dir: corrupt }));
    expect(both.code).toBe('invalid_input');
    expect(both.issues?.[0]?.path).toBe('name');
    await core.predictionsIdle();
    expect((await call(core, 'predictions.current', {})).model?.version).toBe(trained.model!.version);
    expect((await call(core, 'model.list', {})).active).toBe(trained.model!.id);
  });

  it('rolls back to the bundled model, then deletes the trained one', { timeout: 60_000 }, async () => {
    const bundledVersion = (await call(core, 'model.list', {})).models.find((m) => m.id === 'bundled')!.version;
    await call(core, 'model.activate', { name: 'bundled' });
    await core.predictionsIdle();
    expect((await call(core, 'predictions.current', {})).model?.version).toBe(bundledVersion);
    // Export first: a verified copy elsewhere, never over an existing folder.
    const exportDir = join(root, 'exported');
    mkdirSync(exportDir);
    const exported = await call(core, 'model.export', { name: trained.model!.id, dir: exportDir });
    expect(exported.dir).toBe(join(exportDir, trained.model!.id));
    expect(readdirSync(exported.dir).sort()).toEqual(['evaluation.json', 'model.json', 'model.onnx']);
    expect((await errorOf(call(core, 'model.export', { name: trained.model!.id, dir: exportDir }))).code).toBe('conflict');
    const list = await call(core, 'model.delete', { name: trained.model!.id });
    expect(list.models.map((m) => m.id)).toEqual(['bundled']);
    expect(modelFolders(dataDir())).toEqual([]);
    expect((await errorOf(call(core, 'model.delete', { name: trained.model!.id }))).code).toBe('not_found');
  });

  it('imports a model folder after the same checks, and refuses a corrupt one without copying it', { timeout: 60_000 }, async () => {
    const exported = join(root, 'exported', trained.model!.id);
    const changed: string[] = [];
    const off = core.events.on('model.changed', (c) => changed.push(`${c.change}:${c.id}`));
    try {
      const list = await call(core, 'model.import', { dir: exported });
      const entry = list.models.find((m) => m.id === trained.model!.id)!;
      expect(entry).toMatchObject({ ok: true, active: false, version: trained.model!.version, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      // Its evaluation came along with it.
      expect(entry.evaluation).toEqual(trained.evaluation);
      expect(changed).toEqual([`added:${trained.model!.id}`]);
      expect((await errorOf(call(core, 'model.import', { dir: exported }))).code).toBe('conflict');
      const corrupt = await errorOf(call(core, 'model.import', { dir: join(root, 'corrupt') }));
      expect(corrupt.code).toBe('conflict');
      expect(corrupt.message).toMatch(/sha256/);
      const mismatched = await errorOf(call(core, 'model.import', { dir: join(root, 'mismatched') }));
      expect(mismatched.message).toMatch(/onnx\.inputs: unknown inputs not_an_input/);
      expect(modelFolders(dataDir())).toEqual([trained.model!.id]);
      expect(readdirSync(join(dataDir(), 'models')).filter((n) => n.includes('.import-'))).toEqual([]);
    } finally {
      off();
    }
  });
});
