import { ApiError, type EventBus } from '@shared/contract';
import { TrainSettingsSchema, type CurrentPredictions, type TrainJob, type TrainSettings, type TrainTrigger } from '@shared/domain';
import { verifyModelFolder } from '../model/folder';
import type { MetricsStore } from '../store';
import type { Logger } from '../util/logger';
import {
  assessDrift,
  DEFAULT_DRIFT_RULES,
  DEFAULT_REPLACE_RULES,
  ForecastErrorTracker,
  shouldReplace,
  type DriftAssessment,
  type DriftRules,
  type ReplaceRules,
} from './drift';
import type { ModelManager } from './model-manager';
import type { TrainingJobs } from './training-jobs';

/** Automatic retraining (issue 8, item 4): off unless the core is given this. */
export interface RetrainingConfig {
  /** Assess drift after every this many prediction cycles (default 12). */
  checkEveryCycles?: number;
  /** Also retrain on this schedule (ms); absent or 0: only on drift. */
  intervalMs?: number;
  /** Days of the store's most recent data each run trains on (default 3). */
  days?: number;
  /** Training settings of automatic runs (the wizard's defaults otherwise). */
  settings?: Partial<TrainSettings>;
  drift?: Partial<DriftRules>;
  replace?: Partial<ReplaceRules>;
  /** At least this long between two automatic runs (default 6 h of wall time). */
  cooldownMs?: number;
}

export interface RetrainingStatus {
  lastCheckAt: string | null;
  lastAssessment: DriftAssessment | null;
  /** The last automatic run: its job, or why none could start. */
  lastRun: { at: string; trigger: TrainTrigger; job: string | null; skipped: string | null } | null;
}

/**
 * Watches the live forecast error (ForecastErrorTracker, fed by every prediction cycle) and the
 * fleet's profiles; on drift, or on its schedule, trains a model on the store's recent data (one
 * training job, the wizard's code path), and when it is evaluated activates it only if it beats the
 * active model on the same fleets (shouldReplace). Every run leaves its job record, with the
 * trigger and the decision in it.
 */
export class RetrainingMonitor {
  private readonly tracker: ForecastErrorTracker;
  private readonly rules: DriftRules;
  private readonly replaceRules: ReplaceRules;
  private cycles = 0;
  private lastStartedAt = -Infinity;
  private readonly status: RetrainingStatus = { lastCheckAt: null, lastAssessment: null, lastRun: null };
  private readonly disposers: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | null = null;
  private readonly profilesByDir = new Map<string, string[]>();

  constructor(
    private readonly options: {
      config: RetrainingConfig;
      store: MetricsStore;
      events: EventBus;
      logger: Logger;
      jobs: TrainingJobs;
      models: ModelManager;
      current: () => CurrentPredictions;
      /** The fleet clock (ms): the end of the data a run trains on. */
      fleetTime: () => number;
      /** Wall clock (ms), for the cooldown. */
      now?: () => number;
    },
  ) {
    this.rules = { ...DEFAULT_DRIFT_RULES, ...options.config.drift };
    this.replaceRules = { ...DEFAULT_REPLACE_RULES, ...options.config.replace };
    this.tracker = new ForecastErrorTracker({ window: 500, minForecasts: this.rules.minForecasts, leadSteps: 2, maxServers: 50 });
  }

  start(): void {
    const every = this.options.config.checkEveryCycles ?? 12;
    this.disposers.push(
      this.options.events.on('predictions.updated', () => {
        try {
          this.tracker.record(this.options.current());
          const newest = this.options.store.fleetSummary(this.options.fleetTime()).newestSampleTs;
          if (newest !== null) this.tracker.resolve(this.options.store, newest);
        } catch (error) {
          this.options.logger.warn('retraining: the forecast error could not be measured', { error });
        }
        this.cycles++;
        if (this.cycles % every === 0 && !this.checking) {
          this.checking = this.check()
            .then(
              () => undefined,
              (error: unknown) => this.options.logger.warn('retraining: the drift check failed', { error }),
            )
            .finally(() => {
              this.checking = null;
            });
        }
      }),
    );
    this.disposers.push(this.options.jobs.onFinished((job) => this.decide(job)));
    const interval = this.options.config.intervalMs ?? 0;
    if (interval > 0) {
      this.timer = setInterval(() => this.trigger({ kind: 'schedule', reason: `every ${Math.round(interval / 60_000)} min` }), interval);
      this.timer.unref();
    }
  }

  stop(): void {
    for (const dispose of this.disposers.splice(0)) dispose();
    if (this.timer) clearInterval(this.timer);
  }

  getStatus(): RetrainingStatus {
    return structuredClone(this.status);
  }

  /** Assesses drift now; starts a run when there is drift (and no cooldown or job stands in the way). */
  async check(): Promise<DriftAssessment> {
    const assessment = assessDrift({ ...this.tracker.snapshot(), newProfiles: await this.newProfiles() }, this.rules);
    this.status.lastCheckAt = new Date(this.now()).toISOString();
    this.status.lastAssessment = assessment;
    if (assessment.drift) this.trigger({ kind: 'drift', reason: assessment.reasons.join('; ') });
    return assessment;
  }

  /** Starts an automatic run on the store's recent data; returns its job, or null with the reason recorded. */
  trigger(trigger: TrainTrigger): TrainJob | null {
    const at = new Date(this.now()).toISOString();
    const cooldown = this.options.config.cooldownMs ?? 6 * 3_600_000;
    const skip = (why: string): null => {
      this.status.lastRun = { at, trigger, job: null, skipped: why };
      this.options.logger.info('retraining: not started', { trigger: trigger.kind, why });
      return null;
    };
    if (this.now() - this.lastStartedAt < cooldown) return skip('an automatic run started less than the cooldown ago');
    if (this.options.jobs.runningId() !== null) return skip('a training job is running');
    const end = this.options.fleetTime();
    const days = this.options.config.days ?? 3;
    const settings = TrainSettingsSchema.parse(this.options.config.settings ?? {});
    try {
      const job = this.options.jobs.start(
        { kind: 'store', from: new Date(end - days * 86_400_000).toISOString(), to: new Date(end + 1).toISOString() },
        settings,
        trigger,
      );
      this.lastStartedAt = this.now();
      this.status.lastRun = { at, trigger, job: job.id, skipped: null };
      this.options.logger.info('retraining: started', { job: job.id, trigger: trigger.kind, reason: trigger.reason });
      return job;
    } catch (error) {
      return skip(error instanceof ApiError || error instanceof Error ? error.message : String(error));
    }
  }

  /** Replace only if better: an automatic run's model becomes active only when it beats the active one. */
  private async decide(job: TrainJob): Promise<void> {
    if (job.trigger.kind === 'user' || !job.model) return;
    const decision = shouldReplace(job.evaluation, job.activeEvaluation?.evaluation ?? null, this.replaceRules);
    let replaced = false;
    let reason = decision.reason;
    if (decision.replace) {
      try {
        await this.options.models.activate({ name: job.model.id });
        replaced = true;
        this.tracker.reset();
      } catch (error) {
        reason = `${decision.reason}, but it could not be activated: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    this.options.jobs.setDecision(job.id, { replaced, reason });
    this.options.logger.info('retraining: decided', { job: job.id, replaced, reason });
  }

  /** Profiles in the store that the active model never trained on. */
  private async newProfiles(): Promise<string[]> {
    const dir = this.options.models.activeDir();
    if (dir === null) return [];
    let trained = this.profilesByDir.get(dir);
    if (!trained) {
      try {
        trained = [...(await verifyModelFolder(dir)).manifest.training.dataset.profiles];
      } catch {
        return [];
      }
      this.profilesByDir.set(dir, trained);
    }
    const known = new Set(trained);
    const since = this.options.fleetTime() - (this.options.config.days ?? 3) * 86_400_000;
    const present = new Set(this.options.store.listServers().filter((s) => s.lastSeen >= since).map((s) => s.profile));
    return [...present].filter((p) => !known.has(p)).sort();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}
