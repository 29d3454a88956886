import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainJob } from '@shared/domain';
import { createCore, type Core } from '../app';
import { bundleTrainWorker } from '../model/train/testing/train-worker-bundle';
import type { TrainWorkerFactory } from '../model/train/train-worker';
import { bundledModelDir } from '../paths';
import type { NodeBundle } from '../store/testing/bundle';
import { createMemoryLogger } from '../util/logger';
import { shouldReplace, type ReplaceRules } from './drift';
import type { RetrainingConfig } from './retraining';

// Automatic retraining in a real core: a store filled by the simulated fleet, a model that never
// trained on most of its profiles (drift), a real training run on the store's data, the real
// evaluation, and the replace-only-if-better rule deciding what serves afterwards.
const BUNDLED = bundledModelDir({ mainDir: resolve(__dirname, '..', '..', '..', '..', 'out', 'main') });

let bundle: NodeBundle;
let worker: TrainWorkerFactory;
let root: string;
let narrow: string;

beforeAll(async () => {
  ({ bundle, factory: worker } = await bundleTrainWorker());
  root = mkdtempSync(join(tmpdir(), 'tftmp-retrain-'));
  // The bundled model, told it trained on one profile only: the fleet's other profiles are new to it.
  narrow = join(root, 'narrow-model');
  cpSync(BUNDLED, narrow, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(narrow, 'model.json'), 'utf8')) as { training: { dataset: { profiles: string[] } } };
  manifest.training.dataset.profiles = ['ml_compute'];
  writeFileSync(join(narrow, 'model.json'), JSON.stringify(manifest));
}, 120_000);
afterAll(() => {
  bundle?.dispose();
  rmSync(root, { recursive: true, force: true });
});

function startCore(dataDir: string, replace: Partial<ReplaceRules>): Core {
  const retraining: RetrainingConfig = {
    // Checks are driven by the test, not by the cycles.
    checkEveryCycles: 1_000_000,
    days: 2,
    cooldownMs: 0,
    settings: { epochs: 1, maxWindowsPerEpoch: 32, batchSize: 16, evaluationServers: 6, evaluationDays: 4 },
    replace,
  };
  return createCore({
    dataDir,
    runtime: 'test',
    logger: createMemoryLogger(),
    heartbeatMs: 0,
    simulator: { servers: 6, seed: 'retrain-test', speed: 1, backfillHours: 52 },
    model: { bundledDir: BUNDLED, provider: 'cpu', intraOpThreads: 1 },
    trainWorker: worker,
    retraining,
  });
}

async function decided(core: Core, id: string): Promise<TrainJob> {
  const deadline = Date.now() + 150_000;
  for (;;) {
    const job = (await core.handlers['model.jobs']({}, { transport: 'in-process' })).jobs.find((j) => j.id === id);
    if (job && (job.state === 'failed' || job.state === 'cancelled')) throw new Error(`job ${job.state}: ${job.error ?? job.detail}`);
    if (job?.decision) return job;
    if (Date.now() > deadline) throw new Error('timed out waiting for the decision');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('automatic retraining', () => {
  const dataDir = (): string => join(root, 'app');

  it.each([
    ['a model that beats it replaces the active one', { minImprovement: -10, maxFalseAlarmIncrease: 100 }, true],
    ['a model that does not beat it is kept aside', { minImprovement: 10, maxFalseAlarmIncrease: 0 }, false],
  ] as const)('on drift (new profiles), retrains on the store: %s', { timeout: 200_000 }, async (_name, replace, expectReplaced) => {
    const core = startCore(dataDir(), replace);
    try {
      await core.ready();
      await core.handlers['model.activate']({ dir: narrow }, { transport: 'in-process' });
      const monitor = core.retraining!;
      expect(monitor).not.toBeNull();

      const assessment = await monitor.check();
      expect(assessment.drift).toBe(true);
      expect(assessment.reasons.join(' ')).toMatch(/profiles the model never trained on: .*database/);
      const run = monitor.getStatus().lastRun!;
      expect(run.trigger.kind).toBe('drift');
      expect(run.job).not.toBeNull();
      // One job at a time: a second trigger while it runs is recorded as skipped.
      expect(monitor.trigger({ kind: 'schedule', reason: 'test' })).toBeNull();
      expect(monitor.getStatus().lastRun?.skipped).toBe('a training job is running');

      const job = await decided(core, run.job!);
      expect(job.trigger).toEqual({ kind: 'drift', reason: assessment.reasons.join('; ') });
      expect(job.data.kind).toBe('store');
      expect(job.check?.servers).toBe(6);
      const rule = shouldReplace(job.evaluation, job.activeEvaluation?.evaluation ?? null, { minImprovement: replace.minImprovement, maxFalseAlarmIncrease: replace.maxFalseAlarmIncrease });
      expect(rule.replace).toBe(expectReplaced);
      expect(job.decision).toEqual({ replaced: expectReplaced, reason: rule.reason });
      const list = await core.handlers['model.list']({}, { transport: 'in-process' });
      expect(list.active).toBe(expectReplaced ? job.model!.id : resolve(narrow));
      // Every run leaves its record, with its trigger and decision.
      const record = JSON.parse(readFileSync(join(dataDir(), 'models', '.jobs', `${job.id}.json`), 'utf8')) as TrainJob;
      expect(record.decision).toEqual(job.decision);
    } finally {
      await core.close();
    }
  });
});
