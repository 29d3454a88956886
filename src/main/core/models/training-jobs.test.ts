import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '@shared/contract';
import { TrainSettingsSchema, type TrainJob } from '@shared/domain';
import { bundleTrainWorker } from '../model/train/testing/train-worker-bundle';
import type { TrainWorkerFactory } from '../model/train/train-worker';
import { ActiveModelSetting } from '../settings/active-model';
import type { NodeBundle } from '../store/testing/bundle';
import { createMemoryLogger } from '../util/logger';
import { MemberTracker } from '../model/train';
import { ensembleSeeds, JOBS_DIR, STAGING_DIR, TrainingJobs } from './training-jobs';

// What survives a process that stopped mid-job, read back by the next start.
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tftmp-jobs-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function jobs(worker: TrainWorkerFactory | null = null, events = new EventBus()): TrainingJobs {
  return new TrainingJobs({
    modelsRoot: join(root, 'models'),
    worker,
    store: null,
    events,
    logger: createMemoryLogger(),
    activeModel: () => null,
    onModelAdded: () => undefined,
  });
}

const record = (id: string, state: TrainJob['state'], createdAt: string): TrainJob => ({
  id,
  trigger: { kind: 'user', reason: 'test' },
  decision: null,
  state,
  detail: 'epoch 1 of 3',
  createdAt,
  endedAt: null,
  durationMs: null,
  data: { kind: 'simulated', servers: 4, days: 3, seed: 's' },
  settings: TrainSettingsSchema.parse({}),
  check: null,
  progress: null,
  epochs: [],
  model: null,
  evaluation: null,
  activeEvaluation: null,
  error: null,
});

describe('training job records across restarts', () => {
  it('lists past jobs newest first, marks the one that was running as interrupted, and clears its staging', () => {
    const dir = join(root, 'models', JOBS_DIR);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'job-a.json'), JSON.stringify(record('job-a', 'finished', '2026-11-26T20:00:00.000Z')));
    writeFileSync(join(dir, 'job-b.json'), JSON.stringify(record('job-b', 'training', '2026-11-26T21:00:00.000Z')));
    writeFileSync(join(dir, 'job-c.json'), '{ not json');
    const staging = join(root, 'models', STAGING_DIR, 'job-b', 'out', 'tft_model_x');
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, 'model.onnx'), 'half');

    const j = jobs();
    expect(j.list().map((x) => [x.id, x.state])).toEqual([
      ['job-b', 'failed'],
      ['job-a', 'finished'],
    ]);
    expect(j.get('job-b')?.error).toMatch(/interrupted/);
    expect(existsSync(join(root, 'models', STAGING_DIR))).toBe(false);
    // The record on disk says so too.
    expect((JSON.parse(readFileSync(join(dir, 'job-b.json'), 'utf8')) as TrainJob).state).toBe('failed');
  });

  it('answers unavailable without a training worker, and names the field of data it cannot train on', () => {
    const j = jobs();
    expect(() => j.start({ kind: 'simulated', servers: 4, days: 3, seed: 's' }, TrainSettingsSchema.parse({}))).toThrow(/no training worker/);
    expect(() => j.check({ kind: 'store', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' })).toThrow(/data.kind: there is no metrics store/);
  });
});

describe('the active model setting', () => {
  it('persists the activated folder, reads null for the bundled one, and survives a broken file', () => {
    const logger = createMemoryLogger();
    const a = new ActiveModelSetting(root, logger);
    expect(a.get()).toBeNull();
    a.set(join(root, 'models', 'm1'));
    expect(new ActiveModelSetting(root, logger).get()).toBe(join(root, 'models', 'm1'));
    a.set(null);
    expect(new ActiveModelSetting(root, logger).get()).toBeNull();
    writeFileSync(join(root, 'active-model.json'), '{"dir": 42');
    expect(new ActiveModelSetting(root, logger).get()).toBeNull();
    expect(logger.records.some((r) => r.level === 'warn' && /not JSON/.test(r.message))).toBe(true);
  });
});

describe('ensembles from the wizard (settings.members)', () => {
  it('seeds the members seed, seed + 1, ...', () => {
    expect(ensembleSeeds(42, 1)).toEqual([42]);
    expect(ensembleSeeds(42, 3)).toEqual([42, 43, 44]);
  });

  it('estimates the whole run: the member left plus the members to come, as long as the finished ones took', () => {
    const single = new MemberTracker(1);
    single.memberStarted(0);
    expect(single.eta(0, 12, 5_000)).toBe(12);
    expect(single.prefix(0)).toBe('');

    const three = new MemberTracker(3);
    expect(three.prefix(1)).toBe('member 2 of 3 · ');
    three.memberStarted(0);
    // No member finished yet: this one's projected total (10 s so far + 30 s left) per member to come.
    expect(three.eta(0, 30, 10_000)).toBe(30 + 2 * 40);
    expect(three.eta(0, null, 10_000)).toBeNull();
    three.memberFinished(20_000);
    three.memberStarted(20_000);
    expect(three.eta(1, 5, 30_000)).toBe(5 + 20);
    expect(three.eta(2, 5, 30_000)).toBe(5);
  });

  describe('a job with members 2, trained on the training worker', () => {
    let bundle: NodeBundle;
    let worker: TrainWorkerFactory;
    beforeAll(async () => {
      ({ bundle, factory: worker } = await bundleTrainWorker());
    }, 120_000);
    afterAll(() => bundle?.dispose());

    it('writes one model folder of a 2-member ensemble and follows both members in its progress', async () => {
      const events = new EventBus();
      const seen: TrainJob[] = [];
      events.on('model.progress', (job) => seen.push(job));
      const j = jobs(worker, events);
      const settings = TrainSettingsSchema.parse({ epochs: 1, maxWindowsPerEpoch: 32, batchSize: 16, size: 'small', members: 2, evaluate: false });
      const started = j.start({ kind: 'simulated', servers: 4, days: 3, seed: 'tiny' }, settings);
      await j.idle();
      const job = j.get(started.id)!;
      expect(job.error).toBeNull();
      expect(job.state).toBe('finished');
      expect(job.settings.members).toBe(2);
      // The epoch counter restarts with each member: one point per member's epoch.
      expect(job.epochs.map((e) => [e.member, e.epoch])).toEqual([
        [1, 1],
        [2, 1],
      ]);
      expect(job.progress).toMatchObject({ member: 2, members: 2, epoch: 1, epochs: 1, phase: 'validation' });
      const training = seen.filter((x) => x.state === 'training' && x.progress !== null);
      expect(training.some((x) => x.progress?.member === 1)).toBe(true);
      expect(seen.some((x) => /^member 2 of 2 · epoch 1 of 1/.test(x.detail))).toBe(true);

      const manifest = JSON.parse(readFileSync(join(job.model!.dir, 'model.json'), 'utf8')) as {
        training: { ensemble?: { members: { seed: number }[] } };
      };
      expect(manifest.training.ensemble?.members.map((m) => m.seed)).toEqual([42, 43]);
      // The record on disk says so too.
      const saved = JSON.parse(readFileSync(join(root, 'models', JOBS_DIR, `${job.id}.json`), 'utf8')) as TrainJob;
      expect(TrainSettingsSchema.parse(saved.settings).members).toBe(2);
      expect(saved.progress?.member).toBe(2);
    }, 180_000);
  });
});
