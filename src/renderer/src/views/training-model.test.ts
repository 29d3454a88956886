import { describe, expect, it } from 'vitest';
import { api } from '@shared/contract';
import type { TrainJob } from '@shared/domain';
import { DEFAULT_FORM, currentJob, dataKey, formToInput, jobFraction, jobMember, lossSeries, newerJob } from './training-model';

const job = (over: Partial<TrainJob> = {}): TrainJob => ({
  id: 'job-1',
  trigger: { kind: 'user', reason: 'test' },
  decision: null,
  state: 'training',
  detail: '',
  createdAt: '2026-11-26T23:00:00.000Z',
  endedAt: null,
  durationMs: null,
  data: { kind: 'simulated', servers: 4, days: 3, seed: 's' },
  settings: api['model.train'].input.parse({ data: { kind: 'simulated' } }).settings,
  check: null,
  progress: null,
  epochs: [],
  model: null,
  evaluation: null,
  activeEvaluation: null,
  error: null,
  ...over,
});

const progress = (epoch: number, step: number, phase: 'train' | 'validation' = 'train') => ({
  phase,
  epoch,
  epochs: 4,
  step,
  steps: 10,
  trainLoss: 2 - epoch * 0.1,
  validationLoss: null,
  samplesPerSec: 100,
  etaSeconds: 5,
  backend: 'wasm',
});

describe('the wizard form', () => {
  it('turns the default form into a model.train input the contract accepts', () => {
    const result = formToInput(DEFAULT_FORM);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.input.data).toEqual({ kind: 'simulated', servers: 8, days: 4, seed: 'wizard' });
    expect(result.input.settings.members).toBe(1);
    expect(api['model.train'].input.safeParse(result.input).success).toBe(true);
  });

  it('passes the ensemble size, 1 to 5 members', () => {
    const three = formToInput({ ...DEFAULT_FORM, members: '3' });
    expect(three.ok && three.input.settings.members).toBe(3);
    if (three.ok) expect(api['model.train'].input.parse(three.input).settings.members).toBe(3);
    for (const bad of ['0', '6', '1.5', '']) {
      const r = formToInput({ ...DEFAULT_FORM, members: bad });
      expect(r.ok ? null : r.errors.members).toMatch(/from 1 to 5|a whole number/);
    }
  });

  it('names every bad field', () => {
    const result = formToInput({ ...DEFAULT_FORM, servers: '0', days: 'x', epochs: '2.5', seed: ' ' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(['days', 'epochs', 'seed', 'servers']);
    expect(result.errors.servers).toBe('from 1 to 200');
  });

  it('refuses a store range that ends before it starts, and converts a valid one to ISO', () => {
    const bad = formToInput({ ...DEFAULT_FORM, kind: 'store', from: '2026-01-02T00:00', to: '2026-01-01T00:00' });
    expect(bad.ok ? null : bad.errors.to).toBe('after the start');
    const good = formToInput({ ...DEFAULT_FORM, kind: 'store', from: '2026-01-01T00:00', to: '2026-01-03T00:00' });
    expect(good.ok).toBe(true);
    if (!good.ok || good.input.data.kind !== 'store') throw new Error('expected a store input');
    expect(Date.parse(good.input.data.to) - Date.parse(good.input.data.from)).toBe(2 * 86_400_000);
    expect(api['model.train'].input.safeParse(good.input).success).toBe(true);
  });

  it('keys a data check by the data fields only', () => {
    expect(dataKey({ ...DEFAULT_FORM, epochs: '9' })).toBe(dataKey(DEFAULT_FORM));
    expect(dataKey({ ...DEFAULT_FORM, servers: '9' })).not.toBe(dataKey(DEFAULT_FORM));
  });
});

describe('following a job', () => {
  it('follows the running job, else the newest', () => {
    const done = job({ id: 'a', state: 'finished' });
    const runningJob = job({ id: 'b', state: 'training' });
    expect(currentJob([done, runningJob])?.id).toBe('b');
    expect(currentJob([done])?.id).toBe('a');
    expect(currentJob([])).toBeNull();
  });

  it('never goes back from an ended state to a stale running record', () => {
    const ended = job({ state: 'cancelled' });
    const stale = job({ state: 'training' });
    expect(newerJob(ended, stale)?.state).toBe('cancelled');
    expect(newerJob(stale, ended)?.state).toBe('cancelled');
  });

  it('charts one point per finished epoch plus the running epoch, and measures the share done', () => {
    const j = job({
      epochs: [{ epoch: 1, trainLoss: 1.9, validationLoss: 2.1 }],
      progress: progress(2, 5),
    });
    expect(lossSeries(j)).toEqual({ train: [[1, 1.9], [1.5, 1.8]], validation: [[1, 2.1]] });
    expect(jobFraction(j)).toBeCloseTo(1.5 / 4);
    expect(jobFraction(job({ state: 'finished' }))).toBe(1);
  });
});

describe('following an ensemble job', () => {
  const settings = { ...api['model.train'].input.parse({ data: { kind: 'simulated' } }).settings, epochs: 4, members: 3 };
  const memberProgress = (member: number, epoch: number, step: number, phase: 'train' | 'validation' = 'train') => ({
    ...progress(epoch, step, phase),
    member,
    members: 3,
  });

  it('counts finished members in the share done: the epoch counter restarts with each member', () => {
    const j = job({ settings, progress: memberProgress(2, 2, 5) });
    expect(jobMember(j)).toEqual({ member: 2, members: 3 });
    expect(jobFraction(j)).toBeCloseTo((1 + 1.5 / 4) / 3);
    expect(jobFraction(job({ settings, progress: memberProgress(3, 4, 10, 'validation') }))).toBe(1);
    // Before the first progress event: member 1 of the settings' members, nothing done.
    expect(jobMember(job({ settings }))).toEqual({ member: 1, members: 3 });
    expect(jobFraction(job({ settings }))).toBe(0);
    // A single model: as before.
    expect(jobMember(job({ progress: progress(2, 5) }))).toEqual({ member: 1, members: 1 });
  });

  it('charts the members one after another on the epoch axis', () => {
    const j = job({
      settings,
      epochs: [
        { epoch: 1, member: 1, trainLoss: 1.9, validationLoss: 2.1 },
        { epoch: 2, member: 1, trainLoss: 1.7, validationLoss: 2.0 },
        { epoch: 1, member: 2, trainLoss: 1.95, validationLoss: 2.2 },
      ],
      progress: memberProgress(2, 2, 5),
    });
    const s = lossSeries(j);
    expect(s.validation).toEqual([
      [1, 2.1],
      [2, 2.0],
      [5, 2.2],
    ]);
    expect(s.train.at(-1)).toEqual([5.5, 1.8]);
  });

  it('keeps the record with more finished epochs across members', () => {
    const a = job({ settings, epochs: [{ epoch: 1, member: 1, trainLoss: 1, validationLoss: 1 }] });
    const b = job({
      settings,
      epochs: [
        { epoch: 1, member: 1, trainLoss: 1, validationLoss: 1 },
        { epoch: 1, member: 2, trainLoss: 1, validationLoss: 1 },
      ],
    });
    expect(newerJob(b, a)).toBe(b);
  });
});
