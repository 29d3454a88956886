import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EVALUATE_DEFAULTS, runEvaluation, type EvaluationReport } from '../core/eval/evaluate';
import { renderReportHtml } from '../core/eval/report-html';
import { writeFileAtomic } from '../core/util/atomic-write';
import { createProgressBar, type ProgressBar } from './progress';
import { UsageError } from './usage-error';

export const EVALUATE_USAGE = `Usage: npm run evaluate -- --model DIR --output reports/NAME/ [options]

The early-warning benchmark (../shared/EVALUATION.md): simulates a validation fleet and an
evaluation fleet of servers the model never saw (seeds other than the training seed), scores
every point (every 30 min after each server's first 24 h) with the model's risk and with the
baselines (reactive, predict_linear 1 h / 6 h, seasonal naive, Holt), chooses each method's
alert threshold on the validation fleet (at most 1 false alarm per server-week), freezes it,
and reports on the evaluation fleet: AUROC, AUPRC, Brier, calibration, incident recall, lead
times, false alarms, forecast pinball loss and MASE, and whether each goal is met.
Writes OUTPUT/report.json and OUTPUT/report.html (self-contained).

Options:
  --model DIR            model folder (default resources/models/default)
  --output DIR           where report.json and report.html go (required)
  --servers N            servers per fleet (default ${EVALUATE_DEFAULTS.servers})
  --days N               days per fleet (default ${EVALUATE_DEFAULTS.days})
  --seed-validation S    validation fleet seed (default ${EVALUATE_DEFAULTS.seedValidation})
  --seed-eval S          evaluation fleet seed (default ${EVALUATE_DEFAULTS.seedEval})
  -h, --help             this text

Ctrl-C stops; nothing is written.
`;

export interface EvaluateCommandIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
  signal?: AbortSignal;
  now?: () => Date;
}

function intOption(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag} must be a whole number in [${min}, ${max}], got "${text}"`);
  return n;
}

export async function evaluateCommand(argv: string[], io: EvaluateCommandIo = {}): Promise<EvaluationReport | null> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      model: { type: 'string' },
      output: { type: 'string' },
      servers: { type: 'string' },
      days: { type: 'string' },
      'seed-validation': { type: 'string' },
      'seed-eval': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    stdout.write(EVALUATE_USAGE);
    return null;
  }
  if (values.output === undefined) throw new UsageError(`--output is required\n\n${EVALUATE_USAGE}`);
  const servers = intOption('--servers', values.servers, 1, 5000);
  const days = intOption('--days', values.days, 2, 365);
  const seedValidation = values['seed-validation'];
  const seedEval = values['seed-eval'];
  if (seedValidation !== undefined && seedEval !== undefined && seedValidation === seedEval)
    throw new UsageError(
      '--seed-validation and --seed-eval must differ: thresholds are never tuned on the evaluation fleet',
    );
  const output = resolve(values.output);
  const modelDir = resolve(values.model ?? 'resources/models/default');

  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new Error('interrupted (SIGINT)'));
  const ownSignal = io.signal === undefined;
  if (ownSignal) process.once('SIGINT', onSigint);
  const signal = io.signal ?? controller.signal;

  let bar: ProgressBar | null = null;
  let label = '';
  try {
    const report = await runEvaluation({
      modelDir,
      ...(servers === undefined ? {} : { servers }),
      ...(days === undefined ? {} : { days }),
      ...(seedValidation === undefined ? {} : { seedValidation }),
      ...(seedEval === undefined ? {} : { seedEval }),
      signal,
      ...(io.now ? { now: io.now } : {}),
      onPhase: (phase, done, total) => {
        if (phase !== label) {
          bar?.done();
          label = phase;
          bar = createProgressBar({
            label: phase,
            total,
            unit: phase.startsWith('score') ? 'windows' : 'steps',
            stream: stderr,
          });
        }
        bar?.update(done, total);
      },
    });
    (bar as ProgressBar | null)?.done();
    bar = null;
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('interrupted');
    mkdirSync(output, { recursive: true });
    writeFileAtomic(join(output, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileAtomic(join(output, 'report.html'), renderReportHtml(report));
    stdout.write(summary(report));
    stdout.write(`Wrote ${join(output, 'report.json')} and ${join(output, 'report.html')}\n`);
    return report;
  } catch (error) {
    (bar as ProgressBar | null)?.done('evaluation stopped');
    if (signal.aborted) throw new UsageError(`Evaluation interrupted; nothing written to ${output}`);
    throw error;
  } finally {
    if (ownSignal) process.removeListener('SIGINT', onSigint);
  }
}

const fmt = (x: number | null | undefined, digits = 3): string =>
  x === null || x === undefined ? 'n/a' : x.toFixed(digits);

/** A few lines for the terminal: one per method, then the goals. */
export function summary(r: EvaluationReport): string {
  const lines = [
    `Evaluation fleet: ${r.fleets.evaluation.servers} servers x ${r.fleets.evaluation.days} days (seed ${r.fleets.evaluation.seed}), ${r.fleets.evaluation.points} points, ${r.fleets.evaluation.scoredIncidents} incidents scored`,
    `${'method'.padEnd(23)} ${'AUROC'.padStart(6)} ${'AUPRC'.padStart(6)} ${'recall'.padStart(6)} ${'prec.'.padStart(6)} ${'lead50'.padStart(6)} ${'FA/sd'.padStart(6)}`,
  ];
  for (const [name, m] of Object.entries(r.methods)) {
    lines.push(
      `${name.padEnd(23)} ${fmt(m.auroc).padStart(6)} ${fmt(m.auprc).padStart(6)} ${fmt(m.recall.all.recall, 2).padStart(6)} ${fmt(m.recall.withPrecursor.recall, 2).padStart(6)} ${fmt(m.leadTimeHours.median, 1).padStart(6)} ${fmt(m.falseAlarmsPerServerDay, 3).padStart(6)}`,
    );
  }
  lines.push(
    '(recall = all incidents, prec. = incidents with a precursor, lead50 = median lead in hours, FA/sd = false alarms per server-day)',
  );
  for (const g of r.goals) lines.push(`${g.met ? 'MET    ' : 'NOT MET'} ${g.goal}: ${fmt(g.value)}`);
  return `${lines.join('\n')}\n`;
}
