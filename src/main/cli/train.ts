import { parseArgs } from 'node:util';
import {
  CHECKPOINTS_DIR,
  DEFAULT_ENSEMBLE_SEEDS,
  MAX_ENSEMBLE_MEMBERS,
  MemberTracker,
  TRAIN_DEFAULTS,
  TrainingCancelled,
  startTraining,
  type MemberRef,
  type TrainJob,
  type TrainProgress,
  type TrainRunSummary,
  type TrainWorkerFactory,
} from '../core/model/train';
import type { ModelManifest } from '../core/model/folder';
import { formatCount, formatDuration } from './progress';
import { UsageError } from './usage-error';

export const TRAIN_USAGE = `Usage: npm run train -- --dataset DIR [options]
       npm run train -- --resume RUN_DIR

Trains the Temporal Fusion Transformer on a dataset folder written by \`generate\`
(server_metrics.parquet + metrics_metadata.json with the incident list) and writes
OUTPUT/tft_model_YYYYMMDD_HHMMSS/ (model.onnx + model.json), named by UTC time.
By default the model is an ensemble of ${DEFAULT_ENSEMBLE_SEEDS.length} TFTs (seeds ${DEFAULT_ENSEMBLE_SEEDS.join(', ')}), trained one
after the other, whose outputs one graph averages; --seed N trains a single model instead.
Training runs on a worker thread. After every epoch a checkpoint goes to
OUTPUT/${CHECKPOINTS_DIR}/tft_run_YYYYMMDD_HHMMSS/ (removed once the model folder is written).

Options:
  --dataset DIR                folder with server_metrics.parquet and metrics_metadata.json (default ./training/)
  --epochs N                   at most N epochs (default ${TRAIN_DEFAULTS.epochs})
  --output DIR                 where the model folder goes (default models/)
  --name NAME                  call the model folder NAME instead of tft_model_YYYYMMDD_HHMMSS; an existing
                               folder of that name is replaced once the new one is complete
  --seeds A,B,C                an ensemble, one member per seed (2 to ${MAX_ENSEMBLE_MEMBERS}; default ${DEFAULT_ENSEMBLE_SEEDS.join(',')}):
                               same seeds, same model on the same backend
  --seed N                     a single model with seed N instead of an ensemble
  --patience N                 stop after N epochs without a better validation loss; 0 = never (default ${TRAIN_DEFAULTS.patience})
  --batch-size N               windows per step (default ${TRAIN_DEFAULTS.batchSize})
  --max-windows-per-epoch N    training windows per epoch, a seeded random subset (default ${TRAIN_DEFAULTS.maxWindowsPerEpoch})
  --learning-rate X            Adam's step size (default ${TRAIN_DEFAULTS.learningRate})
  --resume RUN_DIR             continue an interrupted run from its last checkpoint, with the settings it
                               started with (the same weights as an uninterrupted run); --dataset and
                               --output may point at a moved dataset or another output folder
  -h, --help                   this text

Ctrl-C stops training; no model folder is written, the last epoch's checkpoint is kept.
`;

/** Flags that set the run's settings: a resumed run keeps those it started with. */
const SETTING_FLAGS = ['epochs', 'seed', 'seeds', 'patience', 'batch-size', 'max-windows-per-epoch', 'learning-rate', 'name'] as const;

function intOption(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be a whole number >= ${min}, got "${text}"`);
  return n;
}

export interface TrainCommandIo {
  /** Starts the training worker: the bundled `?nodeWorker` entry in the app (main.ts), a test bundle in tests. */
  worker: TrainWorkerFactory;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
  /** Aborts training (the CLI wires SIGINT to it). */
  signal?: AbortSignal;
  /** Fixed clock for the run and model folder names (tests). */
  now?: () => Date;
}

/** One line of progress: on a terminal redrawn in place, elsewhere one line per epoch. */
function progressPrinter(stream: NodeJS.WriteStream): { update(p: TrainProgress, prefix?: string): void; done(): void } {
  let lastDraw = -Infinity;
  let drawn = false;
  const line = (p: TrainProgress, prefix: string): string =>
    `${prefix}epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} · train ${p.trainLoss.toFixed(4)}` +
    `${p.validationLoss === undefined ? '' : ` · val ${p.validationLoss.toFixed(4)}`} · ${formatCount(p.samplesPerSec)} windows/s · ETA ${formatDuration(p.etaSeconds)} · ${p.backend}`;
  return {
    update(p, prefix = '') {
      if (stream.isTTY) {
        const t = performance.now();
        if (t - lastDraw < 100 && p.phase === 'train') return;
        lastDraw = t;
        drawn = true;
        stream.write(`\r${line(p, prefix)}\u001b[K`);
      } else if (p.phase === 'validation') stream.write(`${line(p, prefix)}\n`);
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

export async function trainCommand(argv: string[], io: TrainCommandIo): Promise<TrainRunSummary | null> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      dataset: { type: 'string' },
      epochs: { type: 'string' },
      output: { type: 'string' },
      name: { type: 'string' },
      seed: { type: 'string' },
      seeds: { type: 'string' },
      patience: { type: 'string' },
      'batch-size': { type: 'string' },
      'max-windows-per-epoch': { type: 'string' },
      'learning-rate': { type: 'string' },
      resume: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    stdout.write(TRAIN_USAGE);
    return null;
  }
  const now = io.now?.().toISOString();
  let job: TrainJob;
  if (values.resume !== undefined) {
    const fixed = SETTING_FLAGS.filter((f) => values[f] !== undefined);
    if (fixed.length > 0)
      throw new UsageError(`--resume continues a run with the settings it started with: --${fixed.join(', --')} cannot be given with it\n\n${TRAIN_USAGE}`);
    job = {
      kind: 'resume',
      checkpoint: values.resume,
      ...(values.dataset === undefined ? {} : { dataset: values.dataset }),
      ...(values.output === undefined ? {} : { output: values.output }),
      ...(now === undefined ? {} : { now }),
    };
  } else {
    if (values.seed !== undefined && values.seeds !== undefined) throw new UsageError(`--seed (one model) and --seeds (an ensemble): give one of them\n\n${TRAIN_USAGE}`);
    const int = (flag: Exclude<(typeof SETTING_FLAGS)[number], 'name' | 'learning-rate' | 'seeds'>, fallback: number, min: number): number =>
      values[flag] === undefined ? fallback : intOption(`--${flag}`, values[flag], min);
    job = {
      kind: 'new',
      request: {
        dataset: values.dataset ?? './training/',
        output: values.output ?? 'models/',
        epochs: int('epochs', TRAIN_DEFAULTS.epochs, 1),
        ...(values.seed !== undefined ? { seed: int('seed', TRAIN_DEFAULTS.seed, 0) } : { seeds: seedList(values.seeds) }),
        patience: int('patience', TRAIN_DEFAULTS.patience, 0),
        batchSize: int('batch-size', TRAIN_DEFAULTS.batchSize, 1),
        maxWindowsPerEpoch: int('max-windows-per-epoch', TRAIN_DEFAULTS.maxWindowsPerEpoch, 1),
        learningRate: values['learning-rate'] === undefined ? TRAIN_DEFAULTS.learningRate : positiveNumber('--learning-rate', values['learning-rate']),
        ...(values.name === undefined ? {} : { name: values.name }),
      },
      ...(now === undefined ? {} : { now }),
    };
  }

  const bar = progressPrinter(stderr);
  let checkpoint: { epoch: number; dir: string; member: string } | null = null;
  let checkpointDir: string | null = null;
  let tracker: MemberTracker | undefined;
  const handle = startTraining(io.worker, job, {
    onEvent: (e) => {
      switch (e.type) {
        case 'dataset': {
          const st = e.stats;
          tracker ??= new MemberTracker(e.members);
          tracker.memberStarted(performance.now());
          bar.done();
          stderr.write(
            `${memberPrefix(e)}dataset: ${st.servers} servers, ${st.rows.toLocaleString('en-US')} rows; windows train ${st.train.windows} (${st.train.positives} positive), ` +
              `validation ${st.validation.windows} (${st.validation.positives} positive; held-out servers ${st.heldOutServers.join(', ') || 'none'})\n`,
          );
          break;
        }
        case 'run':
          checkpointDir = e.checkpointDir;
          if (e.resumedFromEpoch !== null && e.checkpointDir !== null)
            checkpoint = { epoch: e.resumedFromEpoch, dir: e.checkpointDir, member: e.request.seeds && e.request.seeds.length > 1 ? `member ${(e.resumedMember ?? 0) + 1}'s ` : '' };
          stderr.write(
            e.resumedFromEpoch === null
              ? `run ${e.runName}: checkpoints in ${e.checkpointDir}\n`
              : `run ${e.runName}: resuming${e.request.seeds && e.request.seeds.length > 1 ? ` member ${(e.resumedMember ?? 0) + 1}/${e.request.seeds.length}` : ''} after epoch ${e.resumedFromEpoch} of ${e.request.epochs}\n`,
          );
          break;
        case 'progress': {
          // An ensemble's ETA is the whole run's: this member's, then the members after it.
          tracker ??= new MemberTracker(e.members);
          const eta = tracker.eta(e.member, e.progress.etaSeconds, performance.now());
          bar.update(eta === null ? e.progress : { ...e.progress, etaSeconds: eta }, memberPrefix(e));
          break;
        }
        case 'member':
          tracker?.memberFinished(performance.now());
          if (e.members > 1) {
            bar.done();
            stderr.write(
              `${memberPrefix(e)}${e.reused ? 'finished in an earlier session: ' : ''}${e.epochsRun} epochs (best ${e.bestEpoch}), ${formatDuration(e.durationMs / 1000)}\n`,
            );
          }
          break;
        case 'checkpoint':
          if (checkpointDir !== null) checkpoint = { epoch: e.epoch, dir: checkpointDir, member: e.members > 1 ? `member ${e.member + 1}'s ` : '' };
          break;
      }
    },
  });

  const controller = new AbortController();
  const onSigint = (): void => controller.abort('interrupted (SIGINT)');
  const ownSignal = io.signal === undefined;
  if (ownSignal) process.once('SIGINT', onSigint);
  const signal = io.signal ?? controller.signal;
  const onAbort = (): void => void handle.cancel(typeof signal.reason === 'string' ? signal.reason : 'cancelled');
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    let summary: TrainRunSummary;
    try {
      summary = await handle.done;
    } catch (error) {
      bar.done();
      if (error instanceof TrainingCancelled) {
        await handle.exited;
        const kept = checkpoint as { epoch: number; dir: string; member: string } | null;
        stderr.write(
          `train: cancelled (${error.message}); nothing written` +
            (kept === null ? '\n' : ` but the checkpoint of ${kept.member}epoch ${kept.epoch}, to continue: npm run train -- --resume ${kept.dir}\n`),
        );
        process.exitCode = 130;
        return null;
      }
      throw error;
    }
    bar.done();
    const t = summary.training;
    const bestLoss = (h: typeof t): string => {
      const best = h.history[h.bestEpoch - 1] ?? h.history[h.history.length - 1]!;
      return `train ${best.trainLoss.toFixed(4)}, validation ${best.validationLoss === null ? 'n/a' : best.validationLoss.toFixed(4)}`;
    };
    const resumed = summary.resumedFromEpoch !== null || summary.members.some((m) => m.reused);
    const trainingMs = summary.members.reduce((a, m) => a + m.training.durationMs, 0);
    const timing = `training ${formatDuration(trainingMs / 1000)}${resumed ? ' (all sessions), this session' : ', total'} ${formatDuration(summary.totalMs / 1000)}`;
    const lines =
      summary.members.length === 1
        ? [
            `  backend ${t.backend.tfName}; ${t.history.length} epochs (best ${t.bestEpoch})${summary.resumedFromEpoch === null ? '' : `, resumed after epoch ${summary.resumedFromEpoch}`}; ${Math.round(t.samplesPerSecond)} windows/s; ${timing}`,
            `  loss at best epoch: ${bestLoss(t)}`,
            `  validation subset: ${t.validationWindows} windows, ${t.validationPositives} positive; positive weight ${t.positiveWeight.toFixed(2)}`,
          ]
        : [
            `  ensemble of ${summary.members.length} (seeds ${summary.members.map((m) => m.seed).join(', ')}), each output the mean of the members'; backend ${t.backend.tfName}; ${timing}`,
            ...summary.members.map(
              (m, i) =>
                `  member ${i + 1} (seed ${m.seed}): ${m.training.history.length} epochs (best ${m.training.bestEpoch}), ${Math.round(m.training.samplesPerSecond)} windows/s; loss at best epoch: ${bestLoss(m.training)}${m.reused ? '; finished in an earlier session' : ''}`,
            ),
          ];
    stdout.write(
      [
        `Wrote ${summary.dir}`,
        ...lines,
        `  model.onnx ${(summary.manifest.onnx.sizeBytes / 1024).toFixed(0)} KiB, ${summary.paramCount.toLocaleString('en-US')} parameters`,
        cascadeLine(summary.manifest.training.cascade),
        '',
      ].join('\n'),
    );
    return summary;
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (ownSignal) process.removeListener('SIGINT', onSigint);
  }
}

/** "member 2/3: " for an ensemble's events; nothing for a single model's. */
function memberPrefix(e: MemberRef): string {
  return e.members > 1 ? `member ${e.member + 1}/${e.members}: ` : '';
}

/** What the data's topology taught: how often an upstream's incident took a dependent down. */
function cascadeLine(cascade: ModelManifest['training']['cascade']): string {
  if (!cascade) return '  no topology in the dataset (metrics_metadata.json dependencies): risks are the model\'s alone';
  return `  cascades: ${cascade.followed} of ${cascade.pairs} dependents followed their upstream's incident within ${cascade.followWindowMinutes} min (coefficient ${cascade.coefficient})`;
}

/** --seeds: 2 to MAX_ENSEMBLE_MEMBERS distinct whole numbers >= 0, comma-separated (default DEFAULT_ENSEMBLE_SEEDS). */
function seedList(text: string | undefined): number[] {
  if (text === undefined) return [...DEFAULT_ENSEMBLE_SEEDS];
  const seeds = text.split(',').map((part) => intOption('--seeds', part.trim(), 0));
  if (seeds.length < 2 || seeds.length > MAX_ENSEMBLE_MEMBERS)
    throw new UsageError(`--seeds takes 2 to ${MAX_ENSEMBLE_MEMBERS} seeds, one per member, got ${seeds.length} (for one model: --seed N)`);
  const twice = seeds.find((x, i) => seeds.indexOf(x) !== i);
  if (twice !== undefined) throw new UsageError(`--seeds: ${twice} is given twice; each member needs its own seed`);
  return seeds;
}

function positiveNumber(flag: string, text: string): number {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x) || x <= 0) throw new UsageError(`${flag} must be a positive number, got "${text}"`);
  return x;
}
