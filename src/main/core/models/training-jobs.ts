import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ApiError, type EventBus } from '@shared/contract';
import {
  TrainJobSchema,
  type DataCheck,
  type ModelEvaluation,
  type TrainData,
  type TrainJob,
  type TrainSettings,
  type TrainTrigger,
} from '@shared/domain';
import { MemberTracker, startTraining, TrainingCancelled, type TrainingHandle, type TrainWorkerFactory } from '../model/train';
import type { MetricsStore } from '../store';
import { writeFileAtomic } from '../util/atomic-write';
import type { Logger } from '../util/logger';
import { evaluateModel, writeEvaluationFile } from './evaluation-summary';
import { DataSourceError, prepareData, writeDataset, type PreparedData } from './training-data-source';

const USER_TRIGGER: TrainTrigger = { kind: 'user', reason: 'started from the app or the API' };

/** Hidden folders under models/: the registry skips them, so they never list as models. */
export const JOBS_DIR = '.jobs';
export const STAGING_DIR = '.staging';
/** Records kept (newest); older ones are removed. */
const MAX_JOBS = 50;
/** Progress events at most this often (every epoch end is sent regardless). */
const PROGRESS_EVERY_MS = 250;

/** Model sizes (hidden units, attention heads, per-variable hidden units). */
export const MODEL_SIZE_HYPER = {
  small: { hidden: 8, heads: 2, variableHidden: 4 },
  medium: { hidden: 16, heads: 4, variableHidden: 8 },
  large: { hidden: 24, heads: 4, variableHidden: 8 },
} as const satisfies Record<TrainSettings['size'], { hidden: number; heads: number; variableHidden: number }>;

export interface ActiveForComparison {
  id: string;
  dir: string;
  name: string;
  version: string;
}

export interface TrainingJobsOptions {
  /** `<dataDir>/models`: finished model folders land here. */
  modelsRoot: string;
  /** Starts the training worker (bundledTrainWorker in the app); null: training is unavailable here. */
  worker: TrainWorkerFactory | null;
  store: MetricsStore | null;
  events: EventBus;
  logger: Logger;
  /** The model serving when a job ends: evaluated on the same fleets for the comparison. */
  activeModel: () => ActiveForComparison | null;
  /** A finished job added a model folder. */
  onModelAdded: (id: string) => void;
  /** The fleet's topology where a source knows it (the simulator): written with the store's data. */
  dependencies?: () => ReadonlyMap<string, string>;
  now?: () => Date;
  /** How long cancel lets the worker stop by itself before terminating it (default 10 s). */
  cancelGraceMs?: number;
}

interface Running {
  job: TrainJob;
  controller: AbortController;
  handle: TrainingHandle | null;
  finished: Promise<void>;
}

/**
 * Training jobs from the app (model.train): one at a time, on the training worker thread, the
 * CLI's code path (dataset folder -> runTraining -> model folder), then the evaluate code path on
 * a small fleet. Everything a job writes goes to `models/.staging/<job>/` (dataset, model folder,
 * evaluation); only a complete, evaluated model folder is renamed into `models/` in one step, so a
 * cancel or a failure at any moment leaves no model folder, half-written or whole. Every job
 * leaves a record in `models/.jobs/<job>.json`.
 */
export class TrainingJobs {
  private readonly jobs = new Map<string, TrainJob>();
  private readonly finishedListeners = new Set<(job: TrainJob) => Promise<void> | void>();
  private running: Running | null = null;
  private readonly jobsDir: string;
  private readonly stagingRoot: string;
  private closed = false;

  constructor(private readonly options: TrainingJobsOptions) {
    this.jobsDir = join(options.modelsRoot, JOBS_DIR);
    this.stagingRoot = join(options.modelsRoot, STAGING_DIR);
    this.loadRecords();
    // Staging left by a process that died mid-job: never a model, always safe to remove.
    rmSync(this.stagingRoot, { recursive: true, force: true });
  }

  get available(): boolean {
    return this.options.worker !== null;
  }

  list(): TrainJob[] {
    return [...this.jobs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  get(id: string): TrainJob | undefined {
    return this.jobs.get(id);
  }

  runningId(): string | null {
    return this.running?.job.id ?? null;
  }

  /** The data check of model.check (and of model.train before it starts). */
  check(data: TrainData): DataCheck {
    return this.prepare(data).check;
  }

  /**
   * Starts a job; returns its record at once (state `preparing`). Conflict while another runs;
   * invalid_input naming the field when the data cannot be trained on.
   */
  start(data: TrainData, settings: TrainSettings, trigger: TrainTrigger = USER_TRIGGER): TrainJob {
    const worker = this.options.worker;
    if (worker === null)
      throw new ApiError('unavailable', 'training is not available in this runtime (no training worker)');
    if (this.closed) throw new ApiError('unavailable', 'the core is closing');
    if (this.running)
      throw new ApiError(
        'conflict',
        `training job ${this.running.job.id} is still running: one training job at a time (cancel it with model.cancel)`,
      );
    const prepared = this.prepare(data);
    if (!prepared.check.ok)
      throw new ApiError('invalid_input', `data: ${prepared.check.problems.join('; ')}`, [
        { path: 'data', message: prepared.check.problems.join('; ') },
      ]);
    const now = this.now();
    const id = `job-${stamp(now)}-${randomBytes(3).toString('hex')}`;
    const job: TrainJob = {
      id,
      trigger,
      decision: null,
      state: 'preparing',
      detail: 'writing the dataset',
      createdAt: now.toISOString(),
      endedAt: null,
      durationMs: null,
      data,
      settings,
      check: prepared.check,
      progress: null,
      epochs: [],
      model: null,
      evaluation: null,
      activeEvaluation: null,
      error: null,
    };
    this.jobs.set(id, job);
    const controller = new AbortController();
    const running: Running = { job, controller, handle: null, finished: Promise.resolve() };
    this.running = running;
    this.save(job);
    this.options.events.emit('model.progress', job);
    running.finished = this.run(running, worker, prepared).finally(() => {
      if (this.running === running) this.running = null;
    });
    return { ...job };
  }

  /** Cancels a running job; resolves with its record once nothing of it is left but the record. */
  async cancel(id: string): Promise<TrainJob> {
    const job = this.jobs.get(id);
    if (!job) throw new ApiError('not_found', `no training job "${id}"`);
    const running = this.running;
    if (!running || running.job.id !== id)
      throw new ApiError('conflict', `training job ${id} is not running (it is ${job.state})`);
    running.controller.abort('cancelled by the user');
    await running.handle?.cancel('cancelled by the user');
    await running.finished;
    return { ...this.jobs.get(id)! };
  }

  /** Called with every job that finished (a model folder was written), before the job counts as ended. */
  onFinished(listener: (job: TrainJob) => Promise<void> | void): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  /** Records what automatic retraining decided about a finished job's model. */
  setDecision(id: string, decision: NonNullable<TrainJob['decision']>): void {
    const job = this.jobs.get(id);
    if (!job) return;
    job.decision = decision;
    this.save(job);
    this.options.events.emit('model.progress', { ...job });
  }

  /** Resolves when no job is running (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running.finished;
  }

  async close(): Promise<void> {
    this.closed = true;
    const running = this.running;
    if (running) await this.cancel(running.job.id).catch(() => undefined);
  }

  private prepare(data: TrainData): PreparedData {
    try {
      return prepareData(data, this.options.store, this.options.dependencies);
    } catch (error) {
      if (error instanceof DataSourceError)
        throw new ApiError('invalid_input', error.message, [{ path: error.field, message: error.message }]);
      throw error;
    }
  }

  private async run(running: Running, worker: TrainWorkerFactory, prepared: PreparedData): Promise<void> {
    const { job, controller } = running;
    const signal = controller.signal;
    const { logger, events } = this.options;
    const started = performance.now();
    const staging = join(this.stagingRoot, job.id);
    let lastEmit = 0;
    const update = (patch: Partial<TrainJob>, force = true): void => {
      Object.assign(job, patch);
      const t = performance.now();
      if (!force && t - lastEmit < PROGRESS_EVERY_MS) return;
      lastEmit = t;
      events.emit('model.progress', { ...job });
    };
    const cancelled = (): void => {
      if (signal.aborted) throw new TrainingCancelled('cancelled by the user');
    };
    try {
      const datasetDir = await writeDataset(join(staging, 'dataset'), prepared);
      cancelled();
      update({ state: 'training', detail: 'starting the training worker' });
      this.save(job);
      const s = job.settings;
      const members = s.members;
      const track = new MemberTracker(members);
      const handle = startTraining(
        worker,
        {
          kind: 'new',
          request: {
            dataset: datasetDir,
            output: join(staging, 'out'),
            epochs: s.epochs,
            patience: s.patience,
            batchSize: s.batchSize,
            maxWindowsPerEpoch: s.maxWindowsPerEpoch,
            maxValidationWindows: Math.max(64, s.maxWindowsPerEpoch),
            // Two or more seeds: an ensemble of that many TFTs, one graph averaging them.
            ...(members > 1 ? { seeds: ensembleSeeds(s.seed, members) } : { seed: s.seed }),
            hyper: { ...MODEL_SIZE_HYPER[s.size] },
            checkpoints: false,
          },
          now: this.now().toISOString(),
        },
        {
          ...(this.options.cancelGraceMs === undefined ? {} : { cancelGraceMs: this.options.cancelGraceMs }),
          onEvent: (e) => {
            if (e.type === 'dataset') {
              track.memberStarted(performance.now());
              update({
                detail: `${track.prefix(e.member)}${e.stats.servers} servers; ${e.stats.train.windows} training and ${e.stats.validation.windows} validation windows`,
              });
            } else if (e.type === 'member') {
              track.memberFinished(performance.now());
              if (members > 1) {
                update({ detail: `member ${e.member + 1} of ${members} done (${e.epochsRun} epochs)` });
                this.save(job);
              }
            } else if (e.type === 'progress') {
              const p = e.progress;
              const ensemble = members > 1;
              const progress = {
                phase: p.phase,
                epoch: p.epoch,
                epochs: p.epochs,
                step: p.step,
                steps: p.steps,
                trainLoss: finiteOrNull(p.trainLoss),
                validationLoss: finiteOrNull(p.validationLoss),
                samplesPerSec: finiteOrNull(p.samplesPerSec) ?? 0,
                // The member's own ETA, plus the members after it (as long as those before took).
                etaSeconds: track.eta(e.member, finiteOrNull(p.etaSeconds), performance.now()),
                backend: p.backend,
                ...(ensemble ? { member: e.member + 1, members } : {}),
              };
              const prefix = track.prefix(e.member);
              if (p.phase === 'validation') {
                // The epoch counter restarts with each member: a point is one member's epoch.
                const member = ensemble ? e.member + 1 : undefined;
                const epochs = job.epochs.filter((x) => x.epoch !== p.epoch || x.member !== member);
                epochs.push({
                  epoch: p.epoch,
                  ...(member === undefined ? {} : { member }),
                  trainLoss: finiteOrNull(p.trainLoss),
                  validationLoss: finiteOrNull(p.validationLoss),
                });
                update({ progress, epochs, detail: `${prefix}epoch ${p.epoch} of ${p.epochs} done` });
                this.save(job);
              } else update({ progress, detail: `${prefix}epoch ${p.epoch} of ${p.epochs}, step ${p.step} of ${p.steps}` }, false);
            }
          },
        },
      );
      running.handle = handle;
      if (signal.aborted) void handle.cancel('cancelled by the user');
      const summary = await handle.done;
      cancelled();
      const stagedDir = summary.dir;
      const folder = basename(stagedDir);
      const manifest = summary.manifest;

      let evaluation: ModelEvaluation | null = null;
      let activeEvaluation: TrainJob['activeEvaluation'] = null;
      if (job.settings.evaluate) {
        update({ state: 'evaluating', detail: `evaluating ${manifest.version} on ${s.evaluationServers} unseen servers x ${s.evaluationDays} days` });
        this.save(job);
        const evalOptions = { servers: s.evaluationServers, days: s.evaluationDays, signal, now: () => this.now() };
        evaluation = await evaluateModel(stagedDir, evalOptions);
        cancelled();
        const active = this.options.activeModel();
        if (active) {
          update({ evaluation, detail: `evaluating the active model ${active.version} on the same fleets` });
          try {
            activeEvaluation = { id: active.id, name: active.name, version: active.version, evaluation: await evaluateModel(active.dir, evalOptions) };
          } catch (error) {
            cancelled();
            logger.warn('training job: the active model could not be evaluated', { job: job.id, error });
          }
          cancelled();
        }
        writeEvaluationFile(stagedDir, { job: job.id, evaluation });
      }
      cancelled();
      // The one step that makes it a model: a complete, evaluated folder renamed into models/.
      const target = join(this.options.modelsRoot, folder);
      if (existsSync(target)) throw new Error(`models/${folder} already exists; nothing was replaced`);
      await rename(stagedDir, target);
      rmSync(staging, { recursive: true, force: true });
      const ended = this.now();
      update({
        state: 'finished',
        detail: `wrote models/${folder}`,
        model: { id: folder, dir: target, name: manifest.name, version: manifest.version },
        evaluation,
        activeEvaluation,
        endedAt: ended.toISOString(),
        durationMs: Math.round(performance.now() - started),
      });
      this.save(job);
      logger.info('training job finished', { job: job.id, model: target, ms: job.durationMs });
      this.options.onModelAdded(folder);
      for (const listener of [...this.finishedListeners]) {
        try {
          await listener({ ...job });
        } catch (error) {
          logger.error('training job: a listener failed', { job: job.id, error });
        }
      }
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      const wasCancelled = signal.aborted || error instanceof TrainingCancelled;
      const message = error instanceof Error ? error.message : String(error);
      update({
        state: wasCancelled ? 'cancelled' : 'failed',
        detail: wasCancelled ? 'cancelled: no model was written' : `failed: ${message}`,
        error: wasCancelled ? null : message,
        endedAt: this.now().toISOString(),
        durationMs: Math.round(performance.now() - started),
      });
      this.save(job);
      if (wasCancelled) logger.info('training job cancelled', { job: job.id });
      else logger.error('training job failed', { job: job.id, error });
    }
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private save(job: TrainJob): void {
    try {
      mkdirSync(this.jobsDir, { recursive: true });
      writeFileAtomic(join(this.jobsDir, `${job.id}.json`), `${JSON.stringify(job, null, 2)}\n`);
    } catch (error) {
      this.options.logger.warn('training job record could not be written', { job: job.id, error });
    }
  }

  /** Past jobs from their records; one that was running when the process stopped is marked failed. */
  private loadRecords(): void {
    let names: string[];
    try {
      names = readdirSync(this.jobsDir).filter((n) => n.endsWith('.json'));
    } catch {
      return;
    }
    const loaded: TrainJob[] = [];
    for (const name of names) {
      try {
        const parsed = TrainJobSchema.safeParse(JSON.parse(readFileSync(join(this.jobsDir, name), 'utf8')));
        if (!parsed.success) continue;
        const job = parsed.data;
        if (job.state === 'preparing' || job.state === 'training' || job.state === 'evaluating') {
          Object.assign(job, {
            state: 'failed',
            detail: 'interrupted: the app stopped while it ran; no model was written',
            error: 'interrupted: the app stopped while it ran',
            endedAt: job.endedAt ?? job.createdAt,
          });
          this.save(job);
        }
        loaded.push(job);
      } catch {
        // An unreadable record is skipped, not fatal.
      }
    }
    loaded.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    for (const old of loaded.slice(MAX_JOBS)) rmSync(join(this.jobsDir, `${old.id}.json`), { force: true });
    for (const job of loaded.slice(0, MAX_JOBS)) this.jobs.set(job.id, job);
  }
}

/** An ensemble's seeds: the settings' seed, then the next ones (distinct, as the request needs). */
export function ensembleSeeds(seed: number, members: number): number[] {
  return Array.from({ length: members }, (_, i) => seed + i);
}

/** JSON has no NaN or Infinity: they travel as null. */
function finiteOrNull(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '').slice(0, 14);
}
