import { z } from 'zod';
import { METRIC_NAMES, PROFILES } from '../contract/metrics';

const isoTime = z.iso.datetime();

/**
 * Why a server has no risk score:
 *   no_model      no model is loaded (none configured, or the model folder was refused: /health says why);
 *   pending       the model is loading, or the server is newer than the latest prediction cycle;
 *   no_data       nothing reported in the model's context window (24 h);
 *   low_coverage  too little reported in that window to predict from;
 *   stale         nothing reported for the last 15 minutes of the window: a risk would describe the past.
 */
export const PREDICTION_SKIP_REASONS = ['no_model', 'pending', 'no_data', 'low_coverage', 'stale'] as const;
export type PredictionSkipReason = (typeof PREDICTION_SKIP_REASONS)[number];

export const PredictionSkipSchema = z.object({
  reason: z.enum(PREDICTION_SKIP_REASONS),
  /** One line for people. */
  detail: z.string(),
});
export type PredictionSkip = z.infer<typeof PredictionSkipSchema>;

/** One target metric's forecast: one value per horizon step, in the metric's contract units. */
export const ForecastBandSchema = z.object({
  metric: z.enum(METRIC_NAMES),
  p10: z.array(z.number()),
  p50: z.array(z.number()),
  p90: z.array(z.number()),
});
export type ForecastBand = z.infer<typeof ForecastBandSchema>;

export const ServerPredictionSchema = z.object({
  server: z.string(),
  profile: z.enum(PROFILES),
  /** Probability that an incident begins within the horizon (8 h). */
  risk: z.number().min(0).max(1),
  /**
   * The most likely failure mode (argmax over featureSpec.failureModes). The model learns it on
   * windows that led to an incident, so it reads "if an incident comes, most likely this kind";
   * `risk` says how likely one is.
   */
  failureMode: z.string(),
  /** Every failure mode's probability, by name ("none" first); they sum to 1. */
  failureModes: z.record(z.string(), z.number()),
  /** False when the model never saw this server in training: it is predicted through its profile. */
  knownServer: z.boolean(),
  /** Share of the context window's sample slots the server reported, 0..1. */
  coverage: z.number().min(0).max(1),
  /** One band per target metric (model order). */
  forecast: z.array(ForecastBandSchema),
  /**
   * Present when the server's upstream (the server it depends on, e.g. a web server's database)
   * is known and was predicted: `risk` above then also counts the chance that the upstream has an
   * incident within the horizon and takes this server down, 1 - (1 - modelRisk) x (1 -
   * coefficient x upstream risk). `server` is the upstream, `risk` its risk, `modelRisk` this
   * server's risk from its own metrics alone, and `coefficient` how often an incident on an
   * upstream was followed by one on a dependent in the model's training data. The failure modes
   * are mixed the same way (the upstream's share goes to "dependency"). Absent when the fleet's
   * topology is unknown (only the simulator knows it) or the model has no cascade coefficient.
   */
  upstream: z
    .object({
      server: z.string(),
      risk: z.number().min(0).max(1),
      modelRisk: z.number().min(0).max(1),
      coefficient: z.number().min(0).max(1),
    })
    .optional(),
});
export type ServerPrediction = z.infer<typeof ServerPredictionSchema>;

export const PredictionModelRefSchema = z.object({ name: z.string(), version: z.string() });

/** `predictions.current`: the latest prediction cycle, every server in it. */
export const CurrentPredictionsSchema = z.object({
  /** The model that made them; null while none is loaded. */
  model: PredictionModelRefSchema.nullable(),
  /** The end of the context window the predictions were made from (the forecast starts after it); null before the first cycle. */
  time: isoTime.nullable(),
  /** When the cycle ran, on the fleet clock; null before the first cycle. */
  predictedAt: isoTime.nullable(),
  /** The forecast's steps: `times[k]` is the end of horizon step k. Empty before the first cycle. */
  horizon: z.object({
    stepMinutes: z.number().int().nonnegative(),
    times: z.array(isoTime),
  }),
  servers: z.array(ServerPredictionSchema),
  /** Servers in the store that the cycle could not predict, and why. */
  skipped: z.array(PredictionSkipSchema.extend({ server: z.string() })),
});
export type CurrentPredictions = z.infer<typeof CurrentPredictionsSchema>;

/** `predictions.server` input: one server by name. */
export const ServerPredictionQuerySchema = z.object({ server: z.string().min(1).max(200) }).strict();

/**
 * `predictions.server`: one server's latest prediction, or why it has none. A server the model
 * never saw in training is predicted through its profile (`prediction.knownServer` false).
 */
export const ServerPredictionResultSchema = z.object({
  model: PredictionModelRefSchema.nullable(),
  time: isoTime.nullable(),
  predictedAt: isoTime.nullable(),
  horizon: CurrentPredictionsSchema.shape.horizon,
  /** Null when the latest cycle did not predict this server: `unavailable` says why. */
  prediction: ServerPredictionSchema.nullable(),
  unavailable: PredictionSkipSchema.nullable(),
});
export type ServerPredictionResult = z.infer<typeof ServerPredictionResultSchema>;

/** Pushed after every prediction cycle: enough for counters; views refetch the rest. */
export const PredictionsUpdatedSchema = z.object({
  model: PredictionModelRefSchema,
  time: isoTime,
  predictedAt: isoTime,
  servers: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  /** Servers with risk over 0.5. */
  atRisk: z.number().int().nonnegative(),
  /** Wall time of the cycle (store read, features, inference, decoding), ms. */
  durationMs: z.number().nonnegative(),
});
export type PredictionsUpdated = z.infer<typeof PredictionsUpdatedSchema>;

/** The risk above which a server counts as "at risk" in counters. */
export const AT_RISK_THRESHOLD = 0.5;
