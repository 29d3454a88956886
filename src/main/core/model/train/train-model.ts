import * as tf from '@tensorflow/tfjs';
import type { FeatureDataset, SplitName } from '../features/dataset';
import type { FeatureSpec, WindowBatch } from '../features/feature-spec';
import { backendInUse, selectBackend, type BackendInfo, type BackendOptions } from '../tft/backend';
import { tftConfigFromSpec, type TftHyperParams } from '../tft/config';
import { HostAdam } from '../tft/host-adam';
import { DEFAULT_QUANTILE_WEIGHT, tftLoss } from '../tft/loss';
import { TftModel, disposeInputs } from '../tft/tft-tfjs';
import { trainStep } from '../tft/train-step';
import { seededRandom, type SerializedWeights } from '../tft/weight-store';
import { assertResumable, type TrainCheckpointState } from './checkpoint-state';
import { applyRiskCalibration, fitRiskCalibration, type RiskCalibrationFit } from './risk-calibration';

/**
 * The training loop: seeded mini-batches from a FeatureDataset, HostAdam, a validation loss
 * after every epoch (the dataset's validation split: late time of the training servers and the
 * held-out servers), early stopping that keeps the best epoch's weights, cancellation between
 * steps, and a checkpoint after every epoch that `resumeFrom` continues exactly. Runs on the
 * thread that calls it (train-worker.ts runs whole runs on a worker thread); it yields to the
 * event loop after every step, so a SIGINT handler, a worker's cancel message or an AbortSignal
 * fired from a timer gets to run.
 *
 * Time budget: on the 2-core dev machine training runs at ~160-280 windows/s on wasm (B = 64,
 * batch materialisation included), so a full pass over the default fleet's ~19k training
 * windows (20 servers x 30 days, 30-minute stride) would cost ~2 min an epoch and 20 epochs
 * ~40 min. Each epoch therefore trains on a seeded
 * random subset of `maxWindowsPerEpoch` windows (a different subset each epoch, so the run
 * still sees most windows), and validates on a fixed seeded subset of `maxValidationWindows`
 * (the same windows every epoch, so the losses compare). Defaults below.
 */

/** Defaults sized for 20 servers x 30 days in under 5 minutes on 2 cores (wasm, ~150 ms/step). */
export const TRAIN_DEFAULTS = {
  epochs: 20,
  batchSize: 64,
  seed: 42,
  /** The validation loss is noisy (~100-200 positives in the subset): 3 stopped a default run at epoch 7 of 20 while its risk AUROC was still improving. */
  patience: 6,
  /**
   * 80 steps of 64: ~20 s an epoch at the ~260-280 windows/s the bundled CLI reaches here (wasm,
   * 2 cores, quiet), so 20 epochs take ~7 min. Was 2,560 (~800 Adam steps a run): with the
   * precursor oversampling below that run stopped early (best epoch 6-8) before it learnt the
   * rare precursors; 5,120 doubles the steps (issue 5, docs/model.md).
   */
  maxWindowsPerEpoch: 5120,
  /** Forward only: ~4 s an epoch; 4096 rather than 2048 halves the noise of the loss early stopping watches. */
  maxValidationWindows: 4096,
  learningRate: 3e-3,
  clipNorm: 1,
  unknownServerRate: 0.1,
  /**
   * Each positive window 5 times per epoch (~20 % of a batch instead of ~5 %), unweighted loss;
   * the risk logit's bias is then shifted by -ln 5 so the risk is a probability again (prior
   * shift). Measured on a held-out fleet (100 servers x 60 days, 800 steps): risk AUROC 0.69 vs
   * ~0.52 for a positive-class weight of negatives/positives (~20), whose few heavy positives per
   * batch made the gradient too noisy to learn from.
   */
  oversamplePositives: 5,
  /** Positive-class weight of the risk loss (1: oversampling does the balancing). */
  positiveWeight: 1,
  /**
   * Positives whose precursor was under way at t (progress >= precursorMinProgress) of the
   * failure modes in precursorOversampleModes appear this many times as often as other
   * positives (FeatureDataset.epochOrder's precursorOversample). 1 = off. Only ~15-24 % of the
   * cpu, dependency and network positives show their precursor (memory 35 %, disk 40 %), so
   * without it a run saw ~10 of them an epoch and never warned of CPU runaways or cascades.
   * Every mode with a precursor is boosted: the rest of the positives are sudden incidents,
   * which nothing in a window can foretell. With memory and disk boosted too, the ensemble's
   * median lead on the validation fleet went from 2.08 to 3.17 h at the same recall (66 of 70;
   * docs/model.md, run E2).
   */
  precursorOversample: 8,
  precursorOversampleModes: 'memory,disk,cpu,dependency,network',
  precursorMinProgress: 0.25,
  /**
   * After training (and the prior shift), Platt-scale the risk on the run's validation split and
   * fold it into the risk head (fitRiskCalibration): keeps the risk a probability when positives
   * were not all repeated equally (precursorOversample > 1).
   */
  calibrateRisk: true,
} as const;

export class TrainingCancelled extends Error {
  override readonly name = 'TrainingCancelled';
  constructor(message = 'training cancelled') {
    super(message);
  }
}

export interface TrainProgress {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** 1-based step within the epoch, and steps in this epoch. */
  step: number;
  steps: number;
  /** Mean total loss of the epoch's steps so far. */
  trainLoss: number;
  /** Validation loss of the previous epoch (absent before the first one completes). */
  validationLoss?: number;
  samplesPerSec: number;
  etaSeconds: number;
  /** TF.js backend name ('wasm', 'cpu', 'tensorflow'). */
  backend: string;
  /** 'train' during steps, 'validation' once the epoch's validation loss is in. */
  phase: 'train' | 'validation';
}

export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  trainLoss: number;
  /** Null when the dataset has no validation windows. */
  validationLoss: number | null;
  seconds: number;
}

export interface TrainTftOptions {
  dataset: FeatureDataset;
  /** Default: the dataset's spec. */
  spec?: FeatureSpec;
  /** Model hyper-parameters (DEFAULT_HYPER_PARAMS for what is not given). */
  hyper?: Partial<TftHyperParams>;
  epochs?: number;
  batchSize?: number;
  /** Seeds the weights, the window subsets and order, and the unknown-server augmentation. */
  seed?: number;
  /** Epochs without a validation improvement before stopping; 0 = never stop early. */
  patience?: number;
  /** An epoch's validation loss must beat the best by more than this to count. Default 0. */
  minDelta?: number;
  /** Training windows per epoch (a seeded random subset); Infinity = every window. */
  maxWindowsPerEpoch?: number;
  /** Validation windows (a fixed seeded subset); Infinity = every window. */
  maxValidationWindows?: number;
  /** Stop after this many steps in total (tests, smoke runs); the epoch in progress is still validated. */
  maxSteps?: number;
  learningRate?: number;
  clipNorm?: number;
  unknownServerRate?: number;
  /** Positive-class weight of the risk loss. Default TRAIN_DEFAULTS.positiveWeight (1). */
  positiveWeight?: number;
  /** Each positive training window appears this many times per epoch (FeatureDataset.epochOrder), then the risk prior is shifted back. Default TRAIN_DEFAULTS.oversamplePositives. */
  oversamplePositives?: number;
  /** See TRAIN_DEFAULTS.precursorOversample (factor, 1 = off), precursorOversampleModes (comma-separated failure modes), precursorMinProgress. */
  precursorOversample?: number;
  precursorOversampleModes?: string;
  precursorMinProgress?: number;
  /** See TRAIN_DEFAULTS.calibrateRisk. */
  calibrateRisk?: boolean;
  /** Weights of the loss parts (tftLoss defaults: quantile 1, risk 1, failure 0.5). */
  lossWeights?: { quantileWeight?: number; riskWeight?: number; failureWeight?: number };
  /** Used only when no backend has been selected yet in this process. */
  backend?: BackendOptions;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  /**
   * Called after every epoch (validation and the early-stopping decision done) with what
   * `resumeFrom` needs to continue the run; awaited before the next epoch starts.
   */
  checkpoint?: (state: TrainCheckpointState) => void | Promise<void>;
  /**
   * Continues a run from a checkpoint: with the same dataset and settings (checked) it ends with
   * the same history and weights as the run would have without the interruption.
   */
  resumeFrom?: TrainCheckpointState;
}

export interface TrainTftResult {
  /** Holds the best epoch's weights; the caller disposes it. */
  model: TftModel;
  history: EpochRecord[];
  /** 1-based epoch whose weights the model holds; 0 when no epoch completed. */
  bestEpoch: number;
  backend: BackendInfo;
  durationMs: number;
  /** Training windows per second of training-step time (validation excluded). */
  samplesPerSecond: number;
  positiveWeight: number;
  /** What was used, after defaults. */
  settings: {
    epochs: number;
    batchSize: number;
    seed: number;
    patience: number;
    maxWindowsPerEpoch: number;
    maxValidationWindows: number;
    learningRate: number;
    clipNorm: number;
    unknownServerRate: number;
    oversamplePositives: number;
    precursorOversample: number;
    precursorOversampleModes: string;
    precursorMinProgress: number;
    calibrateRisk: boolean;
  };
  /** The Platt scaling folded into the risk head (calibrateRisk), or null. */
  riskCalibration: RiskCalibrationFit | null;
  /** Windows of the validation subset and the positives among them. */
  validationWindows: number;
  validationPositives: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function checkPositiveInt(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, got ${n}`);
}

/** A seeded partial Fisher-Yates: `count` distinct indices of [0, n), in random order. */
export function sampleIndices(n: number, count: number, random: () => number): Int32Array {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const k = Math.min(n, count);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    const tmp = all[i]!;
    all[i] = all[j]!;
    all[j] = tmp;
  }
  return all.slice(0, k);
}

/**
 * Mean total loss (quantile + risk + failure, the training objective) of `model` over `rows` of
 * a split, in batches, without gradients. Batches are weighted by their size.
 */
export function evaluateLoss(
  model: TftModel,
  dataset: FeatureDataset,
  split: SplitName,
  rows: Int32Array,
  options: { batchSize?: number; positiveWeight?: number } = {},
): number | null {
  if (rows.length === 0) return null;
  const size = options.batchSize ?? 64;
  let sum = 0;
  for (let start = 0; start < rows.length; start += size) {
    const batch = dataset.materialize(split, rows.subarray(start, Math.min(rows.length, start + size)));
    sum += batchLoss(model, batch, options.positiveWeight ?? 1).total * batch.size;
  }
  return sum / rows.length;
}

/**
 * A batch's total loss, and what early stopping watches: the same without the failure-mode
 * term, which is learned on the few positive windows only and swings from epoch to epoch (with
 * it, every default run kept epoch 4).
 */
function batchLoss(model: TftModel, batch: WindowBatch, positiveWeight: number): { total: number; monitored: number } {
  const c = model.config;
  const b = batch.size;
  const inputs = model.inputsFromBatch(batch);
  try {
    let value = { total: NaN, monitored: NaN };
    tf.tidy(() => {
      const targets = {
        targets: tf.tensor3d(batch.targets, [b, c.horizonSteps, c.targets]),
        targetMask: tf.tensor3d(batch.targetMask, [b, c.horizonSteps, c.targets]),
        risk: tf.tensor1d(batch.risk),
        failureMode: tf.tensor1d(batch.failureMode, 'int32'),
      };
      const loss = tftLoss(model.forward(inputs), targets, { quantiles: c.quantiles, positiveWeight });
      const [total, quantile, risk] = [loss.total, loss.quantile, loss.risk].map((x) => x.dataSync()[0]!);
      value = { total: total!, monitored: DEFAULT_QUANTILE_WEIGHT * quantile! + risk! };
    });
    return value;
  } finally {
    disposeInputs(inputs);
  }
}

/**
 * Trains a TFT on `dataset`. Same options and seed on the same backend give the same history
 * and weights. Throws TrainingCancelled when `signal` aborts (checked before every step and
 * every validation batch); the model is then disposed and no tensor is left behind.
 */
export async function trainTft(options: TrainTftOptions): Promise<TrainTftResult> {
  const started = performance.now();
  const { dataset } = options;
  const spec = options.spec ?? dataset.spec;
  const epochs = options.epochs ?? TRAIN_DEFAULTS.epochs;
  const batchSize = options.batchSize ?? TRAIN_DEFAULTS.batchSize;
  const seed = options.seed ?? TRAIN_DEFAULTS.seed;
  const patience = options.patience ?? TRAIN_DEFAULTS.patience;
  const minDelta = options.minDelta ?? 0;
  const maxWindowsPerEpoch = options.maxWindowsPerEpoch ?? TRAIN_DEFAULTS.maxWindowsPerEpoch;
  const maxValidationWindows = options.maxValidationWindows ?? TRAIN_DEFAULTS.maxValidationWindows;
  const learningRate = options.learningRate ?? TRAIN_DEFAULTS.learningRate;
  const clipNorm = options.clipNorm ?? TRAIN_DEFAULTS.clipNorm;
  const unknownServerRate = options.unknownServerRate ?? TRAIN_DEFAULTS.unknownServerRate;
  checkPositiveInt('epochs', epochs);
  checkPositiveInt('batchSize', batchSize);
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  if (!Number.isInteger(patience) || patience < 0) throw new Error(`patience must be a whole number, got ${patience}`);
  if (!(maxWindowsPerEpoch >= 1)) throw new Error(`maxWindowsPerEpoch must be >= 1, got ${maxWindowsPerEpoch}`);
  if (!(maxValidationWindows >= 0)) throw new Error(`maxValidationWindows must be >= 0, got ${maxValidationWindows}`);
  if (options.maxSteps !== undefined) checkPositiveInt('maxSteps', options.maxSteps);
  const oversamplePositives = options.oversamplePositives ?? TRAIN_DEFAULTS.oversamplePositives;
  if (!(oversamplePositives >= 1 && Number.isFinite(oversamplePositives)))
    throw new Error(`oversamplePositives must be >= 1, got ${oversamplePositives}`);
  const precursorOversample = options.precursorOversample ?? TRAIN_DEFAULTS.precursorOversample;
  const precursorOversampleModes = options.precursorOversampleModes ?? TRAIN_DEFAULTS.precursorOversampleModes;
  const precursorMinProgress = options.precursorMinProgress ?? TRAIN_DEFAULTS.precursorMinProgress;
  const calibrateRisk = options.calibrateRisk ?? TRAIN_DEFAULTS.calibrateRisk;
  if (!(precursorOversample >= 1 && Number.isFinite(precursorOversample)))
    throw new Error(`precursorOversample must be >= 1, got ${precursorOversample}`);
  if (!(precursorMinProgress >= 0 && precursorMinProgress < 1))
    throw new Error(`precursorMinProgress must be in [0, 1), got ${precursorMinProgress}`);
  const settings = {
    epochs,
    batchSize,
    seed,
    patience,
    maxWindowsPerEpoch,
    maxValidationWindows,
    learningRate,
    clipNorm,
    unknownServerRate,
    oversamplePositives,
    precursorOversample,
    precursorOversampleModes,
    precursorMinProgress,
    calibrateRisk,
  };
  const resume = options.resumeFrom;
  const signal = options.signal;
  const cancelled = (): TrainingCancelled =>
    new TrainingCancelled(typeof signal?.reason === 'string' ? signal.reason : 'training cancelled');
  if (signal?.aborted) throw cancelled();

  const train = dataset.split('train');
  if (train.size === 0) throw new Error('the dataset has no training windows');
  const trainPositives = dataset.stats.train.positives;
  const positiveWeight = options.positiveWeight ?? TRAIN_DEFAULTS.positiveWeight;
  // Without positives there is nothing to oversample (and no bias to shift back).
  const oversample = trainPositives > 0 ? oversamplePositives : 1;
  // Modes the spec does not have (a custom spec) are skipped: nothing of theirs to repeat.
  const boostModes = precursorOversampleModes
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m.length > 0 && m !== 'none' && spec.failureModes.includes(m));
  const precursorBoost =
    precursorOversample > 1 && boostModes.length > 0
      ? {
          factors: Object.fromEntries(boostModes.map((m) => [spec.failureModes.indexOf(m), precursorOversample])),
          minProgress: precursorMinProgress,
        }
      : undefined;

  const backend = backendInUse() ?? (await selectBackend(options.backend));
  const config = tftConfigFromSpec(spec, options.hyper);
  const model = new TftModel(config, { seed });
  try {
    const optimizer = new HostAdam({ learningRate, clipNorm });
    const augmentationStream = seededRandom((seed * 0x9e3779b1 + 0x5eed) >>> 0);
    // Draws are counted so that a checkpoint records the stream's position and a resume skips to it.
    let augmentationDraws = 0;
    const augmentation = (): number => {
      augmentationDraws++;
      return augmentationStream();
    };
    const validationIndex = dataset.split('validation');
    const validationRows = sampleIndices(validationIndex.size, maxValidationWindows, seededRandom((seed ^ 0x7a11d) >>> 0)).sort();
    let validationPositives = 0;
    for (const r of validationRows) validationPositives += validationIndex.risk[r]!;

    const perEpoch = Math.min(train.size, maxWindowsPerEpoch);
    const stepsPerEpoch = Math.ceil(perEpoch / batchSize);
    const plannedSteps = Math.min(epochs * stepsPerEpoch, options.maxSteps ?? Infinity);
    const validationBatches = Math.ceil(validationRows.length / batchSize);
    if (resume) {
      assertResumable(resume, settings, positiveWeight);
      model.load(resume.weights);
      optimizer.setState(resume.optimizer);
      while (augmentationDraws < resume.rngDraws.augmentation) augmentation();
    }
    const history: EpochRecord[] = resume ? [...resume.history] : [];
    let best: { epoch: number; loss: number; weights: SerializedWeights } | null = resume?.best ?? null;
    let sinceBest = resume?.sinceBest ?? 0;
    let stepsDone = resume?.stepsDone ?? 0;
    let samplesDone = resume?.samplesDone ?? 0;
    let stepMs = resume?.stepMs ?? 0;
    let validationMs = resume?.validationMs ?? 0;
    let lastValidation: number | undefined = resume?.history.at(-1)?.validationLoss ?? undefined;
    const elapsedBefore = resume?.elapsedMs ?? 0;

    const eta = (): number => {
      const perStep = stepsDone > 0 ? stepMs / stepsDone : 0;
      const epochsLeft = Math.ceil((plannedSteps - stepsDone) / stepsPerEpoch);
      const perValidation = history.length > 0 ? validationMs / history.length : (perStep * validationBatches) / 3;
      return ((plannedSteps - stepsDone) * perStep + epochsLeft * perValidation) / 1000;
    };

    const firstEpoch = resume ? (resume.stopped ? epochs + 1 : resume.epoch + 1) : 1;
    for (let epoch = firstEpoch; epoch <= epochs && stepsDone < plannedSteps; epoch++) {
      const epochStart = performance.now();
      // A seeded shuffle of all training windows; the first `perEpoch` of it are this epoch's.
      const order = dataset
        .epochOrder('train', {
          seed: `${seed}`,
          epoch,
          oversamplePositives: oversample,
          ...(precursorBoost ? { precursorOversample: precursorBoost } : {}),
        })
        .subarray(0, perEpoch);
      let lossSum = 0;
      let lossCount = 0;
      let step = 0;
      for (let start = 0; start < order.length && stepsDone < plannedSteps; start += batchSize) {
        if (signal?.aborted) throw cancelled();
        const t0 = performance.now();
        const batch = dataset.materialize('train', order.subarray(start, Math.min(order.length, start + batchSize)));
        const losses = trainStep(model, batch, optimizer, { ...options.lossWeights, positiveWeight, unknownServerRate, random: augmentation });
        stepMs += performance.now() - t0;
        step++;
        stepsDone++;
        samplesDone += batch.size;
        lossSum += losses.total * batch.size;
        lossCount += batch.size;
        options.onProgress?.({
          epoch,
          epochs,
          step,
          steps: stepsPerEpoch,
          trainLoss: lossSum / lossCount,
          ...(lastValidation === undefined ? {} : { validationLoss: lastValidation }),
          samplesPerSec: stepMs > 0 ? samplesDone / (stepMs / 1000) : 0,
          etaSeconds: eta(),
          backend: backend.tfName,
          phase: 'train',
        });
        await yieldToEventLoop();
      }
      if (!Number.isFinite(lossSum)) throw new Error(`training diverged in epoch ${epoch} (loss ${lossSum / lossCount})`);

      const v0 = performance.now();
      let validationLoss: number | null = null;
      let validationMonitored: number | null = null;
      if (validationRows.length > 0) {
        let sum = 0;
        let monitoredSum = 0;
        for (let start = 0; start < validationRows.length; start += batchSize) {
          if (signal?.aborted) throw cancelled();
          const rows = validationRows.subarray(start, Math.min(validationRows.length, start + batchSize));
          const l = batchLoss(model, dataset.materialize('validation', rows), positiveWeight);
          sum += l.total * rows.length;
          monitoredSum += l.monitored * rows.length;
          await yieldToEventLoop();
        }
        validationLoss = sum / validationRows.length;
        validationMonitored = monitoredSum / validationRows.length;
      }
      validationMs += performance.now() - v0;
      const trainLoss = lossSum / lossCount;
      history.push({ epoch, trainLoss, validationLoss, seconds: (performance.now() - epochStart) / 1000 });
      lastValidation = validationLoss ?? undefined;
      options.onProgress?.({
        epoch,
        epochs,
        step,
        steps: stepsPerEpoch,
        trainLoss,
        ...(validationLoss === null ? {} : { validationLoss }),
        samplesPerSec: stepMs > 0 ? samplesDone / (stepMs / 1000) : 0,
        etaSeconds: eta(),
        backend: backend.tfName,
        phase: 'validation',
      });

      // Forecast + risk loss on validation (batchLoss); without validation windows, the train loss.
      const monitored = validationMonitored ?? trainLoss;
      let stop = false;
      if (best === null || monitored < best.loss - minDelta) {
        best = { epoch, loss: monitored, weights: model.serialize() };
        sinceBest = 0;
      } else {
        sinceBest++;
        stop = patience > 0 && sinceBest >= patience;
      }
      await options.checkpoint?.({
        epoch,
        settings,
        positiveWeight,
        weights: model.serialize(),
        optimizer: optimizer.getState(),
        history: [...history],
        best,
        sinceBest,
        stopped: stop,
        stepsDone,
        samplesDone,
        stepMs,
        validationMs,
        elapsedMs: elapsedBefore + performance.now() - started,
        rngDraws: { augmentation: augmentationDraws },
      });
      if (stop) break;
    }

    if (best && best.epoch !== history.length) model.load(best.weights);
    if (oversample > 1) shiftRiskPrior(model, oversample);
    let riskCalibration: RiskCalibrationFit | null = null;
    if (calibrateRisk) {
      riskCalibration = fitRiskCalibration(model, dataset);
      if (riskCalibration) applyRiskCalibration(model, riskCalibration);
    }
    return {
      riskCalibration,
      model,
      history,
      bestEpoch: best?.epoch ?? 0,
      backend,
      durationMs: elapsedBefore + performance.now() - started,
      samplesPerSecond: stepMs > 0 ? samplesDone / (stepMs / 1000) : 0,
      positiveWeight,
      settings,
      validationWindows: validationRows.length,
      validationPositives,
    };
  } catch (error) {
    // trainStep and batchLoss release their own tensors, even when they throw: the weights are all that is left.
    model.dispose();
    throw error;
  }
}

/**
 * Prior shift after training with positives repeated `factor` times: the model learned odds
 * `factor` times too high, so its risk logit is lowered by ln(factor) (the risk head's bias),
 * which makes the exported risk an estimate of the true probability again (Saerens et al. 2002).
 */
export function shiftRiskPrior(model: TftModel, factor: number): void {
  const bias = model.store.get('heads.risk.b');
  const shifted = tf.tidy(() => tf.sub(bias, Math.log(factor)));
  bias.assign(shifted);
  shifted.dispose();
}
