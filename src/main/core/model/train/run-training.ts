import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { exportTftToOnnx } from '../export';
import { mergeOnnxEnsemble, ONNX_OPSET } from '../onnx';
import type { DatasetStats, FeatureDataset, FeatureSpec } from '../features';
import { writeModelFolder, type ModelManifest, type ModelManifestDraft } from '../folder';
import { DEFAULT_HYPER_PARAMS } from '../tft/config';
import type { TftModel } from '../tft/tft-tfjs';
import { readFinishedMembers, writeFinishedMember, type FinishedMember } from './ensemble-members';
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
  | { type: 'run'; runName: string;
      /** Where this run's checkpoints go (null: checkpoints off). */
      checkpointDir: string | null;
      /** The epoch the run continues after, when resumed (of member `resumedMember`). */
      resumedFromEpoch: number | null;
      /** The ensemble member the resumed epoch belongs to; members before it are finished. */
      resumedMember: number | null;
      request: TrainRunRequest;
    }
  | ({ type: 'dataset'; description: string; metricsFile: string; stats: DatasetStats } & MemberRef)
  | ({ type: 'progress'; progress: TrainProgress } & MemberRef)
  | ({ type: 'checkpoint'; epoch: number; file: string } & MemberRef)
  | ({
      type: 'member';
      seed: number;
      epochsRun: number;
      bestEpoch: number;
      durationMs: number;
      /** Finished in an earlier session of the run (resume): not trained again. */
      reused: boolean;
    } & MemberRef);

/** Which ensemble member an event is about: 0-based, of `members` (1 for a single model). */
export interface MemberRef {
  member: number;
  members: number;
}

/** What a finished run returns (plain data: it crosses the worker boundary). */
export interface TrainRunSummary {
  /** The model folder written. */
  dir: string;
  manifest: ModelManifest;
  runName: string;
  resumedFromEpoch: number | null;
  /** trainTft's result without the model (member 0's, for an ensemble). */
  training: Omit<TrainTftResult, 'model'>;
  /** Each member's seed, result and hashes (one entry for a single model). */
  members: { seed: number; training: Omit<TrainTftResult, 'model'>; weightsSha256: string; reused: boolean }[];
  /** Parameters of the whole graph (all members). */
  paramCount: number;
  /**
   * sha256 over the kept weights (names sorted, shapes, float32 bytes): equal runs, equal hash.
   * For an ensemble, over the members' hashes in order.
   */
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
  const seeds = request.seeds ?? [request.seed];
  const members = seeds.length;

  let runName: string;
  let checkpointDir: string | null = null;
  if (resumed) {
    runName = resumed.runName;
    checkpointDir = resumed.dir;
  } else if (request.checkpoints) {
    ({ runName, dir: checkpointDir } = await createRunDir(request.output, now()));
  } else runName = runNameFor(now());
  const reusable = resumed && checkpointDir !== null ? await readFinishedMembers(checkpointDir, seeds) : [];
  // The checkpoint continues its member unless that member is already finished (the run stopped
  // between a member's last epoch and the next one's first).
  const resumedMember = resumed ? (resumed.member ?? 0) : null;
  const resumeState = resumed && resumedMember !== null && resumedMember >= reusable.length ? resumed.state : undefined;
  emit({
    type: 'run',
    runName,
    checkpointDir,
    resumedFromEpoch: resumeState ? resumeState.epoch : null,
    resumedMember: resumeState ? resumedMember : null,
    request,
  });

  let wroteCheckpoint = reusable.length > 0;
  const finished: (FinishedMember & { reused: boolean })[] = [];
  const trainingServerSets: Set<string>[] = [];
  // What the manifest needs of member 0's dataset (not the dataset: one is in memory at a time).
  let firstSplit: SplitSummary | null = null;
  try {
    for (let member = 0; member < members; member++) {
      checkCancelled();
      const seed = seeds[member]!;
      const ref = { member, members };
      const dataset = buildTrainingDataset(data, request.spec, seed);
      if (member === 0) firstSplit = { spec: dataset.spec, stats: dataset.stats, profiles: [...new Set(dataset.profiles)] };
      trainingServerSets.push(new Set(dataset.trainServers));
      const done = reusable[member];
      if (done) {
        finished.push({ ...done, reused: true });
        emit({ type: 'member', ...ref, seed, epochsRun: done.training.history.length, bestEpoch: done.training.bestEpoch, durationMs: done.training.durationMs, reused: true });
        continue;
      }
      emit({ type: 'dataset', ...ref, description: data.description, metricsFile: data.metricsFile, stats: dataset.stats });
      checkCancelled();
      const dir = checkpointDir;
      const result = await trainTft({
        dataset,
        ...trainOptionsOf(request),
        seed,
        ...(job.backend === undefined ? {} : { backend: job.backend }),
        ...(signal === undefined ? {} : { signal }),
        ...(resumeState !== undefined && member === resumedMember ? { resumeFrom: resumeState } : {}),
        onProgress: (progress) => emit({ type: 'progress', ...ref, progress }),
        ...(dir === null
          ? {}
          : {
              checkpoint: async (state) => {
                const file = await writeCheckpoint(dir, { runName, request, dataset: identity, ...(members > 1 ? { member } : {}), state });
                wroteCheckpoint = true;
                emit({ type: 'checkpoint', ...ref, epoch: state.epoch, file });
              },
            }),
      });
      const { model, ...training } = result;
      try {
        checkCancelled();
        const outcome = exportMember(model, dataset, { index: member, seed, training });
        if (dir !== null && members > 1) await writeFinishedMember(dir, outcome);
        finished.push({ ...outcome, reused: false });
        emit({ type: 'member', ...ref, seed, epochsRun: training.history.length, bestEpoch: training.bestEpoch, durationMs: training.durationMs, reused: false });
      } finally {
        model.dispose();
      }
    }
  } catch (error) {
    // A new run that never reached its first checkpoint leaves nothing behind.
    if (!resumed && checkpointDir !== null && !wroteCheckpoint) await removeRunDir(checkpointDir).catch(() => undefined);
    throw error;
  }

  checkCancelled();
  const split = firstSplit!;
  const first = finished[0]!;
  // Every member's servers: a server some member held out has no trained identity there, so
  // inference gives it the unknown bucket (which every member learned through augmentation).
  const trainServers = [...trainingServerSets[0]!].filter((s) => trainingServerSets.every((set) => set.has(s)));
  const onnxBytes =
    members === 1
      ? first.onnxBytes
      : mergeOnnxEnsemble(
          finished.map((m) => m.onnxBytes),
          {
            producerName: 'tft-export',
            docString: `Ensemble of ${members} Temporal Fusion Transformers (seeds ${seeds.join(', ')}): each output is the mean of the members'`,
            metadata: { ensemble: JSON.stringify({ combine: 'mean', seeds }) },
          },
        );
  const when = now();
  const draft = manifestDraft({ request, data, split, members: finished, trainServers, onnx: { opset: ONNX_OPSET, ...first.onnx }, when });
  checkCancelled();
  const folder = request.name ?? modelFolderName(when);
  const written = await writeModelFolder(
    join(request.output, folder),
    { onnxBytes, manifest: draft },
    // A named folder (the bundled "default") is meant to be replaced; timestamped ones never are.
    { overwrite: request.name !== undefined },
  );
  // The model is complete: the checkpoints are spent.
  if (checkpointDir !== null) await removeRunDir(checkpointDir).catch(() => undefined);
  return {
    dir: written.dir,
    manifest: written.manifest,
    runName,
    resumedFromEpoch: resumeState ? resumeState.epoch : null,
    training: first.training,
    members: finished.map((m) => ({ seed: m.seed, training: m.training, weightsSha256: m.weightsSha256, reused: m.reused })),
    paramCount: finished.reduce((a, m) => a + m.paramCount, 0),
    weightsSha256: members === 1 ? first.weightsSha256 : createHash('sha256').update(finished.map((m) => m.weightsSha256).join('\n')).digest('hex'),
    totalMs: performance.now() - started,
  };
}

/**
 * A trained member as the model folder needs it: forecasts stacked with yesterday's value (one
 * weight per metric fitted on the validation split; the weights stay as trained, the blend is
 * constants of the exported graph), exported to ONNX with the dataset's spec (the request's plus
 * the normalization fitted on the training split).
 */
function exportMember(
  model: TftModel,
  dataset: FeatureDataset,
  member: { index: number; seed: number; training: Omit<TrainTftResult, 'model'> },
): FinishedMember {
  const blend = fitSeasonalBlend(model, dataset);
  const base = model.config.forecastBase;
  const config =
    blend && base && blend.blend.some((b) => b > 0) ? { ...model.config, forecastBase: { ...base, seasonal: { lagSteps: blend.lagSteps, blend: blend.blend } } } : model.config;
  const exported = exportTftToOnnx({ config, weights: model.serialize() }, dataset.spec);
  return {
    ...member,
    onnxBytes: exported.bytes,
    onnx: { inputs: exported.inputs, outputs: exported.outputs },
    config,
    blend,
    paramCount: model.paramCount(),
    weightsSha256: weightsSha256(model),
  };
}

/** Member 0's dataset as the manifest describes it. */
interface SplitSummary {
  spec: FeatureSpec;
  stats: DatasetStats;
  /** Profile indices present. */
  profiles: number[];
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
  data: LoadedTrainingData;
  /** Member 0's split: the spec, and the window counts the summary gives. */
  split: SplitSummary;
  members: readonly FinishedMember[];
  /** The servers every member trained on. */
  trainServers: readonly string[];
  onnx: ModelManifestDraft['onnx'];
  when: Date;
}): ModelManifestDraft {
  const { request, data, split, members, trainServers, when } = args;
  const m0 = members[0]!;
  const result = m0.training;
  const blend = m0.blend;
  const spec = split.spec;
  // How often failures cascade along the data's topology: the served risk's upstream term.
  const fit = fitCascadeCoefficient(data.incidents, data.dependencies);
  const cascade = fit ? { ...fit, coefficient: round4(fit.coefficient) } : null;
  const st = split.stats;
  const s = result.settings;
  const bestOf = (t: FinishedMember['training']): FinishedMember['training']['history'][number] =>
    t.history[t.bestEpoch - 1] ?? t.history[t.history.length - 1]!;
  const best = bestOf(result);
  let first = Infinity;
  let last = -Infinity;
  for (const t of data.columns.timestamp) {
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const blendSummary = (b: SeasonalBlendFit | null): { seasonalBlend?: NonNullable<ModelManifest['training']['seasonalBlend']> } =>
    b
      ? {
          seasonalBlend: {
            lagSteps: b.lagSteps,
            blend: b.blend,
            maeModel: b.maeModel.map((x) => (x === null ? null : round4(x))),
            maeBlended: b.maeBlended.map((x) => (x === null ? null : round4(x))),
            windows: b.windows,
          },
        }
      : {};
  const totalMs = members.reduce((a, m) => a + m.training.durationMs, 0);
  // Windows per second over the whole run: each member's rate weighted by its training time.
  const samplesPerSecond = totalMs > 0 ? members.reduce((a, m) => a + m.training.samplesPerSecond * m.training.durationMs, 0) / totalMs : result.samplesPerSecond;
  const c = m0.config;
  const calibrationNote = (t: FinishedMember['training']): string =>
    t.riskCalibration
      ? `sigmoid(${round4(t.riskCalibration.a)} x logit + ${round4(t.riskCalibration.b)}), log loss ${round4(t.riskCalibration.logLossBefore)} -> ${round4(t.riskCalibration.logLossAfter)}`
      : '';
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
      ...(members.length > 1 ? { ensembleMembers: members.length } : {}),
    },
    training: {
      backend: result.backend.tfName,
      seed: s.seed,
      epochsRun: result.history.length,
      bestEpoch: result.bestEpoch,
      durationMs: Math.round(totalMs),
      samplesPerSecond: Math.round(samplesPerSecond * 10) / 10,
      finalTrainLoss: best.trainLoss,
      finalValidationLoss: best.validationLoss,
      ...blendSummary(blend),
      ...(cascade ? { cascade } : {}),
      ...(members.length > 1
        ? {
            ensemble: {
              combine: 'mean' as const,
              members: members.map((m) => {
                const b = bestOf(m.training);
                const cal = m.training.riskCalibration;
                return {
                  seed: m.seed,
                  epochsRun: m.training.history.length,
                  bestEpoch: m.training.bestEpoch,
                  durationMs: Math.round(m.training.durationMs),
                  samplesPerSecond: Math.round(m.training.samplesPerSecond * 10) / 10,
                  finalTrainLoss: b.trainLoss,
                  finalValidationLoss: b.validationLoss,
                  ...blendSummary(m.blend),
                  ...(cal ? { riskCalibration: { a: round4(cal.a), b: round4(cal.b), windows: cal.windows, positives: cal.positives } } : {}),
                  onnxSha256: createHash('sha256').update(m.onnxBytes).digest('hex'),
                };
              }),
            },
          }
        : {}),
      dataset: {
        description: data.description,
        servers: st.servers,
        profiles: [...split.profiles].sort((a, b) => a - b).map((i) => spec.profiles[i]!),
        timeRange: { start: new Date(first).toISOString(), end: new Date(last).toISOString() },
        windows: { train: st.train.windows, validation: st.validation.windows },
        positives: { train: st.train.positives, validation: st.validation.positives },
        trainingServers: [...trainServers],
      },
    },
    notes:
      (members.length > 1
        ? `An ensemble of ${members.length} TFTs (seeds ${members.map((m) => m.seed).join(', ')}), each trained on its own split of the data; every output of model.onnx is the mean of the members'. ` +
          `trainingServers are those every member trained on; the other figures here are member 0's (training.ensemble has each member's). `
        : '') +
      `finalTrainLoss/finalValidationLoss are those of the best epoch (${result.bestEpoch}), whose weights were kept. ` +
      `Each epoch trained on ${Math.min(s.maxWindowsPerEpoch, st.train.windows)} of ${st.train.windows} training windows (seeded subset); ` +
      `validation loss on ${result.validationWindows} of ${st.validation.windows} validation windows (${result.validationPositives} positive).` +
      (s.precursorOversample > 1
        ? ` Positives with a visible precursor (progress >= ${s.precursorMinProgress}) of ${s.precursorOversampleModes} were drawn ${s.precursorOversample} times as often as other positives.`
        : '') +
      (result.riskCalibration
        ? ` Risk Platt-scaled on ${result.riskCalibration.windows} validation windows (${result.riskCalibration.positives} positive): ${calibrationNote(result)}.`
        : ''),
  };
}

function round4(x: number): number {
  return Number(x.toPrecision(4));
}
