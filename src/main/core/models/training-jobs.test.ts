import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '@shared/contract';
import { TrainSettingsSchema, type TrainJob } from '@shared/domain';
import { ActiveModelSetting } from '../settings/active-model';
import { createMemoryLogger } from '../util/logger';
import { JOBS_DIR, STAGING_DIR, TrainingJobs } from './training-jobs';

// What survives a process that stopped mid-job, read back by the next start.
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tftmp-jobs-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function jobs(): TrainingJobs {
  return new TrainingJobs({
    modelsRoot: join(root, 'models'),
    worker: null,
    store: null,
    events: new EventBus(),
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
