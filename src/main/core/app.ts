import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { API_VERSION, ApiError, EventBus, STEP_MS, type CoreApi, type Handlers } from '@shared/contract';
import type { Alert, AlertsList, AlertsListQuery, Health, SourceStatus } from '@shared/domain';
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
import { SimulatorSource } from './sources/simulator-source';
import { openStore, type IngestReport } from './store';
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

  const modelConfig = config.model ?? null;
  const predictor = new FleetPredictor({ config: modelConfig, store, events, logger: config.logger, clock: fleetTime });
  // Loading runs in the background like the backfill; the first cycle follows at once (the store
  // may already hold a full window), then every simulator step or timer tick brings another.
  const predictorStarted = predictor.start().then(() => predictor.request(fleetTime()));
  const intervalMs = modelConfig?.intervalMs ?? STEP_MS;
  const predictionTimer =
    modelConfig && !simulator && intervalMs > 0 ? setInterval(() => predictor.request(fleetTime()), intervalMs) : undefined;
  predictionTimer?.unref();

  const sources = (): SourceStatus[] => {
    if (!simulator) return [];
    const s = simulator.getStatus();
    return [
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

  // Readers of the store's history tables (the predictor writes them).
  const predictionLog = new PredictionLog(store);
  const alertLog = new AlertLog(store);
  const trends = new FleetTrendsQuery(store);

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
    close: async () => {
      if (closed) return;
      closed = true;
      if (heartbeat) clearInterval(heartbeat);
      if (predictionTimer) clearInterval(predictionTimer);
      simulator?.stop();
      await simulatorStarted;
      await predictorStarted;
      // A cycle in flight reads the store: it finishes before the store closes.
      await predictor.close();
      store.close();
    },
  };
}
