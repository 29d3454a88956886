import { z } from 'zod';
import { METRIC_NAMES, PROFILES, SERVER_NAME_PATTERN, SERVER_STATES } from '../contract/metrics';
import { ALERT_SEVERITIES, AlertSchema } from './alerts';
import { PREDICTION_SKIP_REASONS, PredictionModelRefSchema } from './predictions';

/*
 * What the dashboard reads beyond the latest cycle: history (metrics, risk), fleet trends, past
 * alerts, the model's explanation of one prediction, and the interactive demo's controls.
 */

const isoTime = z.iso.datetime();
const serverName = z.string().min(1).max(200);

/** How many hours back a history or trend query may reach (the store keeps more; the views need a week at most). */
export const MAX_HISTORY_HOURS = 168;
const hours = z.coerce.number().int().min(1).max(MAX_HISTORY_HOURS);

// ---------------------------------------------------------------------------------------------
// fleet.status additions: the overview's figures.

/**
 * Servers by what the dashboard colours them: healthy (risk under the warning level), warning,
 * critical (the alert thresholds), stale (reported nothing in the last 15 minutes of fleet time:
 * never shown as healthy), unknown (reporting, but no risk: no model, too little data...).
 */
export const FleetHealthCountsSchema = z.object({
  healthy: z.number().int().nonnegative(),
  warning: z.number().int().nonnegative(),
  critical: z.number().int().nonnegative(),
  stale: z.number().int().nonnegative(),
  unknown: z.number().int().nonnegative(),
});
export type FleetHealthCounts = z.infer<typeof FleetHealthCountsSchema>;

/** Bins of the risk histogram: RISK_BINS equal bins over [0, 1], the last one closed. */
export const RISK_BINS = 10;

export const FleetRiskSchema = z.object({
  health: FleetHealthCountsSchema,
  /**
   * P(at least one incident in the fleet within the horizon) = 1 - prod(1 - risk) over the
   * predicted servers, treating them as independent (cascades make it an upper bound's neighbour,
   * not exact). Null before the first prediction cycle.
   */
  incidentProbability: z.number().min(0).max(1).nullable(),
  /** Predicted servers per risk bin (RISK_BINS bins). */
  riskHistogram: z.array(z.number().int().nonnegative()),
  /** The thresholds the colours and alerts use. */
  thresholds: z.object({ warning: z.number(), critical: z.number() }),
  /** Open alerts by severity. */
  alerts: z.object({ warning: z.number().int().nonnegative(), critical: z.number().int().nonnegative() }),
});
export type FleetRisk = z.infer<typeof FleetRiskSchema>;

// ---------------------------------------------------------------------------------------------
// metrics.history: one server's stored samples on the step grid.

export const MetricsHistoryQuerySchema = z
  .object({ server: serverName, hours: hours.default(24) })
  .strict();
export type MetricsHistoryQuery = z.infer<typeof MetricsHistoryQuerySchema>;

export const MetricsHistorySchema = z.object({
  server: z.string(),
  profile: z.enum(PROFILES),
  /** The grid: `times[i]` is the i-th step, oldest first, ending at the newest step at or before fleet time. */
  stepMinutes: z.number().int().positive(),
  times: z.array(isoTime),
  /** One value per grid step and metric; null where nothing was reported or the value was not finite. */
  metrics: z.record(z.enum(METRIC_NAMES), z.array(z.number().nullable())),
  states: z.array(z.enum(SERVER_STATES).nullable()),
});
export type MetricsHistory = z.infer<typeof MetricsHistorySchema>;

// ---------------------------------------------------------------------------------------------
// predictions.history: one server's risk per past cycle.

export const PredictionHistoryQuerySchema = MetricsHistoryQuerySchema;

export const PredictionHistorySchema = z.object({
  server: z.string(),
  points: z.array(
    z.object({
      /** The cycle's window end. */
      time: isoTime,
      risk: z.number().min(0).max(1),
      failureMode: z.string().nullable(),
      /** "name@version". */
      model: z.string(),
    }),
  ),
});
export type PredictionHistory = z.infer<typeof PredictionHistorySchema>;

// ---------------------------------------------------------------------------------------------
// trends.fleet: the Trends view, in time buckets.

export const FleetTrendsQuerySchema = z
  .object({
    hours: hours.default(24),
    /** Bucket width; default so that there are about 96 buckets. */
    bucketMinutes: z.coerce.number().int().min(5).max(1440).optional(),
  })
  .strict();
export type FleetTrendsQuery = z.infer<typeof FleetTrendsQuerySchema>;

const series = z.array(z.number().nullable());

export const FleetTrendsSchema = z.object({
  /** Bucket starts, oldest first. A bucket with no data holds null. */
  bucketMinutes: z.number().int().positive(),
  times: z.array(isoTime),
  risk: z.object({
    /** Mean, 90th percentile and max of the servers' risk over the bucket's cycles. */
    mean: series,
    p90: series,
    max: series,
    /** Servers over the warning threshold (mean over the bucket's cycles). */
    atRisk: series,
  }),
  /**
   * Prediction confidence: the mean share of cycles' risks far from undecided (|2 risk - 1|),
   * and the mean P10-P90 width at +1 h relative to the metric's contract range, per target metric.
   */
  confidence: z.object({
    decisiveness: series,
    bandWidth: z.partialRecord(z.enum(METRIC_NAMES), series),
  }),
  /** Fleet mean and 90th percentile of each metric per bucket. */
  metrics: z.record(z.enum(METRIC_NAMES), z.object({ mean: series, p90: series })),
  /** Alerts opened per bucket, by severity. */
  alertsOpened: z.record(z.enum(ALERT_SEVERITIES), z.array(z.number().int().nonnegative())),
});
export type FleetTrends = z.infer<typeof FleetTrendsSchema>;

// ---------------------------------------------------------------------------------------------
// alerts.list: past and open alerts, filtered.

export const AlertsListQuerySchema = z
  .object({
    state: z.enum(['open', 'resolved', 'all']).default('all'),
    severity: z.enum(ALERT_SEVERITIES).optional(),
    server: serverName.optional(),
    profile: z.enum(PROFILES).optional(),
    /** Only alerts that started within the last `hours` of fleet time. */
    hours: hours.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();
export type AlertsListQuery = z.infer<typeof AlertsListQuerySchema>;

export const AlertsListSchema = z.object({
  fleetTime: isoTime,
  /** Newest first. */
  alerts: z.array(AlertSchema),
  /** How many matched before `limit`. */
  total: z.number().int().nonnegative(),
});
export type AlertsList = z.infer<typeof AlertsListSchema>;

// ---------------------------------------------------------------------------------------------
// predictions.explain: why the model says what it says for one server.

export const ExplainQuerySchema = z.object({ server: serverName }).strict();

export const VariableImportanceSchema = z.object({
  /** The model input ("memory_percent", "hour_of_day", "profile"...). */
  name: z.string(),
  /** Observed in the past window, known in advance (calendar), or static (profile, server). */
  kind: z.enum(['observed', 'known', 'static']),
  /** Share of the variable selection weight within its kind, 0..1 (each kind sums to 1). */
  importance: z.number().min(0).max(1),
});
export type VariableImportance = z.infer<typeof VariableImportanceSchema>;

export const ExplanationSchema = z.object({
  server: z.string(),
  model: PredictionModelRefSchema.nullable(),
  /** The cycle's window end; null with `unavailable`. */
  time: isoTime.nullable(),
  /** Null when there is no explanation: `unavailable` says why. */
  explanation: z
    .object({
      risk: z.number().min(0).max(1),
      failureMode: z.string(),
      variables: z.array(VariableImportanceSchema),
      /** Attention of the forecast over the past window: one weight per context step (oldest first), summing to 1. */
      attention: z.object({ times: z.array(isoTime), weights: z.array(z.number().min(0)) }),
      /**
       * Sentences for people, most important first: "memory_percent rose 12 points over the
       * last 6 h and drives this prediction".
       */
      drivers: z.array(z.string()),
    })
    .nullable(),
  /** not_supported: the active model has no explanation outputs (a model exported before them). */
  unavailable: z.object({ reason: z.enum([...PREDICTION_SKIP_REASONS, 'not_supported']), detail: z.string() }).nullable(),
});
export type Explanation = z.infer<typeof ExplanationSchema>;

// ---------------------------------------------------------------------------------------------
// demo.*: the interactive demo on the simulated fleet.

/** What the demo can make a server do; "healthy" heals it. */
export const DEMO_SCENARIOS = [
  'healthy',
  'memory_leak',
  'disk_fill',
  'cpu_runaway',
  'network_saturation',
  'cascading_failure',
] as const;
export type DemoScenario = (typeof DEMO_SCENARIOS)[number];

export const DEMO_MAX_SPEED = 3600;

export const DemoRunSchema = z.object({
  server: z.string(),
  scenario: z.enum(DEMO_SCENARIOS),
  /** Fleet time the scenario started, and when the incident begins (null for "healthy"). */
  startedAt: isoTime,
  onsetAt: isoTime.nullable(),
  /** The server's simulated state now. */
  state: z.enum(SERVER_STATES).nullable(),
});
export type DemoRun = z.infer<typeof DemoRunSchema>;

export const DemoStateSchema = z.object({
  /** False when the simulated fleet is off (`--no-simulator`): the demo needs it. */
  available: z.boolean(),
  speed: z.number().positive(),
  paused: z.boolean(),
  fleetTime: isoTime,
  /** The simulated servers the demo can pick. */
  servers: z.array(z.object({ name: z.string(), profile: z.enum(PROFILES) })),
  /** Scenarios started since the last reset, newest first. */
  runs: z.array(DemoRunSchema),
});
export type DemoState = z.infer<typeof DemoStateSchema>;

export const DemoRunInputSchema = z
  .object({
    /** An existing simulated server, or a new name (it joins the fleet, with `profile` or the one its name implies). */
    server: z.string().regex(SERVER_NAME_PATTERN, 'a server name: letters, digits, . _ : - (up to 128)'),
    scenario: z.enum(DEMO_SCENARIOS),
    /** Hours from now until the incident's onset (its precursor's length); default 4. Ignored for "healthy". */
    precursorHours: z.number().min(0.5).max(12).default(4),
    profile: z.enum(PROFILES).optional(),
  })
  .strict();
export type DemoRunInput = z.infer<typeof DemoRunInputSchema>;

export const DemoControlSchema = z
  .object({
    speed: z.number().min(1).max(DEMO_MAX_SPEED).optional(),
    paused: z.boolean().optional(),
  })
  .strict();
export type DemoControl = z.infer<typeof DemoControlSchema>;
