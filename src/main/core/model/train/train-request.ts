import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_FEATURE_SPEC, type FeatureSpec } from '../features';
import { FeatureSpecSchema } from '../folder/model-manifest';
import type { BackendOptions } from '../tft/backend';
import type { TftHyperParams } from '../tft/config';
import { TRAIN_DEFAULTS, type TrainTftOptions } from './train-model';

/**
 * What one training run is: the dataset folder, where the model folder goes, and every setting
 * after defaults. Resolved once when a run starts (resolveTrainRequest) and stored in its
 * checkpoints, so a resumed run uses exactly the settings it started with, even when a later
 * build changes TRAIN_DEFAULTS.
 */
const positiveInt = z.number().int().min(1);

/**
 * The members a run trains when the caller names no seed: three, whose outputs the exported
 * graph averages (mergeOnnxEnsemble). One model's precursor recall on the validation fleet swung
 * from 56 to 65 of 70 incidents with the seed alone; the three averaged warned of 66, more than
 * any of them (docs/model.md, "An ensemble of three").
 */
export const DEFAULT_ENSEMBLE_SEEDS: readonly number[] = [42, 7, 2024];
export const MAX_ENSEMBLE_MEMBERS = 8;

const HyperSchema = z.strictObject({
  hidden: positiveInt.optional(),
  heads: positiveInt.optional(),
  variableHidden: positiveInt.optional(),
  variableGrn: z.enum(['shared', 'per-variable', 'none']).optional(),
  layerNormEpsilon: z.number().positive().optional(),
  observedVariables: z.enum(['metric', 'channel']).optional(),
}) satisfies z.ZodType<Partial<TftHyperParams>>;

export const TrainRunRequestSchema = z.strictObject({
  /** Absolute path of the dataset folder (server_metrics.* + metrics_metadata.json). */
  dataset: z.string().min(1),
  /** Absolute path of the folder that receives tft_model_YYYYMMDD_HHMMSS/ and .checkpoints/. */
  output: z.string().min(1),
  spec: FeatureSpecSchema,
  epochs: positiveInt,
  /** Member 0's seed (the only one's, for a single model). */
  seed: z.number().int(),
  /**
   * One model per seed; two or more make an ensemble, one graph averaging them. Each seed fixes
   * its member's held-out servers, subsets, order and initial weights. Absent (checkpoints of
   * older builds): [seed].
   */
  seeds: z
    .array(z.number().int())
    .min(1)
    .max(MAX_ENSEMBLE_MEMBERS)
    .refine((xs) => new Set(xs).size === xs.length, 'each member needs its own seed')
    .optional(),
  patience: z.number().int().min(0),
  batchSize: positiveInt,
  maxWindowsPerEpoch: positiveInt,
  maxValidationWindows: z.number().int().min(0),
  learningRate: z.number().positive(),
  clipNorm: z.number().min(0),
  unknownServerRate: z.number().min(0).max(1),
  minDelta: z.number().min(0),
  maxSteps: positiveInt.optional(),
  positiveWeight: z.number().positive().optional(),
  oversamplePositives: z.number().min(1).optional(),
  lossWeights: z
    .strictObject({ quantileWeight: z.number().min(0).optional(), riskWeight: z.number().min(0).optional(), failureWeight: z.number().min(0).optional() })
    .optional(),
  hyper: HyperSchema.optional(),
  /** Write a checkpoint after every epoch (default true). */
  checkpoints: z.boolean(),
  /**
   * The model folder's name instead of tft_model_YYYYMMDD_HHMMSS (e.g. "default" for the bundled
   * model); an existing folder of that name is replaced once the new one is complete.
   */
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a folder name: letters, digits, ".", "_" and "-", not starting with "." or "-"')
    .max(100)
    .optional(),
});

/** A run's request with every setting resolved (what checkpoints store). */
export type TrainRunRequest = z.infer<typeof TrainRunRequestSchema>;

/** What a caller gives: the two folders, and any setting to change from its default. */
export type TrainRequestInput = Partial<Omit<TrainRunRequest, 'dataset' | 'output' | 'spec'>> & {
  dataset: string;
  output: string;
  /** Default DEFAULT_FEATURE_SPEC. */
  spec?: FeatureSpec;
};

/** A new run, or the continuation of an interrupted one from its checkpoint (checkpoint-file.ts). */
export type TrainJob =
  | { kind: 'new'; request: TrainRequestInput; now?: string; backend?: BackendOptions }
  | {
      kind: 'resume';
      /** The run's checkpoint folder (`<output>/.checkpoints/<run>/`) or its checkpoint.bin. */
      checkpoint: string;
      /** Where the dataset is now, when it moved (its content must not have changed). */
      dataset?: string;
      /** Another folder for the model folder; checkpoints stay in the run's folder. */
      output?: string;
      now?: string;
      backend?: BackendOptions;
    };

/**
 * Fills in the defaults and makes the paths absolute; throws a plain Error naming a bad setting.
 * Seeds: `seeds` as given; else `seed` alone (one model); else DEFAULT_ENSEMBLE_SEEDS.
 */
export function resolveTrainRequest(input: TrainRequestInput): TrainRunRequest {
  if (input.seeds !== undefined && input.seed !== undefined && input.seeds[0] !== input.seed)
    throw new Error(`training request: seed ${input.seed} is not seeds[0] (${input.seeds[0]}): give one or the other`);
  const seeds = input.seeds ?? (input.seed !== undefined ? [input.seed] : [...DEFAULT_ENSEMBLE_SEEDS]);
  const candidate = {
    ...input,
    seeds,
    dataset: resolve(input.dataset),
    output: resolve(input.output),
    spec: input.spec ?? DEFAULT_FEATURE_SPEC,
    epochs: input.epochs ?? TRAIN_DEFAULTS.epochs,
    seed: seeds[0] ?? TRAIN_DEFAULTS.seed,
    patience: input.patience ?? TRAIN_DEFAULTS.patience,
    batchSize: input.batchSize ?? TRAIN_DEFAULTS.batchSize,
    maxWindowsPerEpoch: input.maxWindowsPerEpoch ?? TRAIN_DEFAULTS.maxWindowsPerEpoch,
    maxValidationWindows: input.maxValidationWindows ?? TRAIN_DEFAULTS.maxValidationWindows,
    learningRate: input.learningRate ?? TRAIN_DEFAULTS.learningRate,
    clipNorm: input.clipNorm ?? TRAIN_DEFAULTS.clipNorm,
    unknownServerRate: input.unknownServerRate ?? TRAIN_DEFAULTS.unknownServerRate,
    minDelta: input.minDelta ?? 0,
    checkpoints: input.checkpoints ?? true,
  };
  const parsed = TrainRunRequestSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`training request: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The trainTft options of a request (the dataset, signal and callbacks are the caller's). */
export function trainOptionsOf(request: TrainRunRequest): Omit<TrainTftOptions, 'dataset'> {
  // No spec: trainTft takes the dataset's, which is the request's plus the fitted normalization.
  const { epochs, seed, patience, batchSize, maxWindowsPerEpoch, maxValidationWindows, learningRate, clipNorm, unknownServerRate, minDelta } = request;
  return {
    epochs,
    seed,
    patience,
    batchSize,
    maxWindowsPerEpoch,
    maxValidationWindows,
    learningRate,
    clipNorm,
    unknownServerRate,
    minDelta,
    ...(request.maxSteps === undefined ? {} : { maxSteps: request.maxSteps }),
    ...(request.positiveWeight === undefined ? {} : { positiveWeight: request.positiveWeight }),
    ...(request.oversamplePositives === undefined ? {} : { oversamplePositives: request.oversamplePositives }),
    ...(request.lossWeights === undefined ? {} : { lossWeights: request.lossWeights }),
    ...(request.hyper === undefined ? {} : { hyper: request.hyper }),
  };
}
