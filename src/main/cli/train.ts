import { parseArgs } from 'node:util';
import {
  CHECKPOINTS_DIR,
  TRAIN_DEFAULTS,
  TrainingCancelled,
  startTraining,
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
Training runs on a worker thread. After every epoch a checkpoint goes to
OUTPUT/${CHECKPOINTS_DIR}/tft_run_YYYYMMDD_HHMMSS/ (removed once the model folder is written).

Options:
  --dataset DIR                folder with server_metrics.parquet and metrics_metadata.json (default ./training/)
  --epochs N                   at most N epochs (default ${TRAIN_DEFAULTS.epochs})
  --output DIR                 where the model folder goes (default models/)
  --name NAME                  call the model folder NAME instead of tft_model_YYYYMMDD_HHMMSS; an existing
                               folder of that name is replaced once the new one is complete
  --seed N                     seed: same seed, same model on the same backend (default ${TRAIN_DEFAULTS.seed})
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
const SETTING_FLAGS = ['epochs', 'seed', 'patience', 'batch-size', 'max-windows-per-epoch', 'learning-rate', 'name'] as const;

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
function progressPrinter(stream: NodeJS.WriteStream): { update(p: TrainProgress): void; done(): void } {
  let lastDraw = -Infinity;
  let drawn = false;
  const line = (p: TrainProgress): string =>
    `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} · train ${p.trainLoss.toFixed(4)}` +
    `${p.validationLoss === undefined ? '' : ` · val ${p.validationLoss.toFixed(4)}`} · ${formatCount(p.samplesPerSec)} windows/s · ETA ${formatDuration(p.etaSeconds)} · ${p.backend}`;
  return {
    update(p) {
      if (stream.isTTY) {
        const t = performance.now();
        if (t - lastDraw < 100 && p.phase === 'train') return;
        lastDraw = t;
        drawn = true;
        stream.write(`\r${line(p)}\u001b[K`);
      } else if (p.phase === 'validation') stream.write(`${line(p)}\n`);
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
    const int = (flag: Exclude<(typeof SETTING_FLAGS)[number], 'name' | 'learning-rate'>, fallback: number, min: number): number =>
      values[flag] === undefined ? fallback : intOption(`--${flag}`, values[flag], min);
    job = {
      kind: 'new',
      request: {
        dataset: values.dataset ?? './training/',
        output: values.output ?? 'models/',
        epochs: int('epochs', TRAIN_DEFAULTS.epochs, 1),
        seed: int('seed', TRAIN_DEFAULTS.seed, 0),
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
  let checkpoint: { epoch: number; dir: string } | null = null;
  let checkpointDir: string | null = null;
  const handle = startTraining(io.worker, job, {
    onEvent: (e) => {
      switch (e.type) {
        case 'dataset': {
          const st = e.stats;
          stderr.write(
            `dataset: ${st.servers} servers, ${st.rows.toLocaleString('en-US')} rows; windows train ${st.train.windows} (${st.train.positives} positive), ` +
              `validation ${st.validation.windows} (${st.validation.positives} positive; held-out servers ${st.heldOutServers.join(', ') || 'none'})\n`,
          );
          break;
        }
        case 'run':
          checkpointDir = e.checkpointDir;
          if (e.resumedFromEpoch !== null && e.checkpointDir !== null) checkpoint = { epoch: e.resumedFromEpoch, dir: e.checkpointDir };
          stderr.write(
            e.resumedFromEpoch === null
              ? `run ${e.runName}: checkpoints in ${e.checkpointDir}\n`
              : `run ${e.runName}: resuming after epoch ${e.resumedFromEpoch} of ${e.request.epochs}\n`,
          );
          break;
        case 'progress':
          bar.update(e.progress);
          break;
        case 'checkpoint':
          if (checkpointDir !== null) checkpoint = { epoch: e.epoch, dir: checkpointDir };
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
        const kept = checkpoint as { epoch: number; dir: string } | null;
        stderr.write(
          `train: cancelled (${error.message}); nothing written` +
            (kept === null ? '\n' : ` but the checkpoint of epoch ${kept.epoch}, to continue: npm run train -- --resume ${kept.dir}\n`),
        );
        process.exitCode = 130;
        return null;
      }
      throw error;
    }
    bar.done();
    const t = summary.training;
    const best = t.history[t.bestEpoch - 1] ?? t.history[t.history.length - 1]!;
    stdout.write(
      [
        `Wrote ${summary.dir}`,
        `  backend ${t.backend.tfName}; ${t.history.length} epochs (best ${t.bestEpoch})${summary.resumedFromEpoch === null ? '' : `, resumed after epoch ${summary.resumedFromEpoch}`}; ${Math.round(t.samplesPerSecond)} windows/s; training ${formatDuration(t.durationMs / 1000)}${summary.resumedFromEpoch === null ? ', total' : ' (all sessions), this session'} ${formatDuration(summary.totalMs / 1000)}`,
        `  loss at best epoch: train ${best.trainLoss.toFixed(4)}, validation ${best.validationLoss === null ? 'n/a' : best.validationLoss.toFixed(4)}`,
        `  validation subset: ${t.validationWindows} windows, ${t.validationPositives} positive; positive weight ${t.positiveWeight.toFixed(2)}`,
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

/** What the data's topology taught: how often an upstream's incident took a dependent down. */
function cascadeLine(cascade: ModelManifest['training']['cascade']): string {
  if (!cascade) return '  no topology in the dataset (metrics_metadata.json dependencies): risks are the model\'s alone';
  return `  cascades: ${cascade.followed} of ${cascade.pairs} dependents followed their upstream's incident within ${cascade.followWindowMinutes} min (coefficient ${cascade.coefficient})`;
}

function positiveNumber(flag: string, text: string): number {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x) || x <= 0) throw new UsageError(`${flag} must be a positive number, got "${text}"`);
  return x;
}
