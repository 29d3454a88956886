import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DATA_CONTRACT_VERSION, METRIC_NAMES, inferProfile, type MetricName, type Profile } from '@shared/contract';
import { INCIDENT_TYPES, type Incident, type IncidentType, type SampleColumns } from '@shared/domain';
import { readSamplesFile } from '../core/metrics/io';
import { exportTftToOnnx, onnxSectionDraft } from '../core/model/export';
import { buildDataset, DEFAULT_FEATURE_SPEC, stepMs, type FeatureDataset, type FeatureSpec } from '../core/model/features';
import { writeModelFolder, type ModelManifestDraft } from '../core/model/folder';
import { DEFAULT_HYPER_PARAMS } from '../core/model/tft/config';
import { TRAIN_DEFAULTS, TrainingCancelled, trainTft, type TrainProgress, type TrainTftResult } from '../core/model/train';
import { formatCount, formatDuration } from './progress';
import { UsageError } from './usage-error';

export const TRAIN_USAGE = `Usage: npm run train -- --dataset DIR [options]

Trains the Temporal Fusion Transformer on a dataset folder written by \`generate\`
(server_metrics.parquet + metrics_metadata.json with the incident list) and writes
OUTPUT/tft_model_YYYYMMDD_HHMMSS/ (model.onnx + model.json), named by UTC time.

Options:
  --dataset DIR                folder with server_metrics.parquet and metrics_metadata.json (default ./training/)
  --epochs N                   at most N epochs (default ${TRAIN_DEFAULTS.epochs})
  --output DIR                 where the model folder goes (default models/)
  --seed N                     seed: same seed, same model on the same backend (default ${TRAIN_DEFAULTS.seed})
  --patience N                 stop after N epochs without a better validation loss; 0 = never (default ${TRAIN_DEFAULTS.patience})
  --batch-size N               windows per step (default ${TRAIN_DEFAULTS.batchSize})
  --max-windows-per-epoch N    training windows per epoch, a seeded random subset (default ${TRAIN_DEFAULTS.maxWindowsPerEpoch})
  -h, --help                   this text

Ctrl-C stops training; nothing is written.
`;

/** A dataset folder that cannot be trained on: names the file and what is wrong. */
export class DatasetError extends UsageError {}

export interface LoadedTrainingData {
  columns: SampleColumns;
  incidents: Incident[];
  profiles: Map<string, Profile>;
  metricsFile: string;
  metadataFile: string;
  /** From metrics_metadata.json's generator section, when there is one. */
  description: string;
}

const METRICS_NAMES = ['server_metrics.parquet', 'server_metrics.arrow', 'server_metrics.csv'];

/**
 * Reads and checks a dataset folder before anything is trained: the metrics file (contract
 * checks of the reader), the incident list of metrics_metadata.json (ISO times back to epoch
 * ms), and that every metric the spec observes is present somewhere and the data spans at
 * least one window. Throws DatasetError naming the file.
 */
export async function loadTrainingData(dir: string, spec: FeatureSpec = DEFAULT_FEATURE_SPEC): Promise<LoadedTrainingData> {
  const folder = resolve(dir);
  if (!existsSync(folder)) throw new DatasetError(`dataset folder ${folder} does not exist`);
  const metricsFile = METRICS_NAMES.map((n) => join(folder, n)).find((p) => existsSync(p));
  if (!metricsFile) throw new DatasetError(`${join(folder, METRICS_NAMES[0]!)}: missing (run \`npm run generate -- --output ${dir}\`)`);
  const metadataFile = join(folder, 'metrics_metadata.json');
  if (!existsSync(metadataFile)) throw new DatasetError(`${metadataFile}: missing (it holds the incident labels the risk head trains on)`);

  let metadata: unknown;
  try {
    metadata = JSON.parse(readFileSync(metadataFile, 'utf8'));
  } catch (error) {
    throw new DatasetError(`${metadataFile}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const incidents = parseIncidents(metadata, metadataFile);
  const meta = metadata as { contractVersion?: unknown; generator?: Record<string, unknown> };
  checkContract(meta.contractVersion, metadataFile);

  let samples;
  try {
    samples = await readSamplesFile(metricsFile);
  } catch (error) {
    throw new DatasetError(`${metricsFile}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (samples.contractVersion !== null) checkContract(samples.contractVersion, metricsFile);
  const { columns } = samples;
  if (columns.length === 0) throw new DatasetError(`${metricsFile}: no samples`);

  const observedMetrics = new Set(spec.observed.map((c) => c.split(':')[0] as MetricName));
  const missing = METRIC_NAMES.filter((m) => observedMetrics.has(m) && !columns.metrics[m].present.some((p) => p === 1));
  if (missing.length > 0) throw new DatasetError(`${metricsFile}: metric${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing in every row (the model observes all of ${[...observedMetrics].join(', ')})`);

  // The longest single server span must hold one context + horizon.
  const span = new Map<string, [number, number]>();
  for (let i = 0; i < columns.length; i++) {
    const s = columns.server[i]!;
    const t = columns.timestamp[i]!;
    const r = span.get(s);
    if (!r) span.set(s, [t, t]);
    else {
      if (t < r[0]) r[0] = t;
      if (t > r[1]) r[1] = t;
    }
  }
  const need = (spec.contextSteps + spec.horizonSteps) * stepMs(spec);
  const longest = Math.max(...[...span.values()].map(([a, b]) => b - a));
  if (longest < need)
    throw new DatasetError(
      `${metricsFile}: too short for one window: the longest server history is ${(longest / 3_600_000).toFixed(1)} h, a window needs ${need / 3_600_000} h (context + horizon)`,
    );

  const generator = meta.generator;
  const description = generator
    ? `simulated, ${String(generator.servers)} servers x ${Number(generator.hours) / 24} days, seed ${String(generator.seed)}`
    : `dataset ${folder}`;
  return { columns, incidents, profiles: samples.profiles, metricsFile, metadataFile, description };
}

function checkContract(version: unknown, file: string): void {
  if (version === undefined || version === null) return;
  if (typeof version !== 'string' || version.split('.')[0] !== DATA_CONTRACT_VERSION.split('.')[0])
    throw new DatasetError(`${file}: data contract version ${JSON.stringify(version)}, this build reads ${DATA_CONTRACT_VERSION}`);
}

/** metrics_metadata.json incidents.list -> Incident[] (ISO strings back to epoch ms). */
export function parseIncidents(metadata: unknown, file: string): Incident[] {
  const list = (metadata as { incidents?: { list?: unknown } } | null)?.incidents?.list;
  if (!Array.isArray(list)) throw new DatasetError(`${file}: incidents.list missing (an array of incidents is required, empty if none)`);
  return list.map((raw: unknown, i): Incident => {
    const at = `${file}: incidents.list[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw new DatasetError(`${at}: not an object`);
    const o = raw as Record<string, unknown>;
    const str = (k: string): string => {
      const v = o[k];
      if (typeof v !== 'string' || v.length === 0) throw new DatasetError(`${at}.${k}: expected a non-empty string`);
      return v;
    };
    const time = (k: string): number => {
      const ms = Date.parse(str(k));
      if (Number.isNaN(ms)) throw new DatasetError(`${at}.${k}: "${String(o[k])}" is not an ISO 8601 time`);
      return ms;
    };
    const type = str('type');
    if (!(INCIDENT_TYPES as readonly string[]).includes(type)) throw new DatasetError(`${at}.type: unknown incident type "${type}"`);
    const metric = str('metric');
    if (!(METRIC_NAMES as readonly string[]).includes(metric)) throw new DatasetError(`${at}.metric: unknown metric "${metric}"`);
    const onset = time('onset');
    const end = time('end');
    if (end < onset) throw new DatasetError(`${at}: end is before onset`);
    if (typeof o.precursor !== 'boolean') throw new DatasetError(`${at}.precursor: expected true or false`);
    const precursorStart = o.precursorStart === null || o.precursorStart === undefined ? null : time('precursorStart');
    const cause = o.cause === null || o.cause === undefined ? null : str('cause');
    return { id: str('id'), server: str('server'), type: type as IncidentType, onset, end, precursor: o.precursor, precursorStart, metric: metric as MetricName, cause };
  });
}

/** tft_model_YYYYMMDD_HHMMSS (UTC). */
export function modelFolderName(now: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `tft_model_${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}_${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
}

function intOption(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be a whole number >= ${min}, got "${text}"`);
  return n;
}

export interface TrainCommandIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
  /** Aborts training (the CLI wires SIGINT to it). */
  signal?: AbortSignal;
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
    },
  };
}

export async function trainCommand(argv: string[], io: TrainCommandIo = {}): Promise<{ dir: string; result: TrainTftResult } | null> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      dataset: { type: 'string', default: './training/' },
      epochs: { type: 'string', default: String(TRAIN_DEFAULTS.epochs) },
      output: { type: 'string', default: 'models/' },
      seed: { type: 'string', default: String(TRAIN_DEFAULTS.seed) },
      patience: { type: 'string', default: String(TRAIN_DEFAULTS.patience) },
      'batch-size': { type: 'string', default: String(TRAIN_DEFAULTS.batchSize) },
      'max-windows-per-epoch': { type: 'string', default: String(TRAIN_DEFAULTS.maxWindowsPerEpoch) },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    stdout.write(TRAIN_USAGE);
    return null;
  }
  const epochs = intOption('--epochs', values.epochs, 1);
  const seed = intOption('--seed', values.seed, 0);
  const patience = intOption('--patience', values.patience, 0);
  const batchSize = intOption('--batch-size', values['batch-size'], 1);
  const maxWindowsPerEpoch = intOption('--max-windows-per-epoch', values['max-windows-per-epoch'], 1);
  const spec = DEFAULT_FEATURE_SPEC;

  const controller = new AbortController();
  const onSigint = (): void => controller.abort('interrupted (SIGINT)');
  const ownSignal = io.signal === undefined;
  if (ownSignal) process.once('SIGINT', onSigint);
  const signal = io.signal ?? controller.signal;
  try {
    const started = performance.now();
    const data = await loadTrainingData(values.dataset, spec);
    let dataset: FeatureDataset;
    try {
      dataset = buildDataset(data.columns, data.incidents, {
        spec,
        seed,
        profileOf: (server) => data.profiles.get(server) ?? inferProfile(server),
      });
    } catch (error) {
      throw new DatasetError(`${data.metricsFile}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const st = dataset.stats;
    if (st.train.windows === 0)
      throw new DatasetError(`${data.metricsFile}: no training windows (${st.points} points; skipped: ${JSON.stringify(st.skipped)})`);
    stderr.write(
      `dataset: ${st.servers} servers, ${st.rows.toLocaleString('en-US')} rows; windows train ${st.train.windows} (${st.train.positives} positive), ` +
        `validation ${st.validation.windows} (${st.validation.positives} positive; held-out servers ${st.heldOutServers.join(', ') || 'none'})\n`,
    );

    const bar = progressPrinter(stderr);
    let result: TrainTftResult;
    try {
      result = await trainTft({ dataset, spec, epochs, batchSize, seed, patience, maxWindowsPerEpoch, signal, onProgress: (p) => bar.update(p) });
    } catch (error) {
      bar.done();
      if (error instanceof TrainingCancelled) {
        stderr.write(`train: cancelled (${error.message}); nothing written\n`);
        process.exitCode = 130;
        return null;
      }
      throw error;
    }
    bar.done();
    const { model } = result;
    try {
      signal.throwIfAborted();
      const exported = exportTftToOnnx(model, spec);
      const best = result.history[result.bestEpoch - 1] ?? result.history[result.history.length - 1]!;
      const now = (io.now ?? (() => new Date()))();
      const dir = join(resolve(values.output), modelFolderName(now));
      let first = Infinity;
      let last = -Infinity;
      for (const t of data.columns.timestamp) {
        if (t < first) first = t;
        if (t > last) last = t;
      }
      const c = model.config;
      const draft: ModelManifestDraft = {
        name: 'tft',
        version: modelFolderName(now).slice('tft_model_'.length),
        createdAt: now.toISOString(),
        featureSpec: JSON.parse(JSON.stringify(spec)) as FeatureSpec,
        onnx: onnxSectionDraft(exported),
        hyperParameters: {
          hidden: c.hidden,
          heads: c.heads,
          variableHidden: c.variableHidden,
          variableGrn: c.variableGrn,
          observedVariables: DEFAULT_HYPER_PARAMS.observedVariables,
          layerNormEpsilon: c.layerNormEpsilon,
          lstmLayers: 1,
          dropout: 0,
          optimizer: 'adam',
          learningRate: result.settings.learningRate,
          clipNorm: result.settings.clipNorm,
          batchSize,
          epochs,
          patience,
          maxWindowsPerEpoch,
          maxValidationWindows: result.settings.maxValidationWindows,
          positiveWeight: result.positiveWeight,
          unknownServerRate: result.settings.unknownServerRate,
          stepMinutes: spec.stepMinutes,
          contextSteps: spec.contextSteps,
          horizonSteps: spec.horizonSteps,
        },
        training: {
          backend: result.backend.tfName,
          seed,
          epochsRun: result.history.length,
          bestEpoch: result.bestEpoch,
          durationMs: Math.round(result.durationMs),
          samplesPerSecond: Math.round(result.samplesPerSecond * 10) / 10,
          finalTrainLoss: best.trainLoss,
          finalValidationLoss: best.validationLoss,
          dataset: {
            description: data.description,
            servers: st.servers,
            profiles: [...new Set(dataset.profiles)].sort((a, b) => a - b).map((i) => spec.profiles[i]!),
            timeRange: { start: new Date(first).toISOString(), end: new Date(last).toISOString() },
            windows: { train: st.train.windows, validation: st.validation.windows },
            positives: { train: st.train.positives, validation: st.validation.positives },
            trainingServers: [...dataset.trainServers],
          },
        },
        notes:
          `finalTrainLoss/finalValidationLoss are those of the best epoch (${result.bestEpoch}), whose weights were kept. ` +
          `Each epoch trained on ${Math.min(maxWindowsPerEpoch, st.train.windows)} of ${st.train.windows} training windows (seeded subset); ` +
          `validation loss on ${result.validationWindows} of ${st.validation.windows} validation windows (${result.validationPositives} positive).`,
      };
      signal.throwIfAborted();
      const written = await writeModelFolder(dir, { onnxBytes: exported.bytes, manifest: draft });
      const seconds = (performance.now() - started) / 1000;
      stdout.write(
        [
          `Wrote ${written.dir}`,
          `  backend ${result.backend.tfName}; ${result.history.length} epochs (best ${result.bestEpoch}); ${Math.round(result.samplesPerSecond)} windows/s; training ${formatDuration(result.durationMs / 1000)}, total ${formatDuration(seconds)}`,
          `  loss at best epoch: train ${best.trainLoss.toFixed(4)}, validation ${best.validationLoss === null ? 'n/a' : best.validationLoss.toFixed(4)}`,
          `  validation subset: ${result.validationWindows} windows, ${result.validationPositives} positive; positive weight ${result.positiveWeight.toFixed(2)}`,
          `  model.onnx ${(written.manifest.onnx.sizeBytes / 1024).toFixed(0)} KiB, ${model.paramCount().toLocaleString('en-US')} parameters`,
          '',
        ].join('\n'),
      );
      return { dir: written.dir, result };
    } catch (error) {
      if (signal.aborted) {
        stderr.write('train: cancelled; nothing written\n');
        process.exitCode = 130;
        return null;
      }
      throw error;
    } finally {
      model.dispose();
    }
  } finally {
    if (ownSignal) process.removeListener('SIGINT', onSigint);
  }
}
