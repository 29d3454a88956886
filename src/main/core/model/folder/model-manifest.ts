import { z } from 'zod';
import { METRIC_NAMES, PROFILES } from '@shared/contract';
import { INCIDENT_TYPES } from '@shared/domain';
import { FEATURE_PIPELINE_VERSION, validateFeatureSpec, type FeatureSpec } from '../features/feature-spec';
// Types only: the folder module reads and writes files and never loads onnxruntime.
import type { TensorSpec } from '../infer/tensor-checks';

/**
 * model.json: everything needed to run a model folder's ONNX graph exactly as it was trained,
 * and to show where it came from. Read with ModelManifestSchema at every load; the loader
 * trusts nothing in it that the schema did not check.
 *
 * Every object is strict (unknown keys are refused, at every level): a misspelt optional field
 * would otherwise be dropped silently, and a manifest from a newer writer must say so through
 * `formatVersion` rather than be half understood.
 */

/** Bump when model.json changes in a way an older reader would misread. */
export const MODEL_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'model.json';
export const DEFAULT_ONNX_FILE = 'model.onnx';

const SEMVER = /^\d+\.\d+\.\d+$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/**
 * A plain file name inside the folder: no separators, no leading dot, ends in .onnx. The name
 * comes from a file anyone can edit; "../../x.onnx" must not make the loader read outside.
 */
const ONNX_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,126}\.onnx$/;

const nonEmpty = z.string().min(1);
const count = z.number().int().min(0);
const finite = z.number(); // zod 4 refuses NaN and +-Infinity for z.number()
const isoTime = z.iso.datetime({ offset: true });

// ---------------------------------------------------------------------------------------------
// FeatureSpec: parsed field by field (so a wrong type names its field), then checked as a whole
// by validateFeatureSpec (so the rules live in one place, next to the pipeline that needs them).

const MetricScalingSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('linear'), scale: finite }),
  z.strictObject({ kind: z.literal('log1p'), scale: finite, reference: finite }),
]);

export const FeatureSpecSchema = z
  .strictObject({
    pipelineVersion: z.number().int(),
    stepMinutes: z.number().int(),
    contextSteps: z.number().int(),
    horizonSteps: z.number().int(),
    observed: z.array(z.string()),
    known: z.array(z.string()),
    utcOffsetMinutes: z.number().int(),
    targets: z.array(z.enum(METRIC_NAMES)),
    quantiles: z.array(finite),
    failureModes: z.array(z.string()),
    failureModeOf: z.partialRecord(z.enum(INCIDENT_TYPES), z.string()),
    profiles: z.array(z.enum(PROFILES)),
    serverBuckets: z.number().int(),
    scaling: z.record(z.enum(METRIC_NAMES), MetricScalingSchema),
    normalization: z.strictObject({ center: z.array(finite), scale: z.array(finite) }).optional(),
  })
  .superRefine((spec, ctx) => {
    // Its own field: "trained by another pipeline" is a different fix (retrain) from a typo.
    if (spec.pipelineVersion !== FEATURE_PIPELINE_VERSION) {
      ctx.addIssue({
        code: 'custom',
        path: ['pipelineVersion'],
        message: `feature pipeline version ${spec.pipelineVersion}, this build implements ${FEATURE_PIPELINE_VERSION}: retrain the model`,
      });
      return;
    }
    try {
      validateFeatureSpec(spec);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
    }
  }) satisfies z.ZodType<FeatureSpec>;

// ---------------------------------------------------------------------------------------------
// ONNX signature: what createInferenceSession checks the graph and every run against.

export const TensorDocSchema = z
  .strictObject({
    name: nonEmpty,
    dtype: z.enum(['float32', 'int32', 'int64']),
    /** Static sizes, with -1 for the batch (at most one). */
    shape: z.array(
      z
        .number()
        .int()
        .refine((d) => d === -1 || d >= 1, 'each size must be >= 1, or -1 for the batch'),
    ),
    /** What the tensor means, its layout and units: shown in docs/model.md and the Models view. */
    doc: z.string(),
    /** Index inputs: inclusive valid range (ONNX Gather would read a negative index from the end). */
    range: z.tuple([z.number().int(), z.number().int()]).optional(),
  })
  .superRefine((t, ctx) => {
    if (t.shape.filter((d) => d === -1).length > 1)
      ctx.addIssue({ code: 'custom', path: ['shape'], message: 'at most one -1 (the batch) per shape' });
    if (t.range !== undefined) {
      if (t.dtype === 'float32')
        ctx.addIssue({ code: 'custom', path: ['range'], message: 'a range applies to index (int) tensors only' });
      if (t.range[0] > t.range[1])
        ctx.addIssue({ code: 'custom', path: ['range'], message: `range [${t.range.join(', ')}] is empty` });
    }
  });
export type TensorDoc = z.infer<typeof TensorDocSchema>;

const uniqueNames = (tensors: readonly TensorDoc[], ctx: z.RefinementCtx): void => {
  const seen = new Set<string>();
  tensors.forEach((t, i) => {
    if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${t.name}" is listed twice` });
    seen.add(t.name);
  });
};

export const OnnxSectionSchema = z.strictObject({
  /** File name inside the folder (model.onnx unless the writer was told otherwise). */
  file: z.string().regex(ONNX_FILE_NAME, 'a plain file name ending in .onnx (no folders, no leading dot)'),
  /** Lower-case hex sha256 of the file; computed by writeModelFolder, never by its caller. */
  sha256: z.string().regex(SHA256_HEX, 'lower-case hex sha256 (64 characters)'),
  sizeBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  opset: z.number().int().min(1),
  inputs: z.array(TensorDocSchema).min(1).superRefine(uniqueNames),
  outputs: z.array(TensorDocSchema).min(1).superRefine(uniqueNames),
});
export type OnnxSection = z.infer<typeof OnnxSectionSchema>;

// ---------------------------------------------------------------------------------------------
// Where the model came from.

const SplitCountsSchema = z.strictObject({ train: count, validation: count });

export const DatasetSummarySchema = z
  .strictObject({
    /** One line for people: "simulated, 20 servers x 30 days, seed 42", "store, 2024-05-01..05-31". */
    description: z.string(),
    /** Servers in the data set (training and held-out validation servers). */
    servers: count,
    /** Profiles present in the data (a subset of featureSpec.profiles). */
    profiles: z.array(z.enum(PROFILES)),
    timeRange: z.strictObject({ start: isoTime, end: isoTime }),
    windows: SplitCountsSchema,
    /** Windows with an incident in their horizon. */
    positives: SplitCountsSchema,
    /**
     * Servers whose identity the model learned (training split only). Inference maps any other
     * server, held-out validation servers included, to the unknown bucket and predicts it
     * through its profile; without this list it could not tell a known server from a hash
     * collision.
     */
    trainingServers: z.array(nonEmpty),
  })
  .superRefine((d, ctx) => {
    if (Date.parse(d.timeRange.start) > Date.parse(d.timeRange.end))
      ctx.addIssue({ code: 'custom', path: ['timeRange'], message: 'start is after end' });
    if (d.trainingServers.length > d.servers)
      ctx.addIssue({
        code: 'custom',
        path: ['trainingServers'],
        message: `${d.trainingServers.length} training servers but the data set has ${d.servers}`,
      });
    const seen = new Set<string>();
    d.trainingServers.forEach((s, i) => {
      if (seen.has(s))
        ctx.addIssue({ code: 'custom', path: ['trainingServers', i], message: `"${s}" is listed twice` });
      seen.add(s);
    });
    for (const split of ['train', 'validation'] as const)
      if (d.positives[split] > d.windows[split])
        ctx.addIssue({
          code: 'custom',
          path: ['positives', split],
          message: `${d.positives[split]} positives out of ${d.windows[split]} windows`,
        });
  });
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>;

const SeasonalBlendSchema = z.strictObject({
  lagSteps: count,
  blend: z.array(z.number().min(0).max(1)),
  maeModel: z.array(finite.nullable()),
  maeBlended: z.array(finite.nullable()),
  windows: count,
});

/** What one training run reports: the single model's fields, and each ensemble member's. */
const RUN_FIELDS = {
  epochsRun: count,
  /** 1-based epoch whose weights were kept (early stopping); 0 when none completed. */
  bestEpoch: count,
  durationMs: z.number().min(0),
  samplesPerSecond: z.number().min(0),
  finalTrainLoss: finite,
  /** Null when the data set had no validation windows. */
  finalValidationLoss: finite.nullable(),
};

/** One member of an ensemble: its own run, as the single-model fields describe one. */
const EnsembleMemberSchema = z
  .strictObject({
    seed: z.number().int(),
    ...RUN_FIELDS,
    seasonalBlend: SeasonalBlendSchema.optional(),
    /** The Platt scaling folded into the member's risk head: sigmoid(a x logit + b). */
    riskCalibration: z.strictObject({ a: finite, b: finite, windows: count, positives: count }).optional(),
    /** sha256 of the member's own graph, before the merge. */
    onnxSha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .refine((m) => m.bestEpoch <= m.epochsRun, { message: 'best epoch after the last epoch run', path: ['bestEpoch'] });

/**
 * For a model folder written by the app's training: how it was trained. For an ensemble the
 * single-model fields (seed, epochsRun, bestEpoch, losses, seasonalBlend) are member 0's,
 * durationMs and samplesPerSecond the whole run's; `ensemble.members` has every member's.
 */
export const TrainingSummarySchema = z
  .strictObject({
    /** TF.js backend that trained it: "tensorflow" (tfjs-node[-gpu]), "wasm", "cpu". */
    backend: nonEmpty,
    seed: z.number().int().optional(),
    ...RUN_FIELDS,
    /**
     * The forecast band moved blend[g] of the way from the median towards the value lagSteps
     * before (yesterday's), per target, fitted after training on validation windows; the MAE of
     * the median (metric units) there without and with it. Absent: no blend in the graph.
     */
    seasonalBlend: SeasonalBlendSchema.optional(),
    /**
     * How often an incident on a server others depend on was followed by one on a dependent
     * within `followWindowMinutes`, counted in the training data (model/upstream-risk.ts). Where
     * the fleet's topology is known, a dependent's served risk adds coefficient x its upstream's
     * risk. Absent: the data had no topology, and risks are the model's alone.
     */
    cascade: z
      .strictObject({
        coefficient: z.number().min(0).max(1),
        pairs: count,
        followed: count,
        followWindowMinutes: count,
      })
      .refine((c) => c.followed <= c.pairs, { message: 'followed exceeds pairs', path: ['followed'] })
      .optional(),
    /**
     * Present when the graph is an ensemble: one TFT per member, all reading the same inputs,
     * each output the mean of the members' (model/onnx/ensemble.ts).
     */
    ensemble: z.strictObject({ combine: z.literal('mean'), members: z.array(EnsembleMemberSchema).min(2) }).optional(),
    dataset: DatasetSummarySchema,
  })
  .superRefine((t, ctx) => {
    if (t.bestEpoch > t.epochsRun)
      ctx.addIssue({
        code: 'custom',
        path: ['bestEpoch'],
        message: `best epoch ${t.bestEpoch} after the last epoch run (${t.epochsRun})`,
      });
  });
export type TrainingSummary = z.infer<typeof TrainingSummarySchema>;

export const EvaluationSummarySchema = z.strictObject({
  /** Named figures ("riskAuc": 0.91, "p50MaeCpu": 3.2 ...), as the evaluation report computes them. */
  figures: z.record(z.string(), finite),
  /** Risk probability above which an alert is raised, chosen on the validation split (never on test). */
  alertThreshold: z.number().min(0).max(1),
});
export type EvaluationSummary = z.infer<typeof EvaluationSummarySchema>;

// ---------------------------------------------------------------------------------------------

export const ModelManifestSchema = z.strictObject({
  formatVersion: z.literal(MODEL_FORMAT_VERSION),
  /** Model name ("tft-default") and its own version ("2024.06.01-1"): free text for people. */
  name: nonEmpty,
  version: nonEmpty,
  createdAt: isoTime,
  /** DATA_CONTRACT_VERSION the training data followed; another major version is refused at load. */
  contractVersion: z.string().regex(SEMVER, 'a version "major.minor.patch"'),
  /** The build that wrote the folder (APP_INFO / API_VERSION), for support questions. */
  writtenBy: z.strictObject({ app: nonEmpty, appVersion: nonEmpty, apiVersion: nonEmpty }),
  featureSpec: FeatureSpecSchema,
  onnx: OnnxSectionSchema,
  /** hiddenSize, heads, dropout, lstmLayers, learningRate ...: what the trainer was given. */
  hyperParameters: z.record(z.string(), z.union([finite, z.string(), z.boolean()])),
  training: TrainingSummarySchema,
  evaluation: EvaluationSummarySchema.optional(),
  notes: z.string().optional(),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

/**
 * What writeModelFolder's caller supplies: the writer computes the ONNX file's sha256 and size
 * and stamps the format version; createdAt, contractVersion and writtenBy default to now and
 * this build.
 */
export type ModelManifestDraft = Omit<
  ModelManifest,
  'formatVersion' | 'onnx' | 'createdAt' | 'contractVersion' | 'writtenBy'
> & {
  onnx: Omit<OnnxSection, 'file' | 'sha256' | 'sizeBytes'> & { file?: string };
  createdAt?: string;
  contractVersion?: string;
  writtenBy?: ModelManifest['writtenBy'];
};

/** The ONNX signature in the form createInferenceSession takes (docs dropped). */
export function expectedTensors(manifest: Pick<ModelManifest, 'onnx'>): {
  expectedInputs: TensorSpec[];
  expectedOutputs: TensorSpec[];
} {
  const toSpec = (t: TensorDoc): TensorSpec =>
    t.range === undefined
      ? { name: t.name, dtype: t.dtype, shape: [...t.shape] }
      : { name: t.name, dtype: t.dtype, shape: [...t.shape], range: [t.range[0], t.range[1]] };
  return { expectedInputs: manifest.onnx.inputs.map(toSpec), expectedOutputs: manifest.onnx.outputs.map(toSpec) };
}

/** "training.dataset.trainingServers[3]"; "(root)" for the manifest itself. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out.length === 0 ? String(key) : `.${String(key)}`;
  }
  return out.length === 0 ? '(root)' : out;
}
