import { METRIC_BY_NAME, STEP_MS, type MetricName, type Profile, type ServerState } from '@shared/contract';
import type { Incident, IncidentType, SampleColumns } from '@shared/domain';
import { Prng } from './prng';
import { clamp, clamp01, dailyLoad, PROFILE_BEHAVIOUR, type ProfileBehaviour } from './profiles';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DAY = 24 * HOUR;

export interface SimulationRates {
  /** Incidents a server has per week on average (cascades come on top, from dependencies). */
  incidentsPerWeek: number;
  /** Share of incidents with no precursor at all: no model can foresee them. */
  suddenShare: number;
  /** Harmless excursions per week (memory that plateaus, disk that gets cleaned, CPU bursts): the false-alarm fodder. */
  benignPerWeek: number;
  /**
   * Chance that a server depending on a failing one fails too, at the fleet's typical load
   * (0.44). It scales with the dependent's own load when its dependency goes critical
   * (`cascadeChance`): a busy service runs out of connections to a stalled database far sooner
   * than one serving the night's trickle.
   */
  cascadeProbability: number;
  /** Chance per value that the agent drops it. */
  dropout: number;
}

export const DEFAULT_RATES: SimulationRates = {
  incidentsPerWeek: 0.9,
  suddenShare: 0.3,
  benignPerWeek: 1.2,
  cascadeProbability: 0.35,
  dropout: 0.001,
};

/** A scenario forced on a server (the demo, tests): an incident of this type, starting its precursor now. */
export interface ForcedScenario {
  type: IncidentType;
  /** Hours from now until onset; 0 = sudden. */
  precursorHours: number;
}

type Phase = 'precursor' | 'critical' | 'recovery';

interface ActiveIncident {
  incident: Incident;
  phase: Phase;
  /** Where the driving metric ends up (the critical side). */
  to: number;
  /** Curvature of the approach: >1 creeps then accelerates (a leak), <1 rises fast then saturates. */
  shape: number;
  criticalEnd: number;
  recoveryEnd: number;
  /** NIC direction that saturates, for network incidents. */
  direction: 'in' | 'out';
}

interface BenignExcursion {
  metric: 'memory_percent' | 'disk_percent' | 'cpu_percent';
  start: number;
  peakAt: number;
  holdUntil: number;
  end: number;
  peak: number;
}

/** Load (0-1) around which `cascadeProbability` is the chance of a cascade: the dependents' mean. */
const TYPICAL_DEPENDENT_LOAD = 0.44;

/**
 * How hard a dependency's strain presses on a dependent: requests wait on the slow dependency
 * and hold connections and threads, in proportion to the traffic the dependent serves. 0 with
 * no strain; about 1 at full strain and typical load; 2.25 at full strain and full load.
 */
export function dependencyPressure(strain: number, load: number): number {
  return strain * strain * (0.25 + 2 * load);
}

/** Chance that a dependent fails when its dependency goes critical, given its load then. */
export function cascadeChance(cascadeProbability: number, load: number): number {
  return clamp(cascadeProbability * dependencyPressure(1, load) / dependencyPressure(1, TYPICAL_DEPENDENT_LOAD), 0.02, 0.95);
}

/** What a server's dependency looks like this step, for cascading failures. */
export interface DependencyView {
  name: string;
  /** Active incident of the dependency, if any. */
  incident: Incident | null;
  phase: Phase | null;
  /** Progress through the precursor in [0, 1], 1 at onset. */
  progress: number;
}

/**
 * One simulated server: a state machine (healthy, heavy_load, morning_spike, idle, maintenance,
 * critical_issue, recovery, offline) over profile-specific metrics with daily and weekly
 * seasonality, AR(1) noise, slow drifts (disk growth), and incidents with or without precursors.
 * `step(ts)` is causal: it only uses the past and its own random stream, so the same code serves
 * the batch generator and the live clock.
 */
export class ServerSim {
  readonly behaviour: ProfileBehaviour;
  private readonly rng: Prng;
  private readonly cores: number;
  private readonly memBase: number;
  private readonly unreported: ReadonlySet<MetricName>;
  private diskLevel: number;
  private readonly diskGrowthPerStep: number;
  private readonly ar = { cpu: 0, mem: 0, io: 0, netIn: 0, netOut: 0, lat: 0 };
  private memLoad = 0;
  private state: ServerState = 'healthy';
  private heavyUntil = 0;
  private heavyLevel = 0;
  private spikeDay = -1;
  private spikeToday = false;
  private nextIncidentAt: number;
  private nextBenignAt: number;
  private nextMaintenanceAt: number;
  private maintenance: { start: number; offlineFrom: number; offlineTo: number; end: number } | null = null;
  private active: ActiveIncident | null = null;
  private benign: BenignExcursion | null = null;
  private cascadeSeenFor: string | null = null;
  /** Load of the last step (schedules advance before this step's load is known). */
  private lastLoad = TYPICAL_DEPENDENT_LOAD;
  private forced: ForcedScenario | null = null;
  private incidentSeq = 0;
  private lastTs = -Infinity;

  constructor(
    readonly name: string,
    readonly profile: Profile,
    fleetSeed: string,
    start: number,
    private readonly rates: SimulationRates = DEFAULT_RATES,
    private readonly onIncident: (incident: Incident) => void = () => {},
  ) {
    this.behaviour = PROFILE_BEHAVIOUR[profile];
    this.rng = new Prng(`${fleetSeed}\u0000${name}`);
    const b = this.behaviour;
    this.cores = this.rng.int(b.cores[0], b.cores[1]);
    this.memBase = this.rng.uniform(b.memory.base[0], b.memory.base[1]);
    this.diskLevel = this.rng.uniform(b.disk.start[0], b.disk.start[1]);
    this.diskGrowthPerStep = this.rng.uniform(b.disk.growthPerDay[0], b.disk.growthPerDay[1]) / (DAY / STEP_MS);
    this.unreported = new Set(b.unreported);
    this.nextIncidentAt = start + this.waitFor(rates.incidentsPerWeek);
    this.nextBenignAt = start + this.waitFor(rates.benignPerWeek);
    this.nextMaintenanceAt = this.nextSundayNight(start + this.rng.uniform(3, 24) * DAY);
  }

  get currentState(): ServerState {
    return this.state;
  }

  /** The dependency view other servers read for cascading failures. */
  view(ts: number): DependencyView {
    const a = this.active;
    if (!a) return { name: this.name, incident: null, phase: null, progress: 0 };
    return { name: this.name, incident: a.incident, phase: a.phase, progress: this.progress(a, ts) };
  }

  /** Starts a scenario on the next step (the demo's "memory leak" button). Replaces a running incident. */
  force(scenario: ForcedScenario): void {
    this.forced = scenario;
  }

  /** Clears incidents and excursions: back to a healthy server (the demo's reset). */
  heal(): void {
    this.active = null;
    this.benign = null;
    this.forced = null;
    this.maintenance = null;
    this.state = 'healthy';
  }

  /**
   * Writes this server's sample at `ts` into row `row` of `out`. Steps must move forward in time.
   */
  step(ts: number, out: SampleColumns, row: number, dependency: DependencyView | null): void {
    if (ts <= this.lastTs) throw new Error(`${this.name}: step at ${ts} is not after ${this.lastTs}`);
    this.lastTs = ts;
    const rng = this.rng;
    const b = this.behaviour;
    const date = new Date(ts);
    const hour = date.getUTCHours() + date.getUTCMinutes() / 60;
    const dow = date.getUTCDay();
    const weekend = dow === 0 || dow === 6;

    this.advanceSchedules(ts, dependency);

    // Base load from the day's shape, then episodes on top.
    let load = dailyLoad(b.shape, hour) * (weekend ? b.weekend : 1);
    let state: ServerState = 'healthy';
    const day = Math.floor(ts / DAY);
    if (day !== this.spikeDay) {
      this.spikeDay = day;
      this.spikeToday = !weekend && b.shape === 'business' && rng.chance(0.5);
    }
    if (this.spikeToday && hour >= 7.75 && hour < 9.25) {
      load = clamp01(load + 0.3 * Math.sin(((hour - 7.75) / 1.5) * Math.PI));
      state = 'morning_spike';
    }
    if (ts < this.heavyUntil) {
      load = Math.max(load, this.heavyLevel);
      state = 'heavy_load';
    } else if (rng.chance(b.heavyLoadPerStep)) {
      this.heavyUntil = ts + rng.uniform(1, 6) * HOUR;
      this.heavyLevel = rng.uniform(0.7, 0.95);
    }
    if (state === 'healthy' && load < 0.22) state = 'idle';

    const m = this.maintenance;
    const inMaintenance = m !== null && ts >= m.start && ts < m.end;
    const offline = m !== null && ts >= m.offlineFrom && ts < m.offlineTo;
    if (inMaintenance) {
      load = 0.05;
      state = offline ? 'offline' : 'maintenance';
    }

    // AR(1) noise: smooth wiggles like real telemetry, not white static.
    const ar = (prev: number, sigma: number, phi = 0.85): number => phi * prev + sigma * Math.sqrt(1 - phi * phi) * rng.normal();
    this.ar.cpu = ar(this.ar.cpu, b.cpu.noise);
    this.ar.mem = ar(this.ar.mem, b.memory.noise, 0.97);
    this.ar.io = ar(this.ar.io, b.iowait.noise);
    this.ar.netIn = ar(this.ar.netIn, 0.12);
    this.ar.netOut = ar(this.ar.netOut, 0.12);
    this.ar.lat = ar(this.ar.lat, 0.08);
    // Memory follows load slowly (caches fill, pools grow).
    this.memLoad += (load - this.memLoad) * 0.05;

    // Disk grows steadily; log rotation trims a little at midnight; big cleanups when it gets full.
    this.diskLevel += this.diskGrowthPerStep * (0.5 + load);
    if (hour === 0 && date.getUTCMinutes() === 0) this.diskLevel -= rng.uniform(0.2, 1.2);
    if (this.diskLevel > 82 && !this.active && rng.chance(0.01)) this.diskLevel -= rng.uniform(15, 35);
    this.diskLevel = clamp(this.diskLevel, 5, 99);

    let cpu = b.cpu.base + b.cpu.load * load + this.ar.cpu + 0.6 * rng.normal();
    let memory = this.memBase + b.memory.load * this.memLoad + this.ar.mem;
    let disk = this.diskLevel + 0.05 * rng.normal();
    let iowait = b.iowait.base + b.iowait.load * load + this.ar.io;
    let netIn = (b.network.inBase + b.network.inLoad * load) * Math.exp(this.ar.netIn);
    let netOut = (b.network.outBase + b.network.outLoad * load) * Math.exp(this.ar.netOut);
    let latencyFactor = 1;
    let errorExtra = 0;

    // Benign excursions: look like trouble for a while, then go away.
    const ex = this.benign;
    if (ex && ts < ex.end) {
      const level =
        ts < ex.peakAt
          ? (ts - ex.start) / (ex.peakAt - ex.start)
          : ts < ex.holdUntil
            ? 1
            : 1 - (ts - ex.holdUntil) / (ex.end - ex.holdUntil);
      if (ex.metric === 'memory_percent') memory = lerp(memory, ex.peak, level);
      else if (ex.metric === 'disk_percent') disk = lerp(disk, ex.peak, level);
      else cpu = lerp(cpu, ex.peak, level);
      if (ex.metric === 'disk_percent' && ts >= ex.holdUntil) this.diskLevel = Math.min(this.diskLevel, disk);
    } else if (ex) {
      this.benign = null;
    }

    // Incidents: drive the failing metric from its normal level to the critical side.
    const a = this.active;
    if (a) {
      const p = this.progress(a, ts);
      const drive = Math.pow(p, a.shape);
      if (a.phase === 'critical') state = 'critical_issue';
      else if (a.phase === 'recovery') state = 'recovery';
      const jitter = rng.normal();
      const critical = a.phase === 'critical';
      const recovering = a.phase === 'recovery' ? 1 - (ts - a.incident.end) / (a.recoveryEnd - a.incident.end) : 0;
      switch (a.incident.type) {
        case 'memory_leak':
          if (a.phase !== 'recovery') memory = lerp(memory, a.to, drive) + 0.3 * jitter;
          if (drive > 0.7 || critical) errorExtra += critical ? 0.03 : 0;
          break;
        case 'disk_fill':
          if (a.phase !== 'recovery') {
            disk = lerp(disk, a.to, drive) + 0.05 * jitter;
            iowait += 10 * drive;
          }
          if (critical) errorExtra += 0.02;
          break;
        case 'cpu_runaway':
          if (a.phase !== 'recovery') cpu = lerp(cpu, a.to, drive) + 0.5 * jitter;
          break;
        case 'network_saturation': {
          const capacity = b.network.capacity;
          if (a.phase !== 'recovery') {
            if (a.direction === 'in') netIn = lerp(netIn, capacity * 0.985, drive);
            else netOut = lerp(netOut, capacity * 0.985, drive);
            latencyFactor *= 1 + 30 * Math.pow(drive, 4);
          }
          if (critical) errorExtra += 0.04;
          break;
        }
        case 'cascading_failure':
          if (a.phase !== 'recovery') latencyFactor *= 1 + 40 * Math.pow(drive, 3);
          if (critical) errorExtra += 0.05 + 0.05 * Math.abs(jitter);
          break;
        case 'hardware_fault':
          if (critical) {
            latencyFactor *= 30;
            errorExtra += 0.15 + 0.1 * Math.abs(jitter);
            cpu *= 0.5;
          }
          break;
      }
      if (recovering > 0) {
        latencyFactor *= 1 + 2 * recovering;
        errorExtra += 0.005 * recovering;
      }
    }

    // A dependency in trouble slows this server down before (and whether or not) it cascades,
    // and the calls that wait too long time out: errors grow with the strain and with the
    // traffic this server sends it (the same pressure that decides whether it cascades).
    if (dependency?.incident && dependency.phase !== 'recovery') {
      const strain = dependency.phase === 'critical' ? 1 : Math.max(0, (dependency.progress - 0.5) * 2);
      latencyFactor *= 1 + 1.5 * strain * strain;
      errorExtra += 0.006 * dependencyPressure(strain, load);
    }
    this.lastLoad = load;

    cpu = clamp(cpu, 0, 100);
    memory = clamp(memory, 0, 100);
    disk = clamp(disk, 0, 100);
    iowait = clamp(iowait, 0, 100);
    netIn = clamp(netIn, 0, b.network.capacity);
    netOut = clamp(netOut, 0, b.network.capacity);
    // Swap starts being used when memory gets tight.
    const swap = clamp(0.5 + Math.max(0, memory - 82) * 3.2 + 0.3 * Math.abs(rng.normal()), 0, 100);
    const loadAverage = Math.max(0, (this.cores * cpu) / 100 + (this.cores * iowait) / 200 + 0.1 * rng.normal());
    // Latency behaves like a queue: it explodes as the busiest resource saturates.
    const utilisation = Math.max(cpu / 100, Math.max(netIn, netOut) / b.network.capacity, iowait / 60, (memory - 60) / 40);
    const queue = 1 / Math.max(0.06, 1 - 0.94 * clamp01(utilisation) ** 3);
    const latency = b.latencyBase * queue * latencyFactor * Math.exp(this.ar.lat);
    const errorRate = clamp(
      b.errorBase * Math.exp(0.5 * rng.normal()) + Math.max(0, latency / 1000 - 1) * 0.01 + errorExtra,
      0,
      1,
    );

    if (this.active?.phase === 'critical') state = 'critical_issue';
    else if (this.active?.phase === 'recovery' && !offline) state = 'recovery';
    this.state = state;

    out.server[row] = this.name;
    out.timestamp[row] = ts;
    out.state[row] = state;
    const values: Record<MetricName, number> = {
      cpu_percent: cpu,
      memory_percent: memory,
      disk_percent: disk,
      iowait_percent: iowait,
      swap_percent: swap,
      load_average: loadAverage,
      network_in_mbps: netIn,
      network_out_mbps: netOut,
      latency_ms: latency,
      error_rate: errorRate,
    };
    for (const name in values) {
      const metric = name as MetricName;
      const column = out.metrics[metric];
      if (offline || this.unreported.has(metric) || rng.chance(this.rates.dropout)) {
        column.values[row] = 0;
        column.present[row] = 0;
        continue;
      }
      const spec = METRIC_BY_NAME[metric];
      // Round like real exporters do (and so files compress well).
      column.values[row] = clamp(Math.round(values[metric] * 1000) / 1000, spec.min, spec.max);
      column.present[row] = 1;
    }
  }

  private progress(a: ActiveIncident, ts: number): number {
    const start = a.incident.precursorStart;
    if (start === null || ts >= a.incident.onset) return 1;
    return clamp01((ts - start) / (a.incident.onset - start));
  }

  private waitFor(perWeek: number): number {
    if (perWeek <= 0) return Number.POSITIVE_INFINITY;
    // Round to the grid so schedules line up with steps.
    return Math.max(STEP_MS, Math.round(this.rng.exponential((7 * DAY) / perWeek) / STEP_MS) * STEP_MS);
  }

  private nextSundayNight(after: number): number {
    const d = new Date(after);
    const daysToSunday = (7 - d.getUTCDay()) % 7;
    const sunday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + daysToSunday, 1, 0);
    const at = sunday + this.rng.int(0, 24) * 5 * MINUTE;
    return at > after ? at : at + 7 * DAY;
  }

  /** Moves the incident, excursion and maintenance schedules forward to `ts`. */
  private advanceSchedules(ts: number, dependency: DependencyView | null): void {
    const rng = this.rng;
    const a = this.active;
    if (a) {
      if (a.phase === 'precursor' && ts >= a.incident.onset) {
        a.phase = 'critical';
        this.onIncident(a.incident);
      }
      if (a.phase === 'critical' && ts >= a.criticalEnd) {
        a.phase = 'recovery';
        a.incident.end = ts;
        // The fix: a restart frees memory, a cleanup frees disk.
        if (a.incident.type === 'memory_leak') this.ar.mem = -2;
        if (a.incident.type === 'disk_fill') this.diskLevel = rng.uniform(35, 60);
      }
      if (a.phase === 'recovery' && ts >= a.recoveryEnd) this.active = null;
    }

    if (this.forced) {
      const forced = this.forced;
      this.forced = null;
      this.startIncident(ts, forced.type, forced.precursorHours * HOUR, null);
      return;
    }

    // Cascades: when the dependency goes critical, this server may follow it down.
    if (dependency?.incident && dependency.phase === 'critical' && this.cascadeSeenFor !== dependency.incident.id) {
      this.cascadeSeenFor = dependency.incident.id;
      if (!this.active && rng.chance(cascadeChance(this.rates.cascadeProbability, this.lastLoad))) {
        const delay = rng.int(1, 4) * STEP_MS;
        const dep = dependency.incident;
        // It was foreseeable if the dependency's trouble built up (latency here crept up with it).
        const precursorStart = dep.precursorStart !== null ? dep.precursorStart + (dep.onset - dep.precursorStart) / 2 : null;
        this.startIncident(ts, 'cascading_failure', delay, dep.server, precursorStart);
      }
    }

    if (ts >= this.nextIncidentAt) {
      this.nextIncidentAt = ts + this.waitFor(this.rates.incidentsPerWeek);
      if (!this.active && !this.maintenance) {
        const weights = { ...this.behaviour.incidents };
        delete weights.cascading_failure; // those come from dependencies only
        const type = rng.weighted(weights);
        const sudden = type === 'hardware_fault' || rng.chance(this.rates.suddenShare);
        const hours =
          type === 'cpu_runaway' ? rng.uniform(1, 5) : type === 'network_saturation' ? rng.uniform(1.5, 6) : rng.uniform(2, 10);
        this.startIncident(ts, type, sudden ? 0 : Math.round((hours * HOUR) / STEP_MS) * STEP_MS, null);
      }
    }

    if (ts >= this.nextBenignAt) {
      this.nextBenignAt = ts + this.waitFor(this.rates.benignPerWeek);
      if (!this.active && !this.benign) {
        const metric = rng.pick(['memory_percent', 'disk_percent', 'cpu_percent'] as const);
        const rise = rng.uniform(2, 8) * HOUR;
        const hold = rng.uniform(0.5, 3) * HOUR;
        const fall = metric === 'cpu_percent' ? rng.uniform(0.5, 2) * HOUR : rng.uniform(0.1, 1) * HOUR;
        this.benign = {
          metric,
          start: ts,
          peakAt: ts + rise,
          holdUntil: ts + rise + hold,
          end: ts + rise + hold + fall,
          peak: rng.uniform(76, 90),
        };
      }
    }

    if (ts >= this.nextMaintenanceAt && !this.maintenance) {
      const duration = rng.int(6, 18) * STEP_MS;
      const offlineFrom = ts + rng.int(1, 3) * STEP_MS;
      this.maintenance = {
        start: ts,
        offlineFrom,
        offlineTo: offlineFrom + rng.int(1, 4) * STEP_MS,
        end: ts + duration,
      };
      this.nextMaintenanceAt = this.nextSundayNight(ts + rng.uniform(13, 27) * DAY);
    }
    if (this.maintenance && ts >= this.maintenance.end) {
      this.maintenance = null;
      // A reboot clears leaks and drifts; an incident in its precursor is fixed by the maintenance.
      this.ar.mem = -1.5;
      if (this.active?.phase === 'precursor') this.active = null;
      this.benign = null;
    }
  }

  private startIncident(
    ts: number,
    type: IncidentType,
    precursorMs: number,
    cause: string | null,
    precursorStartOverride?: number | null,
  ): void {
    const rng = this.rng;
    const onset = ts + precursorMs;
    // A precursor shorter than 30 minutes gives no usable warning: label it sudden.
    const precursorStart = precursorStartOverride !== undefined ? precursorStartOverride : precursorMs > 0 ? ts : null;
    const precursor = precursorStart !== null && onset - precursorStart >= 30 * MINUTE;
    const metric = DRIVING_METRIC[type];
    const spec = METRIC_BY_NAME[metric];
    const criticalEnd = onset + rng.int(6, 36) * STEP_MS;
    const incident: Incident = {
      id: `${this.name}-${++this.incidentSeq}`,
      server: this.name,
      type,
      onset,
      end: criticalEnd,
      precursor,
      precursorStart: precursor ? precursorStart : null,
      metric,
      cause,
    };
    const critical = spec.critical ?? spec.max;
    this.active = {
      incident,
      phase: precursorMs > 0 ? 'precursor' : 'critical',
      to: Math.min(spec.max, critical + rng.uniform(0.02, 0.05) * (spec.max - spec.min)),
      shape: type === 'memory_leak' ? rng.uniform(1, 1.8) : type === 'disk_fill' ? rng.uniform(0.8, 1.4) : rng.uniform(1.2, 2.5),
      criticalEnd,
      recoveryEnd: criticalEnd + rng.int(6, 24) * STEP_MS,
      direction: rng.chance(0.5) ? 'in' : 'out',
    };
    this.benign = null;
    if (precursorMs === 0) this.onIncident(incident);
  }
}

/** The metric that crosses its critical threshold at onset, per incident type. */
export const DRIVING_METRIC: Readonly<Record<IncidentType, MetricName>> = {
  memory_leak: 'memory_percent',
  disk_fill: 'disk_percent',
  cpu_runaway: 'cpu_percent',
  network_saturation: 'latency_ms',
  cascading_failure: 'latency_ms',
  hardware_fault: 'error_rate',
};

function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}
