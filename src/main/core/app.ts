import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { API_VERSION, ApiError, EventBus, STEP_MS, type CoreApi, type Handlers } from '@shared/contract';
import type { Alert, AlertsList, AlertsListQuery, Health, SourceStatus } from '@shared/domain';
import { PrometheusSourceInputSchema, type PrometheusSourceInput } from '@shared/domain';
import { APP_INFO } from './app-info';
import { FleetPredictor, type PredictorConfig } from './fleet/fleet-predictor';
import { DemoController } from './demo/demo-controller';
import { AlertLog } from './fleet/alerts-store';
import { toAlert } from './fleet/alerts';
import { fleetCounts, fleetServers, fleetStatus, type FleetRiskInput } from './fleet/fleet-view';
import { metricsHistory, predictionHistory, requireServer } from './fleet/history';
import { PredictionLog } from './fleet/prediction-log';
import { FleetTrendsQuery } from './fleet/trends';
import { defaultFleet, type FleetServerSpec } from './metrics/simulator/fleet-sim';
import type { SimulationRates } from './metrics/simulator/server-sim';
import { SettingsStore } from './settings/settings-store';
import { ActiveModelSetting } from './settings/active-model';
import { ModelManager } from './models/model-manager';
import { TrainingJobs } from './models/training-jobs';
import { RetrainingMonitor, type RetrainingConfig } from './models/retraining';
import type { TrainWorkerFactory } from './model/train/train-worker';
import { SimulatorSource } from './sources/simulator-source';
import { SourceManager } from './sources/prometheus/source-manager';
import { IntegrationManager } from './integrations/integration-manager';
import { openStore, type IngestReport } from './store';
import { ImportService, UploadStore } from './imports';
import type { Logger } from './util/logger';

/** The embedded default source: a simulated fleet. */
export interface SimulatorConfig {
  /** A fleet size (servers named like the seed's) or explicit servers. */
  servers: number | FleetServerSpec[];
  seed: string;
  /** Fleet seconds per wall second. */
  speed: number;
  backfillHours?: number;
  rates?: Partial<SimulationRates>;
}

export const DEFAULT_SIMULATOR = { servers: 20, seed: 'tftmp', speed: 1, backfillHours: 24 } satisfies SimulatorConfig;
export const STORE_FILE = 'metrics.sqlite';

export interface CoreConfig {
  /** Where the core keeps its files (settings, store, models): Electron's userData, or the daemon's --data-dir. */
  dataDir: string;
  runtime: Health['runtime'];
  logger: Logger;
  /** How often `health.updated` is pushed; 0 disables the heartbeat (tests that drive time). */
  heartbeatMs?: number;
  /** Wall clock; injectable so tests can pin it. */
  now?: () => Date;
  /** The simulated fleet; absent or null runs without one (imports and Prometheus only). */
  simulator?: SimulatorConfig | null;
  /** A better-sqlite3 native module built for this runtime, when node_modules holds another ABI's. */
  sqliteNativeBinding?: string;
  /**
   * The prediction model: the bundled folder (`bundledModelDir()` in paths.ts), an optional
   * preferred one, the execution provider. Absent or null: no predictions (/health says so).
   */
  model?: ModelConfig | null;
  /**
   * Starts the training worker for model.train: `bundledTrainWorker` in the app (electron-vite's
   * `?nodeWorker` chunk), a test bundle in tests. Absent or null: model.train answers unavailable.
   */
  trainWorker?: TrainWorkerFactory | null;
  /** Automatic retraining on drift or a schedule (needs the model and the training worker); absent or null: off. */
  retraining?: RetrainingConfig | null;
  /**
   * Prometheus sources to configure at start (`serve --prometheus URL`), on top of those stored
   * in the data dir (same id: replaced).
   */
  prometheus?: PrometheusSourceInput[];
  /** First retry delay of sources and alert integrations (tests shorten it); default 1 s. */
  sourceBackoffMs?: number;
  integrationBackoffMs?: number;
}

export interface ModelConfig extends PredictorConfig {
  /**
   * Without the simulator (whose every step triggers a cycle), a cycle runs on this wall-clock
   * timer. Default one sample step (5 min); 0: only at start.
   */
  intervalMs?: number;
}

/** The composition root: every service, wired once, behind the contract's handlers. */
export interface Core extends CoreApi {
  readonly config: Readonly<CoreConfig>;
  /** Resolves when start-up work (the simulator's backfill, loading the model) is done. */
  ready(): Promise<void>;
  /** Resolves when no prediction cycle is running or queued (tests). */
  predictionsIdle(): Promise<void>;
  /** Automatic retraining, when configured (tests, status). */
  readonly retraining: RetrainingMonitor | null;
  /** File import (issue 9): the daemon's `POST /api/uploads` streams into it. */
  readonly imports: ImportService;
  close(): Promise<void>;
}

export const DEFAULT_HEARTBEAT_MS = 5_000;

export function createCore(config: CoreConfig): Core {
  const now = config.now ?? (() => new Date());
  const startedAt = now();
  mkdirSync(config.dataDir, { recursive: true });

  const events = new EventBus();
  const settings = new SettingsStore(config.dataDir, config.logger);
  const store = openStore(join(config.dataDir, STORE_FILE), config.sqliteNativeBinding ? { nativeBinding: config.sqliteNativeBinding } : {});

  const simConfig = config.simulator ?? null;
  const simulator = simConfig
    ? new SimulatorSource({
        store,
        logger: config.logger,
        seed: simConfig.seed,
        servers: typeof simConfig.servers === 'number' ? defaultFleet(simConfig.servers) : simConfig.servers,
        speed: simConfig.speed,
        backfillHours: simConfig.backfillHours ?? 24,
        ...(simConfig.rates ? { rates: simConfig.rates } : {}),
        now: () => now().getTime(),
        onStep: ({ report, time }) => {
          publishFleetUpdate(report);
          predictor.request(time);
        },
      })
    : null;
  const fleetTime = (): number => simulator?.fleetTime ?? now().getTime();

  // The model the user activated (model.activate) runs unless the caller names one (`serve --model`).
  const activeModelSetting = new ActiveModelSetting(config.dataDir, config.logger);
  const modelConfig: ModelConfig | null = config.model
    ? { ...config.model, preferredDir: config.model.preferredDir ?? activeModelSetting.get() }
    : null;
  const predictor = new FleetPredictor({
    config: modelConfig,
    store,
    events,
    logger: config.logger,
    clock: fleetTime,
    // Only the simulator knows which server depends on which: other sources' risks are the model's alone.
    dependencies: simulator ? () => simulator.dependencies() : undefined,
  });
  // Loading runs in the background like the backfill; the first cycle follows at once (the store
  // may already hold a full window), then every simulator step or timer tick brings another.
  const predictorStarted = predictor.start().then(() => predictor.request(fleetTime()));
  const intervalMs = modelConfig?.intervalMs ?? STEP_MS;
  const predictionTimer =
    modelConfig && !simulator && intervalMs > 0 ? setInterval(() => predictor.request(fleetTime()), intervalMs) : undefined;
  predictionTimer?.unref();

  const sources = (): SourceStatus[] => {
    const external = sourceManager.statuses();
    if (!simulator) return external;
    const s = simulator.getStatus();
    return [
      ...external,
      {
        id: 'simulator',
        kind: 'simulator',
        state: s.state,
        detail: s.lastError ?? `${s.servers} simulated servers at ${s.speed}x${s.paused ? ', paused' : ''}`,
        speed: s.speed,
      },
    ];
  };

  const riskInput = (): FleetRiskInput => {
    const current = predictor.current();
    const open = { warning: 0, critical: 0 };
    for (const a of predictor.activeAlerts()) open[a.severity]++;
    return {
      cycleRisks: current.time === null ? null : current.servers.map((p) => p.risk),
      riskOf: (server) => predictor.riskOf(server),
      openAlerts: open,
    };
  };

  // Model management and training from the app (issue 8): models/ under the data folder.
  const modelsRoot = join(config.dataDir, 'models');
  let modelManager: ModelManager | null = null;
  const trainingJobs = new TrainingJobs({
    modelsRoot,
    worker: config.trainWorker ?? null,
    store,
    events,
    logger: config.logger,
    activeModel: () => modelManager?.activeForComparison() ?? null,
    onModelAdded: (id) => modelManager?.added(id),
    ...(simulator ? { dependencies: () => simulator.dependencies() } : {}),
    now,
  });
  modelManager = new ModelManager({
    modelsRoot,
    bundledDir: modelConfig?.bundledDir ?? null,
    startedWith: modelConfig?.preferredDir ?? null,
    predictor,
    setting: activeModelSetting,
    events,
    logger: config.logger,
    jobs: trainingJobs,
  });
  const models = modelManager;
  const retraining =
    config.retraining && modelConfig && config.trainWorker
      ? new RetrainingMonitor({
          config: config.retraining,
          store,
          events,
          logger: config.logger,
          jobs: trainingJobs,
          models,
          current: () => predictor.current(),
          fleetTime,
        })
      : null;
  retraining?.start();

  // Readers of the store's history tables (the predictor writes them).
  const predictionLog = new PredictionLog(store);
  const alertLog = new AlertLog(store);
  const trends = new FleetTrendsQuery(store);

  // Issue 9: Prometheus sources (settings in <dataDir>/sources.json) and alert integrations
  // (receivers, queue and delivery log in <dataDir>/integrations.json), both 0600.
  const sourceManager = new SourceManager({
    dataDir: config.dataDir,
    store,
    logger: config.logger,
    now: () => now().getTime(),
    ...(config.sourceBackoffMs !== undefined ? { backoffMs: config.sourceBackoffMs } : {}),
    onIngest: ({ report }) => {
      publishFleetUpdate(report);
      predictor.request(fleetTime());
    },
  });
  // Sources given on the command line replace stored ones of the same id, then all start.
  const sourcesStarted = Promise.all((config.prometheus ?? []).map((input) => sourceManager.configure(PrometheusSourceInputSchema.parse(input))))
    .catch((error: unknown) => config.logger.error('a configured Prometheus source was refused', { error: (error as Error).message }))
    .then(() => sourceManager.start());
  const integrations = new IntegrationManager({
    dataDir: config.dataDir,
    events,
    logger: config.logger,
    now: () => now().getTime(),
    activeAlerts: () => predictor.activeAlerts(),
    resolvedAlert: (id, server) => alertLog.list({ state: 'resolved', server, limit: 50 }).alerts.map(toAlert).find((a) => a.id === id) ?? null,
    ...(config.integrationBackoffMs !== undefined ? { backoffMs: config.integrationBackoffMs } : {}),
  });

  const listAlerts = (query: AlertsListQuery): AlertsList => {
    const at = fleetTime();
    const since = query.hours === undefined ? undefined : at - query.hours * 3_600_000;
    // Open alerts come from the book (what alerts.active shows), past ones from the alerts table.
    const open: Alert[] =
      query.state === 'resolved'
        ? []
        : predictor
            .activeAlerts()
            .filter(
              (a) =>
                (query.severity === undefined || a.severity === query.severity) &&
                (query.server === undefined || a.server === query.server) &&
                (query.profile === undefined || a.profile === query.profile) &&
                (since === undefined || Date.parse(a.startedAt) >= since),
            );
    const past =
      query.state === 'open'
        ? { alerts: [], total: 0 }
        : alertLog.list({
            state: 'resolved',
            ...(query.severity ? { severity: query.severity } : {}),
            ...(query.server !== undefined ? { server: query.server } : {}),
            ...(query.profile ? { profile: query.profile } : {}),
            ...(since !== undefined ? { since } : {}),
            limit: query.limit,
          });
    const alerts = [...open, ...past.alerts.map(toAlert)]
      .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || b.id - a.id)
      .slice(0, query.limit);
    return { fleetTime: new Date(at).toISOString(), alerts, total: open.length + past.total };
  };

  const demo = new DemoController({
    source: simulator,
    store,
    events,
    fleetTime,
    // A scenario or a new server changes the fleet at once: predict it without waiting for the next step.
    onChange: () => predictor.request(fleetTime()),
  });

  const publishFleetUpdate = (report: IngestReport): void => {
    const status = fleetCounts(store, fleetTime());
    const rejected = Object.values(report.rejected).reduce((a, b) => a + b, 0);
    events.emit('fleet.updated', {
      fleetTime: status.fleetTime,
      lastSampleAt: status.lastSampleAt,
      serversTotal: status.serversTotal,
      serversReporting: status.serversReporting,
      accepted: report.accepted,
      rejected,
    });
  };

  // File import from the app (issue 9): uploads wait in <dataDir>/uploads until checked and
  // imported, discarded, or expired (1 h); an import publishes fleet.updated like any ingest.
  const uploads = new UploadStore({ dir: join(config.dataDir, 'uploads'), now: () => now().getTime() });
  const imports = new ImportService({
    store,
    uploads,
    logger: config.logger,
    now: () => Math.max(now().getTime(), fleetTime()),
    onIngest: (report) => {
      publishFleetUpdate(report);
      predictor.request(fleetTime());
    },
  });

  const health = (): Health => {
    const model = predictor.modelInfo();
    const status = predictor.status();
    const problems: string[] = [];
    if (status.state === 'failed') problems.push(`No predictions: ${status.detail ?? 'the model could not be loaded'}`);
    else if (status.state === 'ready' && status.detail) problems.push(status.detail);
    if (model?.fallbackReason) problems.push(model.fallbackReason);
    return {
      status: problems.length > 0 ? 'degraded' : 'ok',
      app: { name: APP_INFO.name, version: APP_INFO.version },
      apiVersion: API_VERSION,
      runtime: config.runtime,
      startedAt: startedAt.toISOString(),
      uptimeSeconds: Math.max(0, (now().getTime() - startedAt.getTime()) / 1000),
      model,
      predictor: status,
      problems,
    };
  };

  const handlers: Handlers = {
    'system.health': () => health(),
    'fleet.status': () => fleetStatus(store, fleetTime(), sources(), riskInput()),
    'fleet.servers': () => fleetServers(store, fleetTime(), (server) => predictor.riskOf(server)),
    'predictions.current': () => predictor.current(),
    'predictions.server': ({ server }) => {
      if (!store.listServers().some((s) => s.name === server))
        throw new ApiError('not_found', `No server named "${server}" in the store`);
      return predictor.forServer(server);
    },
    'predictions.history': ({ server, hours }) => predictionHistory(store, predictionLog, server, hours, fleetTime()),
    'predictions.explain': ({ server }) => {
      requireServer(store, server);
      return predictor.explain(server);
    },
    'metrics.history': ({ server, hours }) => metricsHistory(store, server, hours, fleetTime()),
    'trends.fleet': ({ hours, bucketMinutes }) => trends.run(fleetTime(), hours, bucketMinutes),
    'alerts.list': (query) => listAlerts(query),
    'alerts.active': () => ({ fleetTime: new Date(fleetTime()).toISOString(), alerts: predictor.activeAlerts() }),
    'alerts.acknowledge': ({ id, by }) => {
      const alert = predictor.acknowledgeAlert(id, by);
      if (!alert) throw new ApiError('not_found', `No open alert with id ${id}`);
      return alert;
    },
    'demo.state': () => demo.state(),
    'demo.run': (input) => demo.run(input),
    'demo.control': (input) => demo.control(input),
    'demo.reset': () => demo.reset(),
    // --- models and training (issue 8) ---
    'model.list': () => models.list(),
    'model.activate': (selector) => models.activate(selector),
    'model.delete': ({ name }) => models.delete(name),
    'model.import': ({ dir }) => models.import(dir),
    'model.export': ({ name, dir }) => models.export(name, dir),
    'model.check': ({ data }) => trainingJobs.check(data),
    'model.train': ({ data, settings: trainSettings }) => trainingJobs.start(data, trainSettings),
    'model.cancel': ({ job }) => trainingJobs.cancel(job),
    'model.jobs': () => ({ jobs: trainingJobs.list() }),
    // Issue 9: sources and integrations.
    'sources.list': () => ({ sources: sourceManager.list() }),
    'sources.configure': (input) => sourceManager.configure(input),
    'sources.test': (input) => sourceManager.test(input),
    'sources.remove': ({ id }) => sourceManager.remove(id),
    'integrations.list': () => ({ integrations: integrations.list() }),
    'integrations.configure': (input) => integrations.configure(input),
    'integrations.remove': ({ id }) => integrations.remove(id),
    'integrations.test': ({ id }) => integrations.test(id),
    'integrations.log': ({ id, limit }) => ({ deliveries: integrations.log(id, limit) }),
    // File import (issue 9, API 1.5.0).
    'import.upload': (input) => uploads.appendChunk(input),
    'import.check': (target) => imports.check(target),
    'import.commit': (target) => imports.commit(target),
    'import.discard': ({ uploadId }) => imports.discard(uploadId),
    'settings.get': () => settings.get(),
    'settings.update': (patch) => {
      const next = settings.update(patch);
      events.emit('settings.changed', next);
      return next;
    },
  };

  const heartbeatMs = config.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const heartbeat = heartbeatMs > 0 ? setInterval(() => events.emit('health.updated', health()), heartbeatMs) : undefined;
  heartbeat?.unref();

  // Backfill and the live clock run in the background: the API answers meanwhile ("starting").
  const simulatorStarted = simulator?.start().catch((error: unknown) => config.logger.error('simulated fleet failed to start', { error }));

  let closed = false;
  return {
    config,
    handlers,
    events,
    ready: async () => {
      await simulatorStarted;
      await predictorStarted;
    },
    predictionsIdle: () => predictor.idle(),
    retraining,
    imports,
    close: async () => {
      if (closed) return;
      closed = true;
      if (heartbeat) clearInterval(heartbeat);
      if (predictionTimer) clearInterval(predictionTimer);
      simulator?.stop();
      await sourcesStarted;
      await sourceManager.close();
      await integrations.close();
      await uploads.close();
      retraining?.stop();
      await trainingJobs.close();
      await simulatorStarted;
      await predictorStarted;
      // A cycle in flight reads the store: it finishes before the store closes.
      await predictor.close();
      store.close();
    },
  };
}
