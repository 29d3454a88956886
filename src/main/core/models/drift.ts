import type { MetricName } from '@shared/contract';
import type { CurrentPredictions, ModelEvaluation } from '@shared/domain';
import type { MetricsStore } from '../store';

/**
 * Automatic retraining's two rules (issue 8, item 4):
 *   - drift: the live forecast error over a recent window has risen past a threshold relative to
 *     the error measured right after the model became active, or the fleet has profiles the
 *     model never trained on;
 *   - replace only if better: a retrained model replaces the active one only when it beats it on
 *     the same evaluation fleets.
 */

export interface DriftRules {
  /** Recent error / reference error above 1 + this is drift (0.5: 50 % worse). */
  errorRiseThreshold: number;
  /** Forecasts a window needs before it counts (reference and recent alike). */
  minForecasts: number;
}

export const DEFAULT_DRIFT_RULES: DriftRules = { errorRiseThreshold: 0.5, minForecasts: 50 };

export interface DriftInput {
  /** Mean scaled forecast error of the first window after activation (null: not measured yet). */
  referenceError: number | null;
  referenceCount: number;
  /** Mean scaled forecast error of the recent window. */
  recentError: number | null;
  recentCount: number;
  /** Profiles present in the fleet that the active model never trained on. */
  newProfiles: readonly string[];
}

export interface DriftAssessment {
  drift: boolean;
  reasons: string[];
  /** recent / reference, when both are measured. */
  ratio: number | null;
}

export function assessDrift(input: DriftInput, rules: DriftRules = DEFAULT_DRIFT_RULES): DriftAssessment {
  const reasons: string[] = [];
  let ratio: number | null = null;
  if (
    input.referenceError !== null &&
    input.recentError !== null &&
    input.referenceCount >= rules.minForecasts &&
    input.recentCount >= rules.minForecasts
  ) {
    // A perfect reference (0) would make any error infinite drift: floor it.
    ratio = input.recentError / Math.max(input.referenceError, 1e-6);
    if (ratio > 1 + rules.errorRiseThreshold)
      reasons.push(
        `forecast error rose to ${input.recentError.toFixed(3)} from ${input.referenceError.toFixed(3)} (x${ratio.toFixed(2)}, threshold x${(1 + rules.errorRiseThreshold).toFixed(2)})`,
      );
  }
  if (input.newProfiles.length > 0) reasons.push(`profiles the model never trained on: ${[...input.newProfiles].sort().join(', ')}`);
  return { drift: reasons.length > 0, reasons, ratio };
}

export interface ReplaceRules {
  /** The candidate's primary figure must beat the active one's by at least this much. */
  minImprovement: number;
  /** And may raise false alarms per server-day by at most this much. */
  maxFalseAlarmIncrease: number;
}

export const DEFAULT_REPLACE_RULES: ReplaceRules = { minImprovement: 0.005, maxFalseAlarmIncrease: 0.05 };

export interface ReplaceDecision {
  replace: boolean;
  reason: string;
}

/**
 * Replace only if better, on the same fleets: the risk AUPRC decides (AUROC when the fleet had no
 * positive point for AUPRC), by at least `minImprovement`, without more than
 * `maxFalseAlarmIncrease` extra false alarms per server-day. Without the active model's figures,
 * or without the candidate's, nothing is replaced: no evidence, no change.
 */
export function shouldReplace(
  candidate: ModelEvaluation | null,
  active: ModelEvaluation | null,
  rules: ReplaceRules = DEFAULT_REPLACE_RULES,
): ReplaceDecision {
  const c = candidate?.methods['model'];
  const a = active?.methods['model'];
  if (!c) return { replace: false, reason: 'the new model has no evaluation: kept the active model' };
  if (!a) return { replace: false, reason: 'the active model could not be evaluated on the same fleets: kept it' };
  const pick = (m: typeof c): { name: string; value: number } | null =>
    m.auprc !== null ? { name: 'AUPRC', value: m.auprc } : m.auroc !== null ? { name: 'AUROC', value: m.auroc } : null;
  const cf = pick(c);
  const af = a.auprc !== null && cf?.name === 'AUPRC' ? { name: 'AUPRC', value: a.auprc } : a.auroc !== null && cf?.name === 'AUROC' ? { name: 'AUROC', value: a.auroc } : null;
  if (!cf || !af) return { replace: false, reason: 'no comparable risk figure (AUPRC or AUROC) on the evaluation fleet: kept the active model' };
  const gain = cf.value - af.value;
  if (gain < rules.minImprovement)
    return {
      replace: false,
      reason: `the new model's ${cf.name} ${cf.value.toFixed(3)} does not beat the active one's ${af.value.toFixed(3)} by ${rules.minImprovement}: kept the active model`,
    };
  const faC = c.falseAlarmsPerServerDay ?? 0;
  const faA = a.falseAlarmsPerServerDay ?? 0;
  if (faC - faA > rules.maxFalseAlarmIncrease)
    return {
      replace: false,
      reason: `the new model's ${cf.name} is better (${cf.value.toFixed(3)} vs ${af.value.toFixed(3)}) but it raises false alarms to ${faC.toFixed(3)} per server-day from ${faA.toFixed(3)}: kept the active model`,
    };
  return { replace: true, reason: `the new model's ${cf.name} ${cf.value.toFixed(3)} beats the active one's ${af.value.toFixed(3)}` };
}

interface PendingForecast {
  server: string;
  metric: MetricName;
  /** End of the forecast step (ms). */
  time: number;
  stepMs: number;
  p50: number;
}

/**
 * The live forecast error: the P50 forecasts of each prediction cycle (the first `leadSteps` steps
 * of the horizon) are kept until the store has the samples they forecast, then scored with a
 * bounded relative error |f - a| / (|f| + |a| + eps) in [0, 1], comparable across metrics and
 * units. The first `minForecasts` scored after a model is activated are its reference; the
 * latest `window` are the recent error.
 */
export class ForecastErrorTracker {
  private pending: PendingForecast[] = [];
  private reference: number[] = [];
  private recent: number[] = [];
  private modelRef: string | null = null;

  constructor(
    private readonly options: { window: number; minForecasts: number; leadSteps: number; maxServers: number } = {
      window: 500,
      minForecasts: DEFAULT_DRIFT_RULES.minForecasts,
      leadSteps: 2,
      maxServers: 50,
    },
  ) {}

  /** A new prediction cycle: its forecasts join the pending ones. A new model starts a new reference. */
  record(current: CurrentPredictions): void {
    if (!current.model || current.time === null || current.horizon.times.length === 0) return;
    const ref = `${current.model.name}@${current.model.version}`;
    if (ref !== this.modelRef) this.reset(ref);
    const stepMs = current.horizon.stepMinutes * 60_000;
    const times = current.horizon.times.slice(0, this.options.leadSteps).map((t) => Date.parse(t));
    const known = new Set(this.pending.map((p) => `${p.server}|${p.metric}|${p.time}`));
    for (const s of current.servers.slice(0, this.options.maxServers)) {
      for (const band of s.forecast) {
        times.forEach((time, k) => {
          const p50 = band.p50[k];
          if (p50 === undefined || !Number.isFinite(p50)) return;
          const key = `${s.server}|${band.metric}|${time}`;
          if (known.has(key)) return;
          known.add(key);
          this.pending.push({ server: s.server, metric: band.metric, time, stepMs, p50 });
        });
      }
    }
  }

  /** Scores the pending forecasts whose step the store has seen (newest sample at `newestMs`). */
  resolve(store: MetricsStore, newestMs: number): void {
    const due = this.pending.filter((p) => p.time <= newestMs);
    this.pending = this.pending.filter((p) => p.time > newestMs);
    const byServer = new Map<string, PendingForecast[]>();
    for (const p of due) {
      const list = byServer.get(p.server);
      if (list) list.push(p);
      else byServer.set(p.server, [p]);
    }
    for (const [server, list] of byServer) {
      const from = Math.min(...list.map((p) => p.time - p.stepMs));
      const to = Math.max(...list.map((p) => p.time)) + 1;
      const samples = store.querySamples(server, from, to);
      for (const p of list) {
        const col = samples.metrics[p.metric];
        let sum = 0;
        let n = 0;
        for (let i = 0; i < samples.length; i++) {
          const t = samples.timestamp[i]!;
          if (t > p.time - p.stepMs && t <= p.time && col.present[i]) {
            sum += col.values[i]!;
            n++;
          }
        }
        if (n === 0) continue;
        const actual = sum / n;
        this.add(Math.abs(p.p50 - actual) / (Math.abs(p.p50) + Math.abs(actual) + 1e-6));
      }
    }
  }

  /** Adds one scored error (what resolve does for each forecast; tests feed it directly). */
  add(error: number): void {
    if (this.reference.length < this.options.minForecasts) this.reference.push(error);
    else {
      this.recent.push(error);
      if (this.recent.length > this.options.window) this.recent.splice(0, this.recent.length - this.options.window);
    }
  }

  reset(modelRef: string | null = null): void {
    this.modelRef = modelRef;
    this.pending = [];
    this.reference = [];
    this.recent = [];
  }

  snapshot(): Pick<DriftInput, 'referenceError' | 'referenceCount' | 'recentError' | 'recentCount'> & { pending: number } {
    const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
    return {
      referenceError: mean(this.reference),
      referenceCount: this.reference.length,
      recentError: mean(this.recent),
      recentCount: this.recent.length,
      pending: this.pending.length,
    };
  }
}
