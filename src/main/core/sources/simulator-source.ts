import { STEP_MS, type Profile } from '@shared/contract';
import type { Incident, SampleColumns } from '@shared/domain';
import { allocateColumns, concatColumns } from '../metrics/columns';
import { FleetSimulator, type FleetServerSpec } from '../metrics/simulator/fleet-sim';
import type { SimulationRates } from '../metrics/simulator/server-sim';
import type { IngestReport, MetricsStore } from '../store';
import type { Logger } from '../util/logger';

export interface SimulatorSourceOptions {
  store: MetricsStore;
  logger: Logger;
  seed: string;
  servers: readonly FleetServerSpec[];
  rates?: Partial<SimulationRates>;
  /** Fleet seconds per wall-clock second: 1 is real time, 300 plays 8 hours in 96 seconds. */
  speed: number;
  /** History generated on first start, so predictions have a full context window at once. */
  backfillHours: number;
  /** A longer outage than this is not replayed: the fleet starts over (with a fresh backfill). */
  maxCatchUpHours?: number;
  /** Wall clock; injectable for tests. */
  now?: () => number;
  /** After each batch of steps reached the store. */
  onStep?: (info: { time: number; steps: number; report: IngestReport }) => void;
  onIncident?: (incident: Incident) => void;
}

export interface SimulatorStatus {
  state: 'starting' | 'running' | 'stopped' | 'failing';
  speed: number;
  /** Paused: the fleet clock stands still and nothing is stepped. */
  paused: boolean;
  /** The fleet's clock (epoch ms): ahead of the wall clock when accelerated. */
  fleetTime: number;
  servers: number;
  lastError: string | null;
}

/** What the store remembers about the simulated fleet, so a restart continues the same fleet. */
interface SimulatorMeta {
  seed: string;
  servers: string[];
  start: number;
}

const META_KEY = 'simulator';
const MAX_STEPS_PER_BATCH = 288;

/**
 * The embedded default source: the fleet simulator on a clock that can run faster than time.
 * Deterministic, so a restart replays the fleet from its recorded start (without writing) up to
 * the store's newest sample, then writes only what is new: no duplicate, no conflict, no jump.
 */
export class SimulatorSource {
  readonly sim: FleetSimulator;
  private readonly now: () => number;
  private speed: number;
  private anchorWall = 0;
  private anchorFleet = 0;
  private timer: NodeJS.Timeout | undefined;
  private status: SimulatorStatus['state'] = 'starting';
  private lastError: string | null = null;
  private busy = false;
  private paused = false;
  /** Servers whose profile is not the one their name implies: the store is told at each ingest. */
  private readonly profiles: Record<string, Profile> = {};
  /** `dependencies()` as of a fleet of `size` servers: only a server joining rewires them. */
  private topology: { size: number; dependencyOf: ReadonlyMap<string, string> } | null = null;

  constructor(private readonly options: SimulatorSourceOptions) {
    if (!(options.speed > 0)) throw new RangeError(`speed must be positive, got ${options.speed}`);
    this.now = options.now ?? Date.now;
    this.speed = options.speed;
    const wallGrid = Math.floor(this.now() / STEP_MS) * STEP_MS;
    const fresh: SimulatorMeta = {
      seed: options.seed,
      servers: options.servers.map((s) => s.name).sort(),
      start: wallGrid - options.backfillHours * 3_600_000,
    };
    const stored = this.readMeta();
    // Newest sample of the simulated servers only: imported files may hold other servers.
    const names = new Set(fresh.servers);
    const lastSeen = options.store.listServers().filter((s) => names.has(s.name)).map((s) => s.lastSeen);
    const newest = lastSeen.length > 0 ? Math.max(...lastSeen) : null;
    const maxCatchUp = (options.maxCatchUpHours ?? 24 * 7) * 3_600_000;
    const sameFleet =
      stored !== null &&
      stored.seed === fresh.seed &&
      stored.servers.join('\n') === fresh.servers.join('\n') &&
      newest !== null &&
      wallGrid - newest <= maxCatchUp;
    const meta = sameFleet ? stored : fresh;
    if (!sameFleet) options.store.setMeta(META_KEY, JSON.stringify(meta));
    this.sim = new FleetSimulator({ seed: meta.seed, start: meta.start, servers: options.servers, rates: options.rates });
    for (const spec of options.servers) if (spec.profile) this.profiles[spec.name] = spec.profile;
    this.sim.onIncident((incident) => {
      options.store.insertIncidents([incident]);
      options.onIncident?.(incident);
    });
    // Replay what the store already holds, writing nothing: it rebuilds the simulator's state.
    if (sameFleet && newest !== null) {
      const scratch = allocateColumns(this.sim.size);
      while (this.sim.time <= newest) this.sim.stepInto(scratch, 0);
      options.logger.info('simulated fleet resumed', { seed: meta.seed, servers: this.sim.size, from: new Date(this.sim.time).toISOString() });
    }
    // The fleet clock starts where the data stops, or at the wall clock, whichever is later.
    this.anchorWall = this.now();
    this.anchorFleet = Math.max(this.anchorWall, this.sim.time);
  }

  /** Catches up to the fleet clock (backfill), then keeps stepping on a timer. */
  async start(): Promise<void> {
    await this.catchUp(Number.POSITIVE_INFINITY);
    if (this.status === 'stopped') return;
    this.status = 'running';
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.status = 'stopped';
  }

  get fleetTime(): number {
    if (this.paused) return this.anchorFleet;
    return this.anchorFleet + (this.now() - this.anchorWall) * this.speed;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  setSpeed(speed: number): void {
    if (!(speed > 0)) throw new RangeError(`speed must be positive, got ${speed}`);
    // Re-anchor so the fleet clock does not jump when the rate changes.
    this.anchorFleet = this.fleetTime;
    this.anchorWall = this.now();
    this.speed = speed;
    if (this.timer) this.schedule();
  }

  /** Freezes the fleet clock and stops the timer; the fleet keeps its state. */
  pause(): void {
    if (this.paused) return;
    this.anchorFleet = this.fleetTime;
    this.anchorWall = this.now();
    this.paused = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Restarts the fleet clock where it stood (no jump over the pause) and the timer. */
  resume(): void {
    if (!this.paused) return;
    this.anchorWall = this.now();
    this.paused = false;
    if (this.status === 'running' || this.status === 'failing') this.schedule();
  }

  /**
   * A server joins the simulated fleet at the fleet clock (the demo's new server), with
   * `historyHours` of its past written to the store at once (default 24 h: the model's context
   * window, so it is predicted at the next cycle rather than half a day later). Its profile is
   * recorded in the store with its first sample.
   */
  addServer(spec: FleetServerSpec, historyHours = 24): IngestReport | null {
    const history = this.sim.addServer(spec, true, Math.round((historyHours * 3_600_000) / STEP_MS));
    if (spec.profile) this.profiles[spec.name] = spec.profile;
    if (history.length === 0) return null;
    return this.options.store.ingest(history, {
      now: Math.max(this.fleetTime, this.sim.time),
      ...(spec.profile ? { profiles: { [spec.name]: spec.profile } } : {}),
    });
  }

  /** The simulated servers and their profiles. */
  servers(): { name: string; profile: Profile }[] {
    return this.sim.serverNames().map((name) => ({ name, profile: this.sim.mapping.get(name)?.profile ?? 'generic' }));
  }

  /**
   * The fleet's topology: each server that depends on another (a web server on its database) ->
   * that upstream, servers added at runtime included. The fleet predictor adds each upstream's
   * risk to its dependents' (fleet/upstream.ts); other sources know no topology.
   */
  dependencies(): ReadonlyMap<string, string> {
    if (this.topology?.size !== this.sim.size) {
      const dependencyOf = new Map<string, string>();
      for (const name of this.sim.serverNames()) {
        const upstream = this.sim.dependencyOf(name);
        if (upstream !== null) dependencyOf.set(name, upstream);
      }
      this.topology = { size: this.sim.size, dependencyOf };
    }
    return this.topology.dependencyOf;
  }

  getStatus(): SimulatorStatus {
    return {
      state: this.status,
      speed: this.speed,
      paused: this.paused,
      fleetTime: this.fleetTime,
      servers: this.sim.size,
      lastError: this.lastError,
    };
  }

  /** Steps the simulator up to the fleet clock and ingests the rows, a bounded batch at a time. */
  async catchUp(maxSteps: number): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    let total = 0;
    try {
      while (this.sim.time <= this.fleetTime && total < maxSteps) {
        const batches: SampleColumns[] = [];
        while (this.sim.time <= this.fleetTime && batches.length < MAX_STEPS_PER_BATCH && total + batches.length < maxSteps) {
          batches.push(this.sim.step());
        }
        const batch = concatColumns(batches);
        const time = batch.timestamp[batch.length - 1] ?? this.sim.time;
        const profiles = Object.keys(this.profiles).length > 0 ? { profiles: { ...this.profiles } } : {};
        const report = await this.options.store.ingestYielding(batch, { now: Math.max(this.fleetTime, time), ...profiles });
        total += batches.length;
        this.options.onStep?.({ time, steps: batches.length, report });
        if (this.sim.time <= this.fleetTime) await new Promise<void>((r) => setImmediate(r));
      }
      this.lastError = null;
      if (this.status === 'failing') this.status = 'running';
    } catch (error) {
      this.status = 'failing';
      this.lastError = error instanceof Error ? error.message : String(error);
      this.options.logger.error('simulated fleet step failed', { error });
    } finally {
      this.busy = false;
    }
    return total;
  }

  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.paused) return;
    // One tick per fleet step, but never faster than 20 Hz nor slower than 1 Hz.
    const tickMs = Math.min(1000, Math.max(50, STEP_MS / this.speed));
    this.timer = setInterval(() => void this.catchUp(MAX_STEPS_PER_BATCH), tickMs);
    this.timer.unref();
  }

  private readMeta(): SimulatorMeta | null {
    const text = this.options.store.getMeta(META_KEY);
    if (text === null) return null;
    try {
      const parsed = JSON.parse(text) as Partial<SimulatorMeta>;
      if (typeof parsed.seed === 'string' && Array.isArray(parsed.servers) && typeof parsed.start === 'number') {
        return { seed: parsed.seed, servers: parsed.servers.map(String), start: parsed.start };
      }
    } catch {
      // An unreadable record means a fresh fleet; the store's samples stay as they are.
    }
    this.options.logger.warn('ignoring an unreadable simulator record in the store');
    return null;
  }
}
