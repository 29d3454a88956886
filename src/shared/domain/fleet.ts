import { z } from 'zod';
import { METRIC_NAMES, PROFILES, SERVER_STATES } from '../contract/metrics';
import { SERVER_HEALTHS } from './alerts';
import { FleetRiskSchema } from './dashboard';
import { PredictionSkipSchema } from './predictions';

export const SourceStatusSchema = z.object({
  id: z.string(),
  kind: z.enum(['simulator', 'file', 'prometheus']),
  state: z.enum(['starting', 'running', 'stopped', 'failing']),
  /** One line for people: "20 servers at 60x", "connection refused"... */
  detail: z.string(),
  /** The simulator's fleet seconds per wall second; null for other sources. */
  speed: z.number().positive().nullable(),
});
export type SourceStatus = z.infer<typeof SourceStatusSchema>;

/** Fleet-level figures, the seed's `GET /status`. */
export const FleetStatusSchema = z.object({
  serversTotal: z.number().int().nonnegative(),
  /** Servers with a sample in the last 15 minutes of fleet time. */
  serversReporting: z.number().int().nonnegative(),
  /** Newest sample time in the store, ISO 8601; null while the store is empty. */
  lastSampleAt: z.iso.datetime().nullable(),
  /** The fleet's clock: the wall clock, or ahead of it when the simulator is accelerated. */
  fleetTime: z.iso.datetime(),
  sources: z.array(SourceStatusSchema),
  /** The overview's risk figures from the latest prediction cycle and the open alerts. */
  risk: FleetRiskSchema,
});
export type FleetStatus = z.infer<typeof FleetStatusSchema>;

/**
 * The newest value of each metric. A metric absent from the record was not reported; `null`
 * means the server reported a non-finite value (NaN or ±Inf), which JSON cannot carry.
 */
export const LatestMetricsSchema = z.partialRecord(z.enum(METRIC_NAMES), z.number().nullable());

export const ServerSummarySchema = z.object({
  name: z.string(),
  profile: z.enum(PROFILES),
  state: z.enum(SERVER_STATES).nullable(),
  lastSeen: z.iso.datetime(),
  reporting: z.boolean(),
  latest: LatestMetricsSchema,
  /** P(incident within 8 h) from the latest prediction cycle; null when there is none for this server. */
  risk: z.number().min(0).max(1).nullable(),
  /** The most likely failure mode should an incident come ("memory", "disk"...; see ServerPrediction); null with risk. */
  failureMode: z.string().nullable(),
  /** Why risk is null; null when it is not. */
  riskUnavailable: PredictionSkipSchema.nullable(),
  /** What the dashboard colours it: stale (not reporting) wins over any risk. */
  health: z.enum(SERVER_HEALTHS),
});
export type ServerSummary = z.infer<typeof ServerSummarySchema>;

export const FleetServersSchema = z.object({
  fleetTime: z.iso.datetime(),
  servers: z.array(ServerSummarySchema),
});
export type FleetServers = z.infer<typeof FleetServersSchema>;

/** Pushed after new samples reach the store: enough for counters; views refetch the rest. */
export const FleetUpdatedSchema = z.object({
  fleetTime: z.iso.datetime(),
  lastSampleAt: z.iso.datetime().nullable(),
  serversTotal: z.number().int().nonnegative(),
  serversReporting: z.number().int().nonnegative(),
  accepted: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
});
export type FleetUpdated = z.infer<typeof FleetUpdatedSchema>;
