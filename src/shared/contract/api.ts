import { z } from 'zod';
import type { EventName } from './events';
import {
  AcknowledgeAlertSchema,
  AlertsListQuerySchema,
  AlertsListSchema,
  DemoControlSchema,
  DemoRunInputSchema,
  DemoStateSchema,
  ExplainQuerySchema,
  ExplanationSchema,
  FleetTrendsQuerySchema,
  FleetTrendsSchema,
  MetricsHistoryQuerySchema,
  MetricsHistorySchema,
  PredictionHistoryQuerySchema,
  PredictionHistorySchema,
  ActiveAlertsSchema,
  AlertSchema,
  CurrentPredictionsSchema,
  ServerPredictionQuerySchema,
  ServerPredictionResultSchema,
  FleetServersSchema,
  FleetStatusSchema,
  HealthSchema,
  SettingsPatchSchema,
  SettingsSchema,
  // Sources and integrations (issue 9).
  DeliverySchema,
  IntegrationInfoSchema,
  IntegrationInputSchema,
  IntegrationRefSchema,
  IntegrationRemovedSchema,
  IntegrationsListSchema,
  IntegrationsLogQuerySchema,
  IntegrationsLogSchema,
  PrometheusSourceInputSchema,
  SourceInfoSchema,
  SourceRemovedSchema,
  SourceRemoveSchema,
  SourcesListSchema,
  SourceTestResultSchema,
  DataCheckSchema,
  ModelCheckInputSchema,
  ModelDeleteSchema,
  ModelExportSchema,
  ModelExportedSchema,
  ModelImportSchema,
  ModelJobRefSchema,
  ModelListSchema,
  ModelSelectorSchema,
  ModelTrainInputSchema,
  TrainJobSchema,
  TrainJobsSchema,
  // File import (issue 9, API 1.5.0).
  ImportDiscardInputSchema,
  ImportDiscardedSchema,
  ImportReportSchema,
  ImportTargetSchema,
  ImportUploadInputSchema,
  UploadInfoSchema,
} from '../domain';

/**
 * A REST alias: a plain HTTP route that maps onto one method, for the seed's paths and for
 * tools like curl. Path parameters (`/predict/:server`) and the query string become the input.
 */
export interface RestAlias {
  method: 'GET';
  path: `/${string}`;
}

export interface MethodSpec {
  summary: string;
  input: z.ZodType;
  output: z.ZodType;
  rest?: RestAlias;
  /**
   * The answer depends only on the input and on state that changes with these events: a
   * transport may keep the serialised answer until one of them fires (the daemon's ResponseCache).
   */
  cacheUntil?: readonly EventName[];
}

const NoInput = z.object({}).strict();

/**
 * Every call the core answers, declared once. Names are `domain.verb`. The IPC handler, the
 * HTTP route table and the in-process client all go through `dispatch`, which validates the
 * input against `input` here; the core's handler types are derived from this table.
 */
export const api = {
  'system.health': {
    summary: 'Liveness and what is running: app version, API version, uptime, active model, the prediction loop.',
    input: NoInput,
    output: HealthSchema,
    rest: { method: 'GET', path: '/health' },
  },
  'fleet.status': {
    summary: 'Fleet-level figures: servers known and reporting, newest sample, sources.',
    input: NoInput,
    output: FleetStatusSchema,
    rest: { method: 'GET', path: '/status' },
  },
  'fleet.servers': {
    summary:
      'Every server in the store: profile, state, newest metrics, whether it still reports, risk and failure mode.',
    input: NoInput,
    output: FleetServersSchema,
    rest: { method: 'GET', path: '/servers' },
  },
  'predictions.current': {
    summary:
      "The latest prediction cycle: every server's risk, failure mode and P10/P50/P90 forecast per target metric.",
    input: NoInput,
    output: CurrentPredictionsSchema,
    rest: { method: 'GET', path: '/predictions/current' },
    cacheUntil: ['predictions.updated'],
  },
  'predictions.server': {
    summary:
      "One server's latest prediction (risk, failure mode, forecast bands), or why it has none; a server never seen in training is predicted through its profile. not_found for a server the store does not have.",
    input: ServerPredictionQuerySchema,
    output: ServerPredictionResultSchema,
    rest: { method: 'GET', path: '/predict/:server' },
    // A server added since the last cycle answers "new since the latest cycle" until the next one.
    cacheUntil: ['predictions.updated'],
  },
  'predictions.history': {
    summary: "One server's risk and failure mode at every stored prediction cycle of the last `hours` (default 24).",
    input: PredictionHistoryQuerySchema,
    output: PredictionHistorySchema,
    rest: { method: 'GET', path: '/predictions/history/:server' },
  },
  'predictions.explain': {
    summary:
      "Why the latest cycle predicts what it does for one server: the model's variable importances, its attention over the past window, and sentences naming what drives the risk.",
    input: ExplainQuerySchema,
    output: ExplanationSchema,
    rest: { method: 'GET', path: '/explain/:server' },
  },
  'metrics.history': {
    summary: "One server's stored metrics on the 5-minute grid over the last `hours` (default 24); gaps are null.",
    input: MetricsHistoryQuerySchema,
    output: MetricsHistorySchema,
    rest: { method: 'GET', path: '/servers/:server/history' },
  },
  'trends.fleet': {
    summary:
      'Fleet trends over the last `hours` in time buckets: risk (mean, p90, max, servers at risk), prediction confidence, each metric across the fleet, alerts opened.',
    input: FleetTrendsQuerySchema,
    output: FleetTrendsSchema,
    rest: { method: 'GET', path: '/trends' },
  },
  'alerts.list': {
    summary: 'Open and past alerts, newest first, filtered by state, severity, server, profile and age.',
    input: AlertsListQuerySchema,
    output: AlertsListSchema,
    rest: { method: 'GET', path: '/alerts' },
  },
  'alerts.active': {
    summary:
      'Open alerts: servers whose risk crossed the warning or critical threshold, with failure mode, time to threshold and acknowledgement.',
    input: NoInput,
    output: ActiveAlertsSchema,
    rest: { method: 'GET', path: '/alerts/active' },
  },
  'alerts.acknowledge': {
    summary: 'Acknowledges an open alert (who, when); it stays open until the risk resolves it. Emits alerts.changed.',
    input: AcknowledgeAlertSchema,
    output: AlertSchema,
  },
  'demo.state': {
    summary: 'The interactive demo: simulator speed, paused or not, the simulated servers, the scenarios started since the last reset.',
    input: NoInput,
    output: DemoStateSchema,
    rest: { method: 'GET', path: '/demo' },
  },
  'demo.run': {
    summary:
      'Starts a scenario on a simulated server (a new name adds the server to the fleet): its precursor begins now and the incident comes after `precursorHours`; "healthy" heals it. Emits demo.changed.',
    input: DemoRunInputSchema,
    output: DemoStateSchema,
  },
  'demo.control': {
    summary: "Sets the simulated fleet's speed (1 to 3600 fleet seconds per second) or pauses and resumes it. Emits demo.changed.",
    input: DemoControlSchema,
    output: DemoStateSchema,
  },
  'demo.reset': {
    summary: 'Heals every server a scenario touched, clears the runs, speed back to 1x, resumes. Emits demo.changed.',
    input: NoInput,
    output: DemoStateSchema,
  },
  // --- Metric sources and alert integrations (issue 9) ---
  'sources.list': {
    summary: 'The configured Prometheus sources: URL, queries per metric, whether a token is set (never the token), health.',
    input: NoInput,
    output: SourcesListSchema,
  },
  'sources.configure': {
    summary:
      'Creates or changes a Prometheus source (by id); it backfills then polls at once. An omitted token keeps the stored one, null removes it.',
    input: PrometheusSourceInputSchema,
    output: SourceInfoSchema,
  },
  'sources.test': {
    summary: 'A dry read with a source configuration: what it would ingest at the newest step (servers, values, problems); writes nothing.',
    input: PrometheusSourceInputSchema,
    output: SourceTestResultSchema,
  },
  'sources.remove': {
    summary: 'Stops and forgets a source (its rows stay in the store). not_found for an unknown id.',
    input: SourceRemoveSchema,
    output: SourceRemovedSchema,
  },
  'integrations.list': {
    summary: 'Alert receivers (Alertmanager, webhook, Slack, PagerDuty): target without secrets, whether a secret is set, queue and delivery counts.',
    input: NoInput,
    output: IntegrationsListSchema,
  },
  'integrations.configure': {
    summary: 'Creates or replaces an alert receiver (by id). An omitted secret (webhook URL, routing key) keeps the stored one.',
    input: IntegrationInputSchema,
    output: IntegrationInfoSchema,
  },
  'integrations.remove': {
    summary: 'Removes a receiver and drops its pending deliveries. not_found for an unknown id.',
    input: IntegrationRefSchema,
    output: IntegrationRemovedSchema,
  },
  'integrations.test': {
    summary: 'Queues a test alert to one receiver and answers after its first attempt (delivered, or retrying and why).',
    input: IntegrationRefSchema,
    output: DeliverySchema,
  },
  'integrations.log': {
    summary: 'The delivery log, newest first: every message to every receiver (or one), its state, attempts and last error.',
    input: IntegrationsLogQuerySchema,
    output: IntegrationsLogSchema,
  },
  'settings.get': {
    summary: 'The user settings (theme, risk palette).',
    input: NoInput,
    output: SettingsSchema,
  },
  'settings.update': {
    summary: 'Changes some settings; returns all of them. Emits settings.changed.',
    input: SettingsPatchSchema,
    output: SettingsSchema,
  },
  // --- models and training (issue 8, API 1.4.0) ---
  'model.list': {
    summary:
      'Every model folder under the data folder\'s models/ plus the bundled one: name, version, date, training data, settings, backend, duration, evaluation figures, sha256, whether it is refused and why, which one is active.',
    input: NoInput,
    output: ModelListSchema,
    rest: { method: 'GET', path: '/models' },
  },
  'model.activate': {
    summary:
      'Switches predictions to a model (a folder under models/, its version, "bundled", or a folder path), after the loader\'s checks (checksum, contract version, inputs); a refused one leaves the previous model serving (conflict). Persists across restarts. Emits model.changed.',
    input: ModelSelectorSchema,
    output: ModelListSchema,
  },
  'model.delete': {
    summary: 'Deletes a model folder under models/; never the bundled or the active one (conflict). Emits model.changed.',
    input: ModelDeleteSchema,
    output: ModelListSchema,
  },
  'model.import': {
    summary:
      'Copies a model folder into models/ after the loader\'s checks (checksum, contract version, manifest, inputs); a refused one is not copied (conflict). Emits model.changed.',
    input: ModelImportSchema,
    output: ModelListSchema,
  },
  'model.export': {
    summary: 'Copies a model folder (verified first) into an existing folder, under its own name; never over an existing one (conflict).',
    input: ModelExportSchema,
    output: ModelExportedSchema,
  },
  'model.check': {
    summary:
      'Checks training data before a run: servers, profiles, time range, coverage, gaps, incidents found, and whether it can train.',
    input: ModelCheckInputSchema,
    output: DataCheckSchema,
  },
  'model.train': {
    summary:
      'Starts a training job on the worker thread (a simulated fleet or a time range of the store), then evaluates the model; one job at a time (conflict). Emits model.progress, then model.changed.',
    input: ModelTrainInputSchema,
    output: TrainJobSchema,
  },
  'model.cancel': {
    summary: 'Cancels a running training job; no model folder is left behind. Emits model.progress.',
    input: ModelJobRefSchema,
    output: TrainJobSchema,
  },
  'model.jobs': {
    summary: 'Training jobs, newest first: the running one with its progress, and past ones with their outcome.',
    input: NoInput,
    output: TrainJobsSchema,
    rest: { method: 'GET', path: '/models/jobs' },
  },
  // --- file import (issue 9, API 1.5.0) ---
  'import.upload': {
    summary:
      'Uploads a file in base64 chunks of at most 512 KiB, in order (the first without uploadId): for transports without POST /api/uploads (the desktop app). Answers the upload id; uploads expire after 1 h.',
    input: ImportUploadInputSchema,
    output: UploadInfoSchema,
  },
  'import.check': {
    summary:
      'Reads and checks an uploaded CSV, Parquet or Arrow file and answers what importing it would do (rows, servers new and existing, metrics, time range, rejected rows by reason with examples); writes nothing. A file that breaks the data contract is invalid_input naming file, row and field.',
    input: ImportTargetSchema,
    output: ImportReportSchema,
  },
  'import.commit': {
    summary:
      'Imports an uploaded file all-or-nothing (like `npm run import`): a file with any problem writes nothing (invalid_input). Deletes the upload; emits fleet.updated, so its servers join the fleet.',
    input: ImportTargetSchema,
    output: ImportReportSchema,
  },
  'import.discard': {
    summary: 'Deletes an upload without importing it (discarded: false when it was already gone).',
    input: ImportDiscardInputSchema,
    output: ImportDiscardedSchema,
  },
} as const satisfies Record<string, MethodSpec>;

export type Api = typeof api;
export type Method = keyof Api;
/** What a caller sends (before defaults are applied). */
export type Input<M extends Method> = z.input<Api[M]['input']>;
/** What a handler receives (after validation and defaults). */
export type ParsedInput<M extends Method> = z.output<Api[M]['input']>;
export type Output<M extends Method> = z.output<Api[M]['output']>;

export const METHODS = Object.keys(api) as Method[];

/** True only for the contract's own keys: `__proto__`, `constructor` and friends are not methods. */
export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(api, name);
}
