import { z } from 'zod';

export const ExecutionProviderSchema = z.enum(['cpu', 'webgpu', 'cuda']);
export type ExecutionProvider = z.infer<typeof ExecutionProviderSchema>;

export const ModelInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  contractVersion: z.string(),
  executionProvider: ExecutionProviderSchema,
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

/** What `GET /health` answers and what the connection indicator shows. */
export const HealthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  app: z.object({ name: z.string(), version: z.string() }),
  apiVersion: z.string(),
  /** Where the core runs: inside the Electron main process or the headless daemon. */
  runtime: z.enum(['desktop', 'daemon', 'test']),
  startedAt: z.iso.datetime(),
  uptimeSeconds: z.number().nonnegative(),
  /** The active model; null until a model is loaded. */
  model: ModelInfoSchema.nullable(),
  /** Human-readable reasons when status is "degraded". */
  problems: z.array(z.string()),
});
export type Health = z.infer<typeof HealthSchema>;
