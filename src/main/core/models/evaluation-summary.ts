import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelEvaluationSchema, type ModelEvaluation } from '@shared/domain';
import { EVALUATE_DEFAULTS, runEvaluation, type EvaluationReport } from '../eval/evaluate';
import { writeFileAtomic } from '../util/atomic-write';

/** Beside model.json in a model folder the app trained: its evaluation and the job that made it. */
export const EVALUATION_FILE = 'evaluation.json';

/** The figures the Models and Training views show, from the `evaluate` report. */
export function summarizeReport(report: EvaluationReport): ModelEvaluation {
  const methods: ModelEvaluation['methods'] = {};
  for (const [name, m] of Object.entries(report.methods)) {
    methods[name] = {
      auroc: m.auroc,
      auprc: m.auprc,
      recall: m.recall.all.recall,
      falseAlarmsPerServerDay: m.falseAlarmsPerServerDay,
      leadTimeHoursMedian: m.leadTimeHours.median,
    };
  }
  const e = report.fleets.evaluation;
  return {
    createdAt: report.createdAt,
    fleet: { servers: e.servers, days: e.days, incidents: e.scoredIncidents, points: e.points },
    methods,
    goalsMet: report.goals.filter((g) => g.met).length,
    goalsTotal: report.goals.length,
    seconds: report.seconds,
  };
}

/**
 * The evaluate command's code path on a small fleet (servers x days, both the validation and the
 * evaluation fleet, the CLI's seeds): quick enough to run after every training job.
 */
export async function evaluateModel(
  modelDir: string,
  options: { servers: number; days: number; signal?: AbortSignal; now?: () => Date },
): Promise<ModelEvaluation> {
  const report = await runEvaluation({
    modelDir,
    servers: options.servers,
    days: options.days,
    seedValidation: EVALUATE_DEFAULTS.seedValidation,
    seedEval: EVALUATE_DEFAULTS.seedEval,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  if (options.signal?.aborted) throw new Error('evaluation cancelled');
  return summarizeReport(report);
}

export interface EvaluationFile {
  job: string | null;
  evaluation: ModelEvaluation;
}

export function writeEvaluationFile(dir: string, content: EvaluationFile): void {
  writeFileAtomic(join(dir, EVALUATION_FILE), `${JSON.stringify(content, null, 2)}\n`);
}

/** The folder's evaluation.json, or null when there is none or it does not parse. */
export function readEvaluationFile(dir: string): EvaluationFile | null {
  const path = join(dir, EVALUATION_FILE);
  if (!existsSync(path)) return null;
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as { job?: unknown; evaluation?: unknown };
    const parsed = ModelEvaluationSchema.safeParse(json.evaluation);
    if (!parsed.success) return null;
    return { job: typeof json.job === 'string' ? json.job : null, evaluation: parsed.data };
  } catch {
    return null;
  }
}
