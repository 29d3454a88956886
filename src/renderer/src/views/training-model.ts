import type { Input } from '@shared/contract';
import type { MODEL_SIZES, TrainJob } from '@shared/domain';

/** The Training view's wizard: form state, its validation into a model.train input, job helpers. Pure. */

export type DataKind = 'simulated' | 'store';
export type ModelSize = (typeof MODEL_SIZES)[number];

export interface WizardForm {
  kind: DataKind;
  servers: string;
  days: string;
  seed: string;
  /** `datetime-local` values (local time, no zone). */
  from: string;
  to: string;
  epochs: string;
  patience: string;
  size: ModelSize;
  /** TFTs averaged into one graph (1..5); each one more training run. */
  members: string;
  batchSize: string;
  maxWindowsPerEpoch: string;
  evaluate: boolean;
  evaluationServers: string;
  evaluationDays: string;
}

/** The wizard's default run: small and quick (seconds to a minute here), a real model all the same. */
export const DEFAULT_FORM: WizardForm = {
  kind: 'simulated',
  servers: '8',
  days: '4',
  seed: 'wizard',
  from: '',
  to: '',
  epochs: '3',
  patience: '2',
  size: 'small',
  members: '1',
  batchSize: '32',
  maxWindowsPerEpoch: '256',
  evaluate: true,
  evaluationServers: '8',
  evaluationDays: '5',
};

/** A Date as a `datetime-local` value in local time. */
export function toLocalInput(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}`;
}

/** The store range's default: the last `days` days up to `now`. */
export function defaultRange(now: Date, days = 2): { from: string; to: string } {
  return { from: toLocalInput(new Date(now.getTime() - days * 86_400_000)), to: toLocalInput(now) };
}

type TrainInput = Input<'model.train'>;
export type FormResult = { ok: true; input: Required<TrainInput> } | { ok: false; errors: Partial<Record<keyof WizardForm, string>> };

function integer(text: string, min: number, max: number): number | string {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(n)) return 'a whole number';
  if (n < min || n > max) return `from ${min} to ${max}`;
  return n;
}

/** The form as a model.train input, or what is wrong with each field (the core checks again). */
export function formToInput(form: WizardForm): FormResult {
  const errors: Partial<Record<keyof WizardForm, string>> = {};
  const num = (field: keyof WizardForm, min: number, max: number): number => {
    const r = integer(String(form[field]), min, max);
    if (typeof r === 'string') {
      errors[field] = r;
      return min;
    }
    return r;
  };
  let data: TrainInput['data'];
  if (form.kind === 'simulated') {
    const servers = num('servers', 1, 200);
    const days = num('days', 2, 60);
    if (!errors.servers && !errors.days && servers * days > 1500) errors.servers = 'servers x days at most 1,500';
    const seed = form.seed.trim();
    if (seed === '') errors.seed = 'a seed (any text)';
    data = { kind: 'simulated', servers, days, seed };
  } else {
    const from = new Date(form.from);
    const to = new Date(form.to);
    if (form.from === '' || Number.isNaN(from.getTime())) errors.from = 'a start date and time';
    if (form.to === '' || Number.isNaN(to.getTime())) errors.to = 'an end date and time';
    else if (!errors.from && to.getTime() <= from.getTime()) errors.to = 'after the start';
    data = {
      kind: 'store',
      from: Number.isNaN(from.getTime()) ? '' : from.toISOString(),
      to: Number.isNaN(to.getTime()) ? '' : to.toISOString(),
    };
  }
  const settings = {
    epochs: num('epochs', 1, 200),
    patience: num('patience', 0, 50),
    batchSize: num('batchSize', 1, 1024),
    maxWindowsPerEpoch: num('maxWindowsPerEpoch', 8, 100_000),
    size: form.size,
    members: num('members', 1, 5),
    evaluate: form.evaluate,
    evaluationServers: form.evaluate ? num('evaluationServers', 1, 50) : 4,
    evaluationDays: form.evaluate ? num('evaluationDays', 2, 30) : 3,
  };
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, input: { data, settings } };
}

/** The fields whose change invalidates a data check. */
export function dataKey(form: WizardForm): string {
  return form.kind === 'simulated' ? `sim|${form.servers}|${form.days}|${form.seed}` : `store|${form.from}|${form.to}`;
}

export const RUNNING_STATES: ReadonlySet<TrainJob['state']> = new Set(['preparing', 'training', 'evaluating']);

export function isRunning(job: Pick<TrainJob, 'state'>): boolean {
  return RUNNING_STATES.has(job.state);
}

/** The job the view follows: the running one, else the newest (jobs come newest first). */
export function currentJob(jobs: readonly TrainJob[]): TrainJob | null {
  return jobs.find(isRunning) ?? jobs[0] ?? null;
}

/**
 * Newer of two records of one job: events and query answers race, and a record never goes back
 * from an ended state, nor to fewer finished epochs.
 */
export function newerJob(a: TrainJob | null, b: TrainJob | null): TrainJob | null {
  if (!a) return b;
  if (!b || a.id !== b.id) return b ?? a;
  if (!isRunning(a) && isRunning(b)) return a;
  if (isRunning(a) && !isRunning(b)) return b;
  if (b.epochs.length < a.epochs.length) return a;
  return b;
}

/** The ensemble member training now (1-based) and how many there are; 1 of 1 for a single model. */
export function jobMember(job: Pick<TrainJob, 'progress' | 'settings'>): { member: number; members: number } {
  const members = job.progress?.members ?? job.settings.members;
  return { member: Math.min(members, job.progress?.member ?? 1), members };
}

/**
 * Share of the run done, 0..1: finished members, then the current member's finished epochs plus
 * its current epoch's steps (the epoch counter restarts with each member).
 */
export function jobFraction(job: TrainJob): number {
  if (job.state === 'finished') return 1;
  const p = job.progress;
  if (!p || p.epochs === 0) return 0;
  const { member, members } = jobMember(job);
  const inEpoch = p.phase === 'validation' ? 1 : p.steps > 0 ? p.step / p.steps : 0;
  const inMember = Math.min(1, (p.epoch - 1 + inEpoch) / p.epochs);
  return Math.min(1, (member - 1 + inMember) / members);
}

/**
 * The loss chart's series: one point per finished epoch, and the running epoch's train loss. An
 * ensemble's members follow one another on the axis: member k's epoch e at (k - 1) x epochs + e.
 */
export function lossSeries(job: TrainJob): { train: [number, number][]; validation: [number, number][] } {
  const per = job.settings.epochs;
  const x = (epoch: number, member: number | undefined): number => ((member ?? 1) - 1) * per + epoch;
  const train: [number, number][] = job.epochs
    .filter((e): e is typeof e & { trainLoss: number } => e.trainLoss !== null)
    .map((e) => [x(e.epoch, e.member), e.trainLoss]);
  const validation: [number, number][] = job.epochs
    .filter((e): e is typeof e & { validationLoss: number } => e.validationLoss !== null)
    .map((e) => [x(e.epoch, e.member), e.validationLoss]);
  const p = job.progress;
  if (p && p.trainLoss !== null && isRunning(job) && p.phase === 'train' && !job.epochs.some((e) => e.epoch === p.epoch && e.member === p.member)) {
    const steps = Math.max(1, p.steps);
    train.push([x(p.epoch, p.member) - 1 + p.step / steps, p.trainLoss]);
  }
  return { train, validation };
}

export const STATE_LABELS: Readonly<Record<TrainJob['state'], string>> = {
  preparing: 'Preparing data',
  training: 'Training',
  evaluating: 'Evaluating',
  finished: 'Finished',
  failed: 'Failed',
  cancelled: 'Cancelled',
};
