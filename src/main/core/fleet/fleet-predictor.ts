import { resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { inferProfile, type EventBus, type Profile } from '@shared/contract';
import {
  AT_RISK_THRESHOLD,
  type Alert,
  type CurrentPredictions,
  type Explanation,
  type ModelInfo,
  type PredictionSkip,
  type PredictorStatus,
  type ServerPrediction,
  type ServerPredictionResult,
} from '@shared/domain';
import { hasExplanationOutputs, TFT_INPUT_FIELDS } from '../model/export/feeds';
import { contextSamples, inferenceTime, stepMs, type InferenceSkip } from '../model/features';
import {
  ModelFolderError,
  expectedTensors,
  loadModelFolder,
  resolveActiveModel,
  type ActiveModel,
  type ModelManifest,
} from '../model/folder';
import {
  createInferenceSession,
  type InferenceSession,
  type ProviderReport,
  type ProviderSetting,
} from '../model/infer';
import { REPORTING_WINDOW_MS, type MetricsStore, type StoreOptions } from '../store';
import type { Logger } from '../util/logger';
import { AlertBook, toAlert, type AlertChanges } from './alerts';
import { AlertLog } from './alerts-store';
import { bandIndices } from './decode-predictions';
import type { ServerExplanation } from './explain';
import { CHUNK_SERVERS, PREDICTION_OUTPUTS, predictChunks, type ChunkResult } from './predict-chunks';
import { PredictWorker, type PredictWorkerFactory, type WorkerChunk } from './predict-worker';
import { PredictionLog } from './prediction-log';
import { inShard, type Shard } from './shard';
import type { UpstreamInput } from './upstream';

export interface PredictorConfig {
  /** The model shipped with the app (`bundledModelDir()` in paths.ts); always the fallback. */
  bundledDir: string;
  /** The model the user chose; when it is refused the bundled one runs and /health says why. */
  preferredDir?: string | null;
  /** Execution provider: auto (default: times the GPU providers that load against the cpu), cpu, webgpu, cuda. */
  provider?: ProviderSetting;
  /** onnxruntime intra-op threads; default the machine's cores. */
  intraOpThreads?: number;
  /**
   * Servers that reported less than this share of the context window are skipped (low_coverage).
   * Default 0.5, the share training windows needed: the model has not seen emptier windows.
   */
  minCoverage?: number;
  /** Keep each cycle's risk and failure mode in the store's predictions table, and alerts in its alerts table. Default true. */
  persist?: boolean;
  /**
   * Run the compute part of every cycle (window read, features, inference, decoding,
   * explanations) on a prediction worker thread with its own store connection and inference
   * session, so the main thread only receives each chunk's predictions: the app passes
   * `bundledPredictWorker`. Absent: the cycle computes on the caller's thread in chunks, yielding
   * between stages (tests, tools). A worker that fails to start or dies falls back to the
   * caller's thread, logged once.
   */
  predictWorker?: PredictWorkerFactory;
  /** The main store's options, for the worker's connection (they must agree on the out-of-order window). */
  storeOptions?: StoreOptions;
  /** Servers per inference chunk (default CHUNK_SERVERS). */
  chunkServers?: number;
  /** Predict only the servers of this shard (`serve --shard K/N`, see shard.ts); absent: all. */
  shard?: Shard | null;
}

/** Wall time of each stage of the last cycle, ms (/metrics, the cycle benchmark). */
export interface CycleStages {
  read: number;
  features: number;
  infer: number;
  decode: number;
  store: number;
  alerts: number;
}

/** Cycle durations kept for the quantiles /metrics reports. */
const DURATION_RING = 1024;
export { CHUNK_SERVERS };

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const DEFAULT_MIN_COVERAGE = 0.5;
/** Cycles per summary line in the log. */
const LOG_EVERY = 60;

interface Loaded {
  /** Where the model came from (the ONNX bytes are not kept: the session holds its own copy). */
  active: Pick<ActiveModel, 'source' | 'fallbackReason'> & { dir: string };
  manifest: ModelManifest;
  /** Where the model runs: a session on this thread, or a model loaded on the prediction worker. */
  runner: { session: InferenceSession } | { workerModelId: number };
  /** Which execution provider runs it, and why (/health). */
  report: ProviderReport;
  knownServers: ReadonlySet<string>;
  /** "name@version": the predictions table's model column. */
  ref: string;
  /** The model exports variable selection weights and attention (explain.ts); older ones do not. */
  explains: boolean;
}

interface Cycle {
  model: { name: string; version: string };
  time: number;
  predictedAt: number;
  servers: ServerPrediction[];
  byServer: Map<string, ServerPrediction>;
  skipped: Map<string, PredictionSkip>;
  /** The store's newest sample (capped at `time`) when the cycle read its window. */
  newestSeen: number;
  /** Per server, when the model has explanation outputs. */
  explanations?: Map<string, ServerExplanation>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The first slice of the fleet loop: the active model, one inference session (reused), and a
 * prediction cycle over the store's latest window whenever new samples arrive (`request`).
 * Cycles run off the caller's path, one at a time: a request while one runs is skipped and
 * counted, and the newest skipped one runs afterwards if its window is newer than the one just
 * predicted, so the predictions never fall a window behind. A model that cannot be loaded leaves
 * the predictor `failed` with the reason; the rest of the app runs on.
 */
export class FleetPredictor {
  private state: PredictorStatus['state'] = 'loading';
  private detail: string | null = null;
  private loaded: Loaded | null = null;
  private latest: Cycle | null = null;
  private running: Promise<void> | null = null;
  private pendingAt: number | null = null;
  private closed = false;
  private readonly stats = { cycles: 0, skippedCycles: 0, failedCycles: 0, lastCycleMs: null as number | null };
  private lastStages: CycleStages | null = null;
  /** The last DURATION_RING cycle durations (ring), their running sum and count (Prometheus summary). */
  private readonly durations = new Float64Array(DURATION_RING);
  private durationSumMs = 0;
  private worker: PredictWorker | null = null;
  private workerFailed = false;
  private lastCycleError: string | null = null;
  /** Durations of the cycles since the last summary line. */
  private recentMs: number[] = [];
  private readonly log: PredictionLog | null;
  private readonly alertLog: AlertLog | null;
  private readonly alerts: AlertBook;

  constructor(
    private readonly options: {
      /** Null: no model configured, the predictor stays `off`. */
      config: PredictorConfig | null;
      store: MetricsStore;
      events: EventBus;
      logger: Logger;
      /** The fleet clock (ms): when a cycle ran. */
      clock: () => number;
      /**
       * The fleet's topology at the time of a cycle: server -> the server it depends on (the
       * simulator's; `SimulatorSource.dependencies`). With it and a model whose manifest has
       * `training.cascade`, each dependent is served its risk combined with its upstream's
       * (upstream.ts). Absent (Prometheus, file imports: no topology): the model's risks alone.
       */
      dependencies?: () => ReadonlyMap<string, string>;
    },
  ) {
    if (options.config === null) this.state = 'off';
    const persist = options.config !== null && options.config.persist !== false;
    this.log = persist ? new PredictionLog(options.store) : null;
    this.alertLog = persist ? new AlertLog(options.store) : null;
    let restored: ReturnType<AlertLog['load']> = { open: [], nextId: 1 };
    try {
      if (this.alertLog) restored = this.alertLog.load();
    } catch (error) {
      options.logger.warn('alerts: open alerts could not be restored', { error });
    }
    this.alerts = new AlertBook(restored.open, restored.nextId);
  }

  /** Open alerts, critical first (see alerts.ts). */
  activeAlerts(): Alert[] {
    return this.alerts.active().map(toAlert);
  }

  /** Acknowledges an open alert (fleet time); null when no open alert has this id. Emits alerts.changed once. */
  acknowledgeAlert(id: number, by: string): Alert | null {
    const at = this.options.clock();
    const result = this.alerts.acknowledge(id, by, at);
    if (!result) return null;
    if (result.changed) {
      this.persistAlerts([result.alert], null);
      this.options.events.emit('alerts.changed', {
        time: iso(at),
        opened: 0,
        updated: 0,
        resolved: 0,
        acknowledged: 1,
        active: this.alerts.counts(),
      });
    }
    return toAlert(result.alert);
  }

  private persistAlerts(alerts: AlertChanges['opened'], serverIds: ReadonlyMap<string, number> | null): void {
    if (!this.alertLog || alerts.length === 0) return;
    try {
      const ids = serverIds ?? new Map(this.options.store.listServers().map((s) => [s.name, s.id]));
      this.alertLog.write(alerts, ids);
    } catch (error) {
      // The alerts stand in memory without their history: report, do not fail the cycle.
      this.options.logger.warn('alerts: could not be stored', { error });
    }
  }

  /** The alert step of a cycle: moves the book on, stores what changed, tells the views. */
  private stepAlerts(cycle: Cycle, step: number, horizonSteps: number, serverIds: ReadonlyMap<string, number>): void {
    const horizonTimes = Array.from({ length: horizonSteps }, (_, k) => cycle.time + (k + 1) * step);
    const changes = this.alerts.apply({ at: cycle.predictedAt, horizonTimes, servers: cycle.servers });
    const changed = [...changes.opened, ...changes.updated, ...changes.resolved];
    if (changed.length === 0) return;
    this.persistAlerts(changed, serverIds);
    this.options.events.emit('alerts.changed', {
      time: iso(cycle.predictedAt),
      opened: changes.opened.length,
      updated: changes.updated.length,
      resolved: changes.resolved.length,
      acknowledged: 0,
      active: this.alerts.counts(),
    });
  }

  /** Loads the model and opens its session; never throws (a failure is the `failed` state, with its reason). */
  async start(): Promise<void> {
    const { config, logger } = this.options;
    if (config === null) return;
    try {
      const active = await resolveActiveModel(config.preferredDir, config.bundledDir);
      const manifest = active.model.manifest;
      checkServable(manifest);
      if (config.predictWorker) await this.startWorker(config.predictWorker, config.storeOptions ?? {});
      if (this.closed) {
        await this.worker?.close();
        return;
      }
      const opened = await this.openRunner(active.model.onnxBytes, manifest);
      if (this.closed) {
        await this.closeRunner(opened.runner);
        await this.worker?.close();
        return;
      }
      this.loaded = loadedModel(
        { source: active.source, fallbackReason: active.fallbackReason, dir: active.model.dir },
        manifest,
        opened,
      );
      this.state = 'ready';
      if (active.fallbackReason) logger.warn('model: using the bundled model', { reason: active.fallbackReason });
      logger.info('model: ready', {
        name: manifest.name,
        version: manifest.version,
        source: active.source,
        dir: active.model.dir,
        provider: opened.report.provider,
        reason: opened.report.reason,
        thread: 'workerModelId' in opened.runner ? 'prediction worker' : 'main',
      });
    } catch (error) {
      this.state = 'failed';
      this.detail = describeLoadError(error);
      logger.error('model: none could be loaded; running without predictions', { error });
    }
  }

  /**
   * Opens the model where cycles will run it: on the prediction worker when there is one, else
   * a session on this thread. The worker gets a copy of the bytes (the caller may keep them).
   */
  private async openRunner(onnxBytes: Uint8Array, manifest: ModelManifest): Promise<Pick<Loaded, 'runner' | 'report'>> {
    const { config, logger } = this.options;
    const tensors = expectedTensors(manifest);
    const provider = config?.provider ?? 'auto';
    const threads = config?.intraOpThreads === undefined ? {} : { intraOpThreads: config.intraOpThreads };
    // A worker that died since the last cycle: the model opens here instead (model.activate must
    // not fail for it), and the cycles follow.
    if (this.worker?.failed) this.dropWorker('the prediction worker failed; cycles run on the main thread from now on', null);
    if (this.worker) {
      const { modelId, report } = await this.worker.load({
        modelBytes: onnxBytes.slice(),
        ...tensors,
        provider,
        ...threads,
        spec: manifest.featureSpec,
        knownServers: manifest.training.dataset.trainingServers,
        explains: hasExplanationOutputs(manifest.onnx.outputs),
      });
      return { runner: { workerModelId: modelId }, report };
    }
    const session = await createInferenceSession({ modelBytes: onnxBytes, ...tensors, provider, ...threads, logger });
    return { runner: { session }, report: session.report };
  }

  private async closeRunner(runner: Loaded['runner']): Promise<void> {
    if ('session' in runner) await runner.session.close();
    else await this.worker?.unload(runner.workerModelId).catch(() => undefined);
  }

  /**
   * A cycle for the fleet at `at` (ms, fleet time): the window ending at the last complete model
   * step at or before it. Returns at once; the cycle runs on a later turn of the event loop.
   */
  request(at: number): void {
    if (this.state !== 'ready' || this.closed) return;
    if (this.running) {
      this.stats.skippedCycles++;
      this.pendingAt = Math.max(this.pendingAt ?? at, at);
      return;
    }
    this.running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.cycle(at))
      .finally(() => {
        this.running = null;
        const pending = this.pendingAt;
        this.pendingAt = null;
        const spec = this.loaded?.manifest.featureSpec;
        if (
          pending !== null &&
          spec &&
          (this.latest === null || inferenceTime(pending, spec) > this.latest.time || this.windowFilledIn())
        ) {
          this.request(pending);
        }
      });
  }

  /** Resolves when no cycle is running or queued (tests, and closing). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  status(): PredictorStatus {
    const timings = this.timings();
    return {
      state: this.state,
      detail:
        this.state === 'failed'
          ? this.detail
          : this.state === 'off'
            ? 'no model is configured'
            : this.state === 'ready'
              ? this.lastCycleError
              : null,
      cycles: this.stats.cycles,
      skippedCycles: this.stats.skippedCycles,
      failedCycles: this.stats.failedCycles,
      lastCycleMs: this.stats.lastCycleMs,
      lastPredictionTime: this.latest ? iso(this.latest.time) : null,
      cycleDuration: { quantiles: timings.quantiles, sumMs: timings.sumMs, count: timings.count },
      stagesMs: timings.stages,
      windowReader: timings.windowReader,
    };
  }

  modelInfo(): ModelInfo | null {
    if (!this.loaded) return null;
    const { manifest, active, report } = this.loaded;
    return {
      name: manifest.name,
      version: manifest.version,
      contractVersion: manifest.contractVersion,
      source: active.source,
      fallbackReason: active.fallbackReason,
      executionProvider: report.provider,
      executionProviderReason: report.reason,
    };
  }

  /** Risk and failure mode of one server for fleet.servers, or why there are none. */
  riskOf(server: string): { risk: number | null; failureMode: string | null; riskUnavailable: PredictionSkip | null } {
    const p = this.latest?.byServer.get(server);
    if (p) return { risk: p.risk, failureMode: p.failureMode, riskUnavailable: null };
    return { risk: null, failureMode: null, riskUnavailable: this.whyNot(server) };
  }

  current(): CurrentPredictions {
    const c = this.latest;
    const spec = this.loaded?.manifest.featureSpec;
    if (!c || !spec) {
      return {
        model: this.loaded ? { name: this.loaded.manifest.name, version: this.loaded.manifest.version } : null,
        time: null,
        predictedAt: null,
        horizon: { stepMinutes: spec?.stepMinutes ?? 0, times: [] },
        servers: [],
        skipped: [],
      };
    }
    const step = stepMs(spec);
    return {
      model: c.model,
      time: iso(c.time),
      predictedAt: iso(c.predictedAt),
      horizon: {
        stepMinutes: spec.stepMinutes,
        times: Array.from({ length: spec.horizonSteps }, (_, k) => iso(c.time + (k + 1) * step)),
      },
      servers: c.servers,
      skipped: [...c.skipped].map(([server, skip]) => ({ server, ...skip })),
    };
  }

  /** One server of the latest cycle, or why it has none (the caller checks the server exists). */
  forServer(server: string): ServerPredictionResult {
    const { servers, skipped: _, ...cycle } = this.current();
    const prediction = servers.find((p) => p.server === server) ?? null;
    return { ...cycle, prediction, unavailable: prediction ? null : this.whyNot(server) };
  }

  /**
   * Why the latest cycle predicts what it does for one server (the caller checks the server
   * exists): variable importances, attention over the past window, sentences. A model exported
   * without the explanation outputs answers not_supported.
   */
  explain(server: string): Explanation {
    const c = this.latest;
    const model = c?.model ?? (this.loaded ? { name: this.loaded.manifest.name, version: this.loaded.manifest.version } : null);
    const prediction = c?.byServer.get(server);
    if (!c || !prediction) return { server, model, time: null, explanation: null, unavailable: this.whyNot(server) };
    const found = c.explanations?.get(server);
    if (!found) {
      return {
        server,
        model,
        time: iso(c.time),
        explanation: null,
        unavailable: {
          reason: 'not_supported',
          detail: `model ${model?.name ?? ''} ${model?.version ?? ''} has no explanation outputs (exported before they existed): retrain it to get them`,
        },
      };
    }
    return {
      server,
      model,
      time: iso(c.time),
      explanation: { risk: prediction.risk, failureMode: prediction.failureMode, ...found },
      unavailable: null,
    };
  }

  /**
   * Switches to another model folder (issue 8, model.activate): loads and checks it (checksum,
   * contract, servable inputs/outputs), opens its session, then swaps between two cycles, closes
   * the old session and asks for a cycle on the new model. On any failure it throws the reason
   * and the previous model keeps serving, untouched.
   */
  async switchModel(dir: string): Promise<void> {
    const { config, logger } = this.options;
    if (config === null) throw new Error('predictions are off: no model is configured');
    if (this.closed) throw new Error('the predictor is closed');
    const model = await loadModelFolder(dir);
    const manifest = model.manifest;
    checkServable(manifest);
    const opened = await this.openRunner(model.onnxBytes, manifest);
    // Between cycles: a cycle holds the `loaded` it started with, so the old session stays
    // open until the running one is done; the swap itself is synchronous.
    await this.idle();
    if (this.closed) {
      await this.closeRunner(opened.runner);
      throw new Error('the predictor is closed');
    }
    const old = this.loaded;
    this.loaded = loadedModel(
      { source: model.dir === resolvePath(config.bundledDir) ? 'bundled' : 'preferred', fallbackReason: null, dir: model.dir },
      manifest,
      opened,
    );
    this.state = 'ready';
    this.detail = null;
    this.lastCycleError = null;
    if (old) {
      await this.closeRunner(old.runner).catch((error: unknown) =>
        logger.warn('model: closing the previous session failed', { error }),
      );
    }
    logger.info('model: switched', { name: manifest.name, version: manifest.version, dir: model.dir, provider: opened.report.provider });
    this.request(this.options.clock());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pendingAt = null;
    await this.idle();
    const runner = this.loaded?.runner;
    if (runner && 'session' in runner) await runner.session.close();
    await this.worker?.close().catch(() => undefined);
  }

  /** Stage timings of the last cycle and the duration quantiles of the recent ones (for /metrics). */
  timings(): {
    stages: CycleStages | null;
    quantiles: { q: number; ms: number }[];
    sumMs: number;
    count: number;
    /**
     * Where cycles compute (window read, features, inference, decoding): the prediction worker,
     * the main thread (none configured), or the main thread after the worker failed.
     */
    windowReader: 'worker' | 'main' | 'main-fallback';
  } {
    const n = Math.min(this.stats.cycles, DURATION_RING);
    const recent = Array.from(this.durations.subarray(0, n)).sort((a, b) => a - b);
    const quantiles =
      n === 0 ? [] : [0.5, 0.9, 0.99].map((q) => ({ q, ms: recent[Math.min(n - 1, Math.floor(q * n))]! }));
    return {
      stages: this.lastStages,
      quantiles,
      sumMs: Math.round(this.durationSumMs * 100) / 100,
      count: this.stats.cycles,
      windowReader: this.worker ? 'worker' : this.workerFailed ? 'main-fallback' : 'main',
    };
  }

  private async startWorker(factory: PredictWorkerFactory, options: StoreOptions): Promise<void> {
    try {
      this.worker = await PredictWorker.start(factory, this.options.store.file, options, this.options.logger);
    } catch (error) {
      this.workerFailed = true;
      this.options.logger.warn('predictions: the prediction worker did not start; cycles run on the main thread', {
        error,
      });
    }
  }

  /** Stops using the prediction worker (logged once: later calls find none). */
  private dropWorker(message: string, error: unknown): void {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    this.workerFailed = true;
    this.options.logger.warn(`predictions: ${message}`, error === null ? {} : { error });
    void worker.close().catch(() => undefined);
  }

  /**
   * The prediction worker died: from now on cycles run here. The model folder is read again (the
   * main thread does not keep the ONNX bytes) and a session opened on this thread.
   */
  private async fallBackToMain(loaded: Loaded, error: unknown): Promise<Loaded> {
    this.dropWorker('the prediction worker failed; cycles run on the main thread from now on', error);
    const model = await loadModelFolder(loaded.active.dir);
    const opened = await this.openRunner(model.onnxBytes, model.manifest);
    const next = { ...loaded, ...opened };
    if (this.loaded === loaded) this.loaded = next;
    return next;
  }

  /** The first cycle, then one summary line per LOG_EVERY cycles: at 300x a line per cycle would flood the log. */
  private logCycle(durationMs: number, servers: number, skipped: number, time: number): void {
    this.recentMs.push(durationMs);
    if (this.stats.cycles !== 1 && this.recentMs.length < LOG_EVERY) return;
    const sorted = [...this.recentMs].sort((a, b) => a - b);
    this.recentMs = [];
    this.options.logger.info('predictions: cycles', {
      cycles: this.stats.cycles,
      skippedCycles: this.stats.skippedCycles,
      servers,
      skipped,
      // Not `time`: the log record's own timestamp field.
      window: iso(time),
      medianMs: sorted[sorted.length >> 1],
      maxMs: sorted.at(-1),
      sampled: sorted.length,
    });
  }

  /**
   * True when samples inside the latest cycle's window arrived after it read the window: a
   * backfill still under way when the first cycle ran. That cycle's window is not newer than the
   * next request's, yet it missed data the next one will see.
   */
  private windowFilledIn(): boolean {
    const c = this.latest;
    if (!c) return false;
    const newest = this.options.store.fleetSummary(c.time).newestSampleTs;
    return newest !== null && Math.min(newest, c.time) > c.newestSeen;
  }

  /**
   * What a cycle needs for the upstream terms: the topology, the model's cascade coefficient and
   * the latest cycle's served risks. Undefined without a topology or with a model trained without
   * one (no `training.cascade`): those models serve exactly what they predict.
   */
  private upstreamInput(loaded: Loaded): UpstreamInput | undefined {
    const coefficient = loaded.manifest.training.cascade?.coefficient;
    const dependencies = this.options.dependencies;
    if (coefficient === undefined || !dependencies) return undefined;
    const previous = new Map([...(this.latest?.byServer.values() ?? [])].map((p) => [p.server, p.risk]));
    return { dependencyOf: dependencies(), coefficient, previous };
  }

  private whyNot(server: string): PredictionSkip {
    if (this.state === 'failed')
      return { reason: 'no_model', detail: `no model could be loaded: ${this.detail ?? 'unknown error'}` };
    if (this.state === 'off') return { reason: 'no_model', detail: 'no model is configured' };
    if (this.state === 'loading') return { reason: 'pending', detail: 'the model is loading' };
    if (!this.latest) return { reason: 'pending', detail: 'waiting for the first prediction cycle' };
    return this.latest.skipped.get(server) ?? { reason: 'pending', detail: 'new since the latest prediction cycle' };
  }

  private async cycle(at: number): Promise<void> {
    let loaded = this.loaded;
    if (!loaded || this.closed) return;
    const { store, logger, events } = this.options;
    const spec = loaded.manifest.featureSpec;
    const minCoverage = this.options.config?.minCoverage ?? DEFAULT_MIN_COVERAGE;
    const t0 = performance.now();
    let mark = t0;
    const lap = (): number => {
      const now = performance.now();
      const ms = now - mark;
      mark = now;
      return Math.round(ms * 100) / 100;
    };
    try {
      const shard = this.options.config?.shard ?? null;
      const stored = shard ? store.listServers().filter((s) => inShard(s.name, shard)) : store.listServers();
      const profiles = new Map<string, Profile>(stored.map((s) => [s.name, s.profile]));
      const profileOf = (name: string): Profile => profiles.get(name) ?? inferProfile(name);
      const t = inferenceTime(at, spec);
      const newestSeen = Math.min(store.fleetSummary(t).newestSampleTs ?? -Infinity, t);
      // A server silent for the last REPORTING_WINDOW_MS before the window end is stale: a risk
      // from its old samples would describe the past, and show it healthy while it may be down.
      const staleBefore = t - REPORTING_WINDOW_MS;
      const stale = stored.filter((s) => s.lastSeen < staleBefore && s.lastSeen >= t - contextMs(spec));
      const staleNames = new Set(stale.map((s) => s.name));
      const eligible = stored.filter((s) => !staleNames.has(s.name)).map((s) => s.name);
      const chunkServers = this.options.config?.chunkServers ?? CHUNK_SERVERS;
      const servers: ServerPrediction[] = [];
      const builtSkipped: InferenceSkip[] = [];
      const explanations = loaded.explains ? new Map<string, ServerExplanation>() : undefined;
      const compute = { read: 0, features: 0, infer: 0, decode: 0, store: 0 };
      const serverIds = new Map(stored.map((s) => [s.name, s.id]));
      const ref = loaded.ref;
      const upstream = this.upstreamInput(loaded);
      let storeError: unknown = null;
      const take = (chunk: ChunkResult, stored?: Omit<WorkerChunk, 'chunk'>): void => {
        for (const p of chunk.servers) servers.push(p);
        if (stored) {
          // The prediction worker wrote it to the predictions table on its own connection.
          compute.store += stored.storeMs;
          if (stored.storeError !== undefined && storeError === null) storeError = new Error(stored.storeError);
        } else if (this.log && chunk.servers.length > 0 && storeError === null) {
          // Here (the fallback), each chunk goes to the store as it comes, one short transaction
          // each, rather than the whole fleet in one that would hold this thread for tens of ms.
          const s0 = performance.now();
          try {
            this.log.write(t, ref, chunk.servers, serverIds, { stepMinutes: spec.stepMinutes });
          } catch (error) {
            storeError = error;
          }
          compute.store += performance.now() - s0;
        }
        for (const s of chunk.skipped) builtSkipped.push(s);
        if (explanations) for (const [server, e] of chunk.explanations) explanations.set(server, e);
        compute.features += chunk.ms.features;
        compute.infer += chunk.ms.infer;
        compute.decode += chunk.ms.decode;
      };
      let done = false;
      if ('workerModelId' in loaded.runner) {
        // The whole compute part on the prediction worker: this thread only takes in each
        // chunk's predictions, one message per chunk.
        const worker = this.worker;
        try {
          if (!worker) throw new Error('the prediction worker is gone');
          const { readMs } = await worker.cycle(
            {
              modelId: loaded.runner.workerModelId,
              steps: contextSamples(spec),
              endMs: t,
              at,
              eligible: eligible.map((name) => [name, profileOf(name)]),
              minCoverage,
              chunkServers,
              log: this.log ? { model: ref, time: t, stepMinutes: spec.stepMinutes } : null,
              upstream: upstream
                ? {
                    dependencyOf: [...upstream.dependencyOf],
                    previous: [...upstream.previous],
                    coefficient: upstream.coefficient,
                  }
                : null,
            },
            ({ chunk, ...stored }) => take(chunk, stored),
          );
          compute.read = readMs;
          done = true;
        } catch (error) {
          if (this.closed) return;
          // A cycle the worker refused (bad input, an inference error) fails like one here would;
          // a worker that died hands the cycles to this thread.
          if (worker && !worker.failed) throw error;
          loaded = await this.fallBackToMain(loaded, error);
          servers.length = 0;
          builtSkipped.length = 0;
          explanations?.clear();
          Object.assign(compute, { read: 0, features: 0, infer: 0, decode: 0, store: 0 });
          storeError = null;
        }
      }
      if (!done) {
        if (!('session' in loaded.runner)) throw new Error('no inference session on the main thread');
        const r0 = performance.now();
        const columns = store.latestWindow(contextSamples(spec), t);
        compute.read = performance.now() - r0;
        // The fleet in chunks, yielding to the event loop between stages: onnxruntime-node's run
        // holds the thread it is called on, and features and decoding are plain JS, so one
        // 1,000-server batch would stall every request for the whole cycle.
        for await (const chunk of predictChunks({
          columns,
          eligible,
          spec,
          at,
          knownServers: loaded.knownServers,
          profileOf,
          minCoverage,
          chunkServers,
          session: loaded.runner.session,
          explains: loaded.explains,
          upstream,
          between: async () => {
            await yieldToLoop();
            return !this.closed;
          },
        })) {
          take(chunk);
        }
      }
      lap();
      if (this.closed) return;
      const built = { time: t, skipped: builtSkipped };
      const skipped = new Map<string, PredictionSkip>(
        built.skipped.map((s) => [
          s.server,
          s.reason === 'no_data'
            ? { reason: 'no_data', detail: `no sample in the model's ${contextHours(spec)} h context window` }
            : {
                reason: 'low_coverage',
                detail: `reported ${Math.round(s.coverage * 100)} % of the ${contextHours(spec)} h context window; the model needs ${Math.round(minCoverage * 100)} %`,
              },
        ]),
      );
      for (const s of stale) {
        const minutes = Math.round((t - s.lastSeen) / 60_000);
        skipped.set(s.name, {
          reason: 'stale',
          detail: `no sample since ${iso(s.lastSeen)} (${minutes} min before the window end): stale, not predicted`,
        });
      }
      const predictedAt = this.options.clock();
      // The predictions stand without their history: report, do not fail the cycle.
      if (storeError !== null) logger.warn('predictions: could not be stored', { error: storeError });
      lap();
      const model = { name: loaded.manifest.name, version: loaded.manifest.version };
      this.latest = {
        model,
        time: built.time,
        predictedAt,
        servers,
        byServer: new Map(servers.map((p) => [p.server, p])),
        skipped,
        newestSeen,
        ...(explanations ? { explanations } : {}),
      };
      this.stepAlerts(this.latest, stepMs(spec), spec.horizonSteps, serverIds);
      const alertsMs = lap();
      const durationMs = Math.round((performance.now() - t0) * 100) / 100;
      const r2 = (x: number): number => Math.round(x * 100) / 100;
      this.lastStages = {
        read: r2(compute.read),
        features: r2(compute.features),
        infer: r2(compute.infer),
        decode: r2(compute.decode),
        store: r2(compute.store),
        alerts: alertsMs,
      };
      this.durations[this.stats.cycles % DURATION_RING] = durationMs;
      this.durationSumMs += durationMs;
      this.stats.cycles++;
      this.stats.lastCycleMs = durationMs;
      this.logCycle(durationMs, servers.length, skipped.size, t);
      this.lastCycleError = null;
      events.emit('predictions.updated', {
        model,
        time: iso(built.time),
        predictedAt: iso(predictedAt),
        servers: servers.length,
        skipped: skipped.size,
        atRisk: servers.reduce((n, p) => n + (p.risk > AT_RISK_THRESHOLD ? 1 : 0), 0),
        durationMs,
      });
    } catch (error) {
      this.stats.failedCycles++;
      const message = error instanceof Error ? error.message : String(error);
      // Once per distinct failure: a broken cycle at 300x would otherwise log every second.
      if (message !== this.lastCycleError) logger.error('predictions: cycle failed', { error });
      this.lastCycleError = `the last prediction cycle failed: ${message}`;
    }
  }
}

/** What the loop keeps of a loaded model: where it came from, its manifest, where it runs, and what follows from them. */
function loadedModel(active: Loaded['active'], manifest: ModelManifest, opened: Pick<Loaded, 'runner' | 'report'>): Loaded {
  return {
    active,
    manifest,
    ...opened,
    knownServers: new Set(manifest.training.dataset.trainingServers),
    ref: `${manifest.name}@${manifest.version}`,
    explains: hasExplanationOutputs(manifest.onnx.outputs),
  };
}

/** A model folder this loop can serve: the TFT's inputs, the three outputs it reads, P10/P50/P90. */
function checkServable(manifest: ModelManifest): void {
  const inputs = manifest.onnx.inputs.map((t) => t.name);
  const unknown = inputs.filter((n) => !Object.hasOwn(TFT_INPUT_FIELDS, n));
  if (unknown.length > 0)
    throw new Error(
      `model ${manifest.name} ${manifest.version}: inputs ${unknown.join(', ')} are not ones the feature pipeline builds`,
    );
  const missing = Object.keys(TFT_INPUT_FIELDS).filter((n) => !inputs.includes(n));
  if (missing.length > 0)
    throw new Error(`model ${manifest.name} ${manifest.version}: inputs ${missing.join(', ')} are missing`);
  for (const name of Object.values(PREDICTION_OUTPUTS)) {
    const out = manifest.onnx.outputs.find((t) => t.name === name);
    if (!out || out.dtype !== 'float32')
      throw new Error(`model ${manifest.name} ${manifest.version}: no float32 output "${name}"`);
  }
  try {
    bandIndices(manifest.featureSpec);
  } catch (error) {
    throw new Error(`model ${manifest.name} ${manifest.version}: ${(error as Error).message}`, { cause: error });
  }
}

function contextHours(spec: { contextSteps: number; stepMinutes: number }): number {
  return (spec.contextSteps * spec.stepMinutes) / 60;
}

function contextMs(spec: { contextSteps: number; stepMinutes: number }): number {
  return spec.contextSteps * spec.stepMinutes * 60_000;
}

/**
 * One readable line: a no_usable_model error repeats the bundled folder's location before its
 * own ("model folder X, file ...: the bundled model cannot be loaded: model folder X, file ...: why"),
 * so only the part from "the bundled model" on is kept.
 */
function describeLoadError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ModelFolderError && error.code === 'no_usable_model') {
    const at = message.indexOf('the bundled model cannot be loaded');
    if (at > 0) return message.slice(at);
  }
  return message;
}
