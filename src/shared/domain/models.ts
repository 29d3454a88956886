import { z } from 'zod';

/**
 * Model management and training from the app (issue 8): the model folders the core knows, the
 * training jobs it runs on its worker thread, and what the wizard checks before one starts.
 */

const isoTime = z.string().min(1);
const nullableNumber = z.number().nullable();

/** A model folder under `<dataDir>/models/`: letters, digits, ".", "_" and "-" (no path). */
export const MODEL_FOLDER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The id of the model shipped with the app. */
export const BUNDLED_MODEL_ID = 'bundled';

/** Early-warning figures of one method on the evaluation fleet (the `evaluate` report, condensed). */
export const MethodFiguresSchema = z.object({
  auroc: nullableNumber,
  auprc: nullableNumber,
  /** Share of the incidents warned about in time (all incidents). */
  recall: nullableNumber,
  falseAlarmsPerServerDay: nullableNumber,
  leadTimeHoursMedian: nullableNumber,
});
export type MethodFigures = z.infer<typeof MethodFiguresSchema>;

/** A model's evaluation: the model and the baselines on the same simulated fleets. */
export const ModelEvaluationSchema = z.object({
  createdAt: isoTime,
  /** The evaluation fleet: unseen servers, simulated with a seed other than training's. */
  fleet: z.object({ servers: z.number().int(), days: z.number(), incidents: z.number().int(), points: z.number().int() }),
  /** `model` and each baseline (reactive, predict_linear_1h, predict_linear_6h, seasonal_naive, holt). */
  methods: z.record(z.string(), MethodFiguresSchema),
  goalsMet: z.number().int(),
  goalsTotal: z.number().int(),
  seconds: z.number(),
});
export type ModelEvaluation = z.infer<typeof ModelEvaluationSchema>;

export const ModelEntrySchema = z.object({
  /** The folder name under models/, or "bundled". What model.activate and model.delete take. */
  id: z.string(),
  dir: z.string(),
  source: z.enum(['bundled', 'models-folder', 'external']),
  active: z.boolean(),
  /** False when the folder is refused (checksum, contract, manifest): `error` says why. */
  ok: z.boolean(),
  error: z.string().nullable(),
  name: z.string().nullable(),
  version: z.string().nullable(),
  createdAt: isoTime.nullable(),
  contractVersion: z.string().nullable(),
  /** sha256 of model.onnx, as verified. */
  sha256: z.string().nullable(),
  sizeBytes: z.number().int().nullable(),
  data: z
    .object({
      description: z.string(),
      servers: z.number().int(),
      profiles: z.array(z.string()),
      from: isoTime,
      to: isoTime,
      windows: z.object({ train: z.number().int(), validation: z.number().int() }),
    })
    .nullable(),
  /** The hyper-parameters the model was trained with (hidden, heads, epochs, batchSize ...). */
  settings: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).nullable(),
  training: z
    .object({
      backend: z.string(),
      durationMs: z.number(),
      epochsRun: z.number().int(),
      bestEpoch: z.number().int(),
      samplesPerSecond: z.number(),
      finalTrainLoss: z.number(),
      finalValidationLoss: z.number().nullable(),
    })
    .nullable(),
  evaluation: ModelEvaluationSchema.nullable(),
  /** The training job that wrote it, when the app did. */
  job: z.string().nullable(),
});
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

export const ModelListSchema = z.object({
  models: z.array(ModelEntrySchema),
  /** The id of the model predictions run on (null: none loaded). */
  active: z.string().nullable(),
  /** The running training job's id, if any. */
  runningJob: z.string().nullable(),
});
export type ModelList = z.infer<typeof ModelListSchema>;

/** Which model: a folder under models/ (or its version, or "bundled"), or any model folder path. */
export const ModelSelectorSchema = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    dir: z.string().min(1).max(4096).optional(),
  })
  .superRefine((value, ctx) => {
    if ((value.name === undefined) === (value.dir === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: 'give exactly one of name (a folder under models/, its version, or "bundled") or dir (a model folder path)',
      });
  });
export type ModelSelector = z.infer<typeof ModelSelectorSchema>;

export const ModelDeleteSchema = z.strictObject({
  name: z.string().regex(MODEL_FOLDER_NAME, 'a model folder name under models/'),
});

export const ModelImportSchema = z.strictObject({
  /** A model folder (model.onnx + model.json) on the machine the core runs on. */
  dir: z.string().min(1).max(4096),
});

export const ModelExportSchema = z.strictObject({
  /** A model id from model.list (a folder under models/, or "bundled"). */
  name: z.string().min(1).max(200),
  /** An existing folder; the model folder is copied into it under its own name. */
  dir: z.string().min(1).max(4096),
});

export const ModelExportedSchema = z.object({ dir: z.string(), sha256: z.string() });

export const TrainDataSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('simulated'),
    servers: z.number().int().min(1).max(200).default(8),
    days: z.number().min(2).max(60).default(4),
    seed: z.string().min(1).max(100).default('wizard'),
  }),
  z.strictObject({
    kind: z.literal('store'),
    /** ISO times: the store's samples with from <= ts < to. */
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
  }),
]);
export type TrainData = z.infer<typeof TrainDataSchema>;

/** Model sizes: small trains in seconds, large is the bundled model's size. */
export const MODEL_SIZES = ['small', 'medium', 'large'] as const;

export const TrainSettingsSchema = z.strictObject({
  epochs: z.number().int().min(1).max(200).default(3),
  /** Stop after this many epochs without a better validation loss; 0 = never. */
  patience: z.number().int().min(0).max(50).default(2),
  batchSize: z.number().int().min(1).max(1024).default(32),
  maxWindowsPerEpoch: z.number().int().min(8).max(100_000).default(256),
  size: z.enum(MODEL_SIZES).default('small'),
  seed: z.number().int().min(0).max(2 ** 31).default(42),
  /**
   * TFTs trained and averaged into one graph (an ensemble; seeds seed, seed+1, ...): each member is
   * one more training run, so a job takes about `members` times as long. 1 = a single model; the
   * bundled model has 3.
   */
  members: z.number().int().min(1).max(5).default(1),
  /** Evaluate the new model (and the active one) on a small unseen fleet when training ends. */
  evaluate: z.boolean().default(true),
  /** Big enough that a few incidents get scored (a simulated server has one every week or two). */
  evaluationServers: z.number().int().min(1).max(50).default(8),
  evaluationDays: z.number().int().min(2).max(30).default(5),
});
export type TrainSettings = z.infer<typeof TrainSettingsSchema>;

export const ModelTrainInputSchema = z.strictObject({
  data: TrainDataSchema,
  settings: TrainSettingsSchema.default(TrainSettingsSchema.parse({})),
});

export const ModelCheckInputSchema = z.strictObject({ data: TrainDataSchema });

/** What the wizard shows before anything trains. */
export const DataCheckSchema = z.object({
  kind: z.enum(['simulated', 'store']),
  servers: z.number().int(),
  profiles: z.record(z.string(), z.number().int()),
  from: isoTime.nullable(),
  to: isoTime.nullable(),
  hours: z.number(),
  rows: z.number().int(),
  /** Share of the expected 5-minute samples present, servers x span. */
  coverage: z.number(),
  /** Holes of more than one step in a server's series, over all servers. */
  gaps: z.number().int(),
  incidents: z.number().int(),
  /** Reasons it cannot train (empty: ok). */
  problems: z.array(z.string()),
  /** Things worth knowing that do not stop training. */
  warnings: z.array(z.string()),
  ok: z.boolean(),
});
export type DataCheck = z.infer<typeof DataCheckSchema>;

export const TRAIN_JOB_STATES = ['preparing', 'training', 'evaluating', 'finished', 'failed', 'cancelled'] as const;
export type TrainJobState = (typeof TRAIN_JOB_STATES)[number];

export const TrainProgressSchema = z.object({
  phase: z.enum(['train', 'validation']),
  epoch: z.number().int(),
  epochs: z.number().int(),
  step: z.number().int(),
  steps: z.number().int(),
  /** Null when not a finite number (a diverging run): JSON has no NaN. */
  trainLoss: z.number().nullable(),
  validationLoss: z.number().nullable(),
  samplesPerSec: z.number(),
  /** Null until it can be estimated. */
  etaSeconds: z.number().nullable(),
  backend: z.string(),
  /**
   * Ensembles (settings.members > 1): the member training now, 1-based, of `members`; `epoch`,
   * `epochs`, `step` and `steps` are that member's, `etaSeconds` the whole run's. Absent for a
   * single model.
   */
  member: z.number().int().min(1).optional(),
  members: z.number().int().min(1).optional(),
});
export type TrainJobProgress = z.infer<typeof TrainProgressSchema>;

/** Why a job ran: a user (the wizard, the API) or automatic retraining. */
export const TrainTriggerSchema = z.object({
  kind: z.enum(['user', 'schedule', 'drift']),
  reason: z.string(),
});
export type TrainTrigger = z.infer<typeof TrainTriggerSchema>;

export const TrainJobSchema = z.object({
  id: z.string(),
  trigger: TrainTriggerSchema,
  /** Automatic runs: whether the new model replaced the active one, and why (replace only if better). */
  decision: z.object({ replaced: z.boolean(), reason: z.string() }).nullable(),
  state: z.enum(TRAIN_JOB_STATES),
  /** What the job is doing now, in words. */
  detail: z.string(),
  createdAt: isoTime,
  endedAt: isoTime.nullable(),
  durationMs: z.number().nullable(),
  data: TrainDataSchema,
  settings: TrainSettingsSchema,
  check: DataCheckSchema.nullable(),
  progress: TrainProgressSchema.nullable(),
  /**
   * One point per finished epoch: the loss chart. Ensembles: every member's epochs in order, each
   * point with its `member` (1-based; the epoch counter restarts with each member).
   */
  epochs: z.array(
    z.object({
      epoch: z.number().int(),
      member: z.number().int().min(1).optional(),
      trainLoss: z.number().nullable(),
      validationLoss: z.number().nullable(),
    }),
  ),
  /** The model folder written (finished jobs). */
  model: z.object({ id: z.string(), dir: z.string(), name: z.string(), version: z.string() }).nullable(),
  evaluation: ModelEvaluationSchema.nullable(),
  /** The model active when the job ended, evaluated on the same fleets. */
  activeEvaluation: z.object({ id: z.string(), name: z.string(), version: z.string(), evaluation: ModelEvaluationSchema }).nullable(),
  error: z.string().nullable(),
});
export type TrainJob = z.infer<typeof TrainJobSchema>;

export const TrainJobsSchema = z.object({ jobs: z.array(TrainJobSchema) });
export const ModelJobRefSchema = z.strictObject({ job: z.string().min(1).max(100) });

export const ModelChangedSchema = z.object({
  change: z.enum(['added', 'activated', 'deleted']),
  id: z.string(),
  active: z.string().nullable(),
});
export type ModelChanged = z.infer<typeof ModelChangedSchema>;
