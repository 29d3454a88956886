import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { exportTftToOnnx, onnxSectionDraft } from '../export';
import type { DatasetStats, FeatureDataset, FeatureSpec } from '../features';
import { writeModelFolder, type ModelManifest, type ModelManifestDraft } from '../folder';
import { DEFAULT_HYPER_PARAMS } from '../tft/config';
import type { TftModel } from '../tft/tft-tfjs';
import {
  createRunDir,
  readCheckpoint,
  removeRunDir,
  runNameFor,
  sha256File,
  writeCheckpoint,
  type DatasetIdentity,
  type TrainCheckpoint,
} from './checkpoint-file';
import { fitSeasonalBlend, type SeasonalBlendFit } from './seasonal-blend';
import { TrainingCancelled, trainTft, type TrainProgress, type TrainTftResult } from './train-model';
import { resolveTrainRequest, trainOptionsOf, type TrainJob, type TrainRunRequest } from './train-request';
import { buildTrainingDataset, DatasetError, loadTrainingData, type LoadedTrainingData } from './training-data';
import { fitCascadeCoefficient } from '../upstream-risk';

/**
 * One training run from a dataset folder to a model folder, as the `train` command and the app
 * run it (on the training worker thread, train-worker-entry.ts; callable in process too): load
 * and check the dataset (DatasetError before anything trains), build the windows, train with a
 * checkpoint after every epoch (checkpoint-file.ts), export the ONNX graph, write
 * `<output>/tft_model_YYYYMMDD_HHMMSS/` atomically, then remove the run's checkpoints.
 *
 * Cancellation (`signal`): TrainingCancelled, between training steps or before the export or
 * the write. No model folder is then written; the checkpoints of finished epochs stay, so the
 * run can be resumed (`{ kind: 'resume', checkpoint: <run folder> }`), and a run cancelled
 * before its first checkpoint leaves nothing behind.
 */

/** What a run reports while it works. */
export type TrainRunEvent =
  | { type: 'dataset'; description: string; metricsFile: string; stats: DatasetStats }
  | {
      type: 'run';
      runName: string;
      /** Where this run's checkpoints go (null: checkpoints off). */
      checkpointDir: string | null;
      /** The epoch the run continues after, when resumed. */
      resumedFromEpoch: number | null;
      request: TrainRunRequest;
    }
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'checkpoint'; epoch: number; file: string };

/** What a finished run returns (plain data: it crosses the worker boundary). */
export interface TrainRunSummary {
  /** The model folder written. */
  dir: string;
  manifest: ModelManifest;
  runName: string;
  resumedFromEpoch: number | null;
  /** trainTft's result without the model. */
  training: Omit<TrainTftResult, 'model'>;
  paramCount: number;
  /** sha256 over the kept weights (names sorted, shapes, float32 bytes): equal runs, equal hash. */
  weightsSha256: string;
  /** This session's wall time (loading, training, export and write). */
  totalMs: number;
}

export interface RunTrainingOptions {
  signal?: AbortSignal;
  onEvent?: (event: TrainRunEvent) => void;
}

/** tft_model_YYYYMMDD_HHMMSS (UTC). */
export function modelFolderName(now: Date): string {
  return `tft_model_${runNameFor(now).slice('tft_run_'.length)}`;
}

/** sha256 over weights in name order: shapes and float32 bytes. */
export function weightsSha256(model: Pick<TftModel, 'serialize'>): string {
  const weights = model.serialize();
  const hash = createHash('sha256');
  for (const name of Object.keys(weights).sort()) {
    const w = weights[name]!;
    hash.update(`${name}[${w.shape.join(',')}]`);
    hash.update(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength));
  }
  return hash.digest('hex');
}

export async function runTraining(job: TrainJob, options: RunTrainingOptions = {}): Promise<TrainRunSummary> {
  const started = performance.now();
  const { signal } = options;
  const emit = options.onEvent ?? ((): void => undefined);
  const checkCancelled = (): void => {
    if (signal?.aborted) throw new TrainingCancelled(typeof signal.reason === 'string' ? signal.reason : 'training cancelled');
  };
  const now = (): Date => (job.now === undefined ? new Date() : new Date(job.now));
  checkCancelled();

  let request: TrainRunRequest;
  let resumed: (TrainCheckpoint & { dir: string }) | undefined;
  if (job.kind === 'resume') {
    resumed = await readCheckpoint(job.checkpoint);
    request = {
      ...resumed.request,
      ...(job.dataset === undefined ? {} : { dataset: resolve(job.dataset) }),
      ...(job.output === undefined ? {} : { output: resolve(job.output) }),
    };
  } else request = resolveTrainRequest(job.request);

  const data = await loadTrainingData(request.dataset, request.spec);
  const identity: DatasetIdentity = {
    metricsFile: basename(data.metricsFile),
    metricsSha256: await sha256File(data.metricsFile),
    metadataSha256: await sha256File(data.metadataFile),
  };
  if (resumed) checkSameDataset(resumed, identity, data);
  checkCancelled();
  const dataset = buildTrainingDataset(data, request.spec, request.seed);
  emit({ type: 'dataset', description: data.description, metricsFile: data.metricsFile, stats: dataset.stats });
  checkCancelled();

  let runName: string;
  let checkpointDir: string | null = null;
  if (resumed) {
    runName = resumed.runName;
    checkpointDir = resumed.dir;
  } else if (request.checkpoints) {
    ({ runName, dir: checkpointDir } = await createRunDir(request.output, now()));
  } else runName = runNameFor(now());
  const resumedFromEpoch = resumed?.state.epoch ?? null;
  emit({ type: 'run', runName, checkpointDir, resumedFromEpoch, request });

  let wroteCheckpoint = false;
  let result: TrainTftResult;
  try {
    const dir = checkpointDir;
    result = await trainTft({
      dataset,
      ...trainOptionsOf(request),
      ...(job.backend === undefined ? {} : { backend: job.backend }),
      ...(signal === undefined ? {} : { signal }),
      ...(resumed === undefined ? {} : { resumeFrom: resumed.state }),
      onProgress: (progress) => emit({ type: 'progress', progress }),
      ...(dir === null
        ? {}
        : {
            checkpoint: async (state) => {
              const file = await writeCheckpoint(dir, { runName, request, dataset: identity, state });
              wroteCheckpoint = true;
              emit({ type: 'checkpoint', epoch: state.epoch, file });
            },
          }),
    });
  } catch (error) {
    // A new run that never reached its first checkpoint leaves nothing behind.
    if (!resumed && checkpointDir !== null && !wroteCheckpoint) await removeRunDir(checkpointDir).catch(() => undefined);
    throw error;
  }

  const { model, ...training } = result;
  try {
    checkCancelled();
    // Forecasts stacked with yesterday's value, one weight per metric fitted on the validation
    // split; the weights stay as trained (the blend is constants of the exported graph).
    const blend = fitSeasonalBlend(model, dataset);
    checkCancelled();
    const base = model.config.forecastBase;
    const source =
      blend && base && blend.blend.some((b) => b > 0)
        ? {
            config: { ...model.config, forecastBase: { ...base, seasonal: { lagSteps: blend.lagSteps, blend: blend.blend } } },
            weights: model.serialize(),
          }
        : model;
    // The dataset's spec: the request's plus the normalization fitted on the training split.
    const exported = exportTftToOnnx(source, dataset.spec);
    const when = now();
    const draft = manifestDraft({ request, result, data, dataset, onnx: onnxSectionDraft(exported), model, when, blend });
    checkCancelled();
    const folder = request.name ?? modelFolderName(when);
    const written = await writeModelFolder(
      join(request.output, folder),
      { onnxBytes: exported.bytes, manifest: draft },
      // A named folder (the bundled "default") is meant to be replaced; timestamped ones never are.
      { overwrite: request.name !== undefined },
    );
    // The model is complete: the checkpoints are spent.
    if (checkpointDir !== null) await removeRunDir(checkpointDir).catch(() => undefined);
    return {
      dir: written.dir,
      manifest: written.manifest,
      runName,
      resumedFromEpoch,
      training,
      paramCount: model.paramCount(),
      weightsSha256: weightsSha256(model),
      totalMs: performance.now() - started,
    };
  } finally {
    model.dispose();
  }
}

function checkSameDataset(resumed: TrainCheckpoint, identity: DatasetIdentity, data: LoadedTrainingData): void {
  const was = resumed.dataset;
  const changed =
    was.metricsSha256 !== identity.metricsSha256
      ? data.metricsFile
      : was.metadataSha256 !== identity.metadataSha256
        ? data.metadataFile
        : null;
  if (changed !== null)
    throw new DatasetError(
      `${changed}: not the data run ${resumed.runName} started on (its content changed since the checkpoint of epoch ${resumed.state.epoch}); start a new run instead`,
    );
}

function manifestDraft(args: {
  request: TrainRunRequest;
  result: TrainTftResult;
  data: LoadedTrainingData;
  dataset: FeatureDataset;
  onnx: ModelManifestDraft['onnx'];
  model: TftModel;
  when: Date;
  blend: SeasonalBlendFit | null;
}): ModelManifestDraft {
  const { request, result, data, dataset, model, when, blend } = args;
  const spec = dataset.spec;
  // How often failures cascade along the data's topology: the served risk's upstream term.
  const fit = fitCascadeCoefficient(data.incidents, data.dependencies);
  const cascade = fit ? { ...fit, coefficient: round4(fit.coefficient) } : null;
  const st = dataset.stats;
  const s = result.settings;
  const best = result.history[result.bestEpoch - 1] ?? result.history[result.history.length - 1]!;
  let first = Infinity;
  let last = -Infinity;
  for (const t of data.columns.timestamp) {
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const c = model.config;
  return {
    name: 'tft',
    version: modelFolderName(when).slice('tft_model_'.length),
    createdAt: when.toISOString(),
    featureSpec: JSON.parse(JSON.stringify(spec)) as FeatureSpec,
    onnx: args.onnx,
    hyperParameters: {
      hidden: c.hidden,
      heads: c.heads,
      variableHidden: c.variableHidden,
      variableGrn: c.variableGrn,
      observedVariables: request.hyper?.observedVariables ?? DEFAULT_HYPER_PARAMS.observedVariables,
      layerNormEpsilon: c.layerNormEpsilon,
      lstmLayers: 1,
      dropout: 0,
      optimizer: 'adam',
      learningRate: s.learningRate,
      clipNorm: s.clipNorm,
      batchSize: s.batchSize,
      epochs: s.epochs,
      patience: s.patience,
      maxWindowsPerEpoch: s.maxWindowsPerEpoch,
      maxValidationWindows: s.maxValidationWindows,
      positiveWeight: result.positiveWeight,
      oversamplePositives: s.oversamplePositives,
      unknownServerRate: s.unknownServerRate,
      stepMinutes: spec.stepMinutes,
      contextSteps: spec.contextSteps,
      horizonSteps: spec.horizonSteps,
    },
    training: {
      backend: result.backend.tfName,
      seed: s.seed,
      epochsRun: result.history.length,
      bestEpoch: result.bestEpoch,
      durationMs: Math.round(result.durationMs),
      samplesPerSecond: Math.round(result.samplesPerSecond * 10) / 10,
      finalTrainLoss: best.trainLoss,
      finalValidationLoss: best.validationLoss,
      ...(blend
        ? {
            seasonalBlend: {
              lagSteps: blend.lagSteps,
              blend: blend.blend,
              maeModel: blend.maeModel.map((x) => (x === null ? null : round4(x))),
              maeBlended: blend.maeBlended.map((x) => (x === null ? null : round4(x))),
              windows: blend.windows,
            },
          }
        : {}),
      ...(cascade ? { cascade } : {}),
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
      `Each epoch trained on ${Math.min(s.maxWindowsPerEpoch, st.train.windows)} of ${st.train.windows} training windows (seeded subset); ` +
      `validation loss on ${result.validationWindows} of ${st.validation.windows} validation windows (${result.validationPositives} positive).` +
      (s.precursorOversample > 1
        ? ` Positives with a visible precursor (progress >= ${s.precursorMinProgress}) of ${s.precursorOversampleModes} were drawn ${s.precursorOversample} times as often as other positives.`
        : '') +
      (result.riskCalibration
        ? ` Risk Platt-scaled on ${result.riskCalibration.windows} validation windows (${result.riskCalibration.positives} positive): sigmoid(${round4(result.riskCalibration.a)} x logit + ${round4(result.riskCalibration.b)}), log loss ${round4(result.riskCalibration.logLossBefore)} -> ${round4(result.riskCalibration.logLossAfter)}.`
        : ''),
  };
}

function round4(x: number): number {
  return Number(x.toPrecision(4));
}
