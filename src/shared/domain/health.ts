import { z } from 'zod';

export const ExecutionProviderSchema = z.enum(['cpu', 'webgpu', 'cuda']);
export type ExecutionProvider = z.infer<typeof ExecutionProviderSchema>;

export const ModelInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  /** The data contract the model was trained under. */
  contractVersion: z.string(),
  /** bundled: the model shipped with the app; preferred: the one the user chose. */
  source: z.enum(['bundled', 'preferred']),
  /** Why the preferred model is not the one running (it was refused); null when it is, or none was chosen. */
  fallbackReason: z.string().nullable(),
  executionProvider: ExecutionProviderSchema,
  /** One sentence: why this provider (requested, fastest on a calibration batch, a GPU fell back to cpu...). */
  executionProviderReason: z.string(),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

/**
 * The prediction loop: off (no model configured), loading, ready (predicting), failed (no model
 * could be loaded: `detail` says why, and the app runs on without predictions).
 */
export const PredictorStatusSchema = z.object({
  state: z.enum(['off', 'loading', 'ready', 'failed']),
  /** Why there are no predictions (off, failed), or why the last cycle failed; null otherwise. */
  detail: z.string().nullable(),
  /** Cycles run, skipped (one was still running) and failed since start. */
  cycles: z.number().int().nonnegative(),
  skippedCycles: z.number().int().nonnegative(),
  failedCycles: z.number().int().nonnegative(),
  /** Wall time of the last cycle, ms; null before the first. */
  lastCycleMs: z.number().nonnegative().nullable(),
  /** The context-window end of the latest predictions; null before the first cycle. */
  lastPredictionTime: z.iso.datetime().nullable(),
  /** Duration of the recent cycles (up to the last 1,024): quantiles, and sum and count since start. */
  cycleDuration: z.object({
    quantiles: z.array(z.object({ q: z.number().min(0).max(1), ms: z.number().nonnegative() })),
    sumMs: z.number().nonnegative(),
    count: z.number().int().nonnegative(),
  }),
  /** Wall time of each stage of the last cycle, ms; null before the first. */
  stagesMs: z
    .object({
      read: z.number().nonnegative(),
      features: z.number().nonnegative(),
      infer: z.number().nonnegative(),
      decode: z.number().nonnegative(),
      store: z.number().nonnegative(),
      alerts: z.number().nonnegative(),
    })
    .nullable(),
  /**
   * Where cycles read their window and compute (features, inference, decoding): the prediction
   * worker thread, the main thread, or the main thread after the worker failed.
   */
  windowReader: z.enum(['worker', 'main', 'main-fallback']),
});
export type PredictorStatus = z.infer<typeof PredictorStatusSchema>;

/** What `GET /health` answers and what the connection indicator shows. */
export const HealthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  app: z.object({ name: z.string(), version: z.string() }),
  apiVersion: z.string(),
  /** Where the core runs: inside the Electron main process or the headless daemon. */
  runtime: z.enum(['desktop', 'daemon', 'test']),
  startedAt: z.iso.datetime(),
  uptimeSeconds: z.number().nonnegative(),
  /** The active model; null until a model is loaded (and when none can be: see `predictor`). */
  model: ModelInfoSchema.nullable(),
  predictor: PredictorStatusSchema,
  /** Human-readable reasons when status is "degraded". */
  problems: z.array(z.string()),
});
export type Health = z.infer<typeof HealthSchema>;
