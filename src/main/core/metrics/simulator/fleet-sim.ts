import { inferProfile, PROFILES, STEP_MS, type Profile, type ProfileRule } from '@shared/contract';
import type { Incident, SampleColumns } from '@shared/domain';
import { allocateColumns } from '../columns';
import { ServerMapping } from '../server-encoding';
import { PROFILE_BEHAVIOUR } from './profiles';
import { DEFAULT_RATES, ServerSim, type ForcedScenario, type SimulationRates } from './server-sim';

export interface FleetServerSpec {
  name: string;
  /** Inferred from the name's prefix when absent. */
  profile?: Profile;
}

export interface FleetSimOptions {
  seed: string | number;
  /** First sample time, epoch ms; rounded down to the 5-minute grid. */
  start: number;
  servers: readonly FleetServerSpec[];
  rates?: Partial<SimulationRates>;
  profileRules?: readonly ProfileRule[];
}

interface Member {
  sim: ServerSim;
  dependency: ServerSim | null;
}

/**
 * The simulated fleet: one ServerSim per server, stepped together on the 5-minute grid so that
 * cascades see their dependency's state at the same step. The batch generator and the live
 * source both drive this class; only the clock differs.
 */
export class FleetSimulator {
  readonly incidents: Incident[] = [];
  private members: Member[] = [];
  private readonly listeners = new Set<(incident: Incident) => void>();
  private readonly rates: SimulationRates;
  private readonly seed: string;
  private nextTs: number;
  readonly mapping: ServerMapping;

  constructor(options: FleetSimOptions) {
    this.seed = String(options.seed);
    this.rates = { ...DEFAULT_RATES, ...options.rates };
    this.nextTs = Math.floor(options.start / STEP_MS) * STEP_MS;
    this.mapping = new ServerMapping(options.profileRules);
    for (const spec of options.servers) this.addServer(spec, false);
    this.wireDependencies();
  }

  /** Time of the next step (epoch ms). */
  get time(): number {
    return this.nextTs;
  }

  get size(): number {
    return this.members.length;
  }

  serverNames(): string[] {
    return this.members.map((m) => m.sim.name);
  }

  stateOf(name: string): string | undefined {
    return this.find(name)?.sim.currentState;
  }

  /** The server this one depends on (its cascades come from there), or null. */
  dependencyOf(name: string): string | null {
    return this.require(name).dependency?.name ?? null;
  }

  onIncident(listener: (incident: Incident) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A server joins the fleet at the current time (a new machine; the demo's "add a server").
   * With `historySteps`, it joins having already run that many steps: its samples for them are
   * returned (it was monitored elsewhere before, so the model has a context window at once).
   */
  addServer(spec: FleetServerSpec, rewire = true, historySteps = 0): SampleColumns {
    if (this.find(spec.name)) throw new Error(`Server "${spec.name}" is already in the fleet`);
    if (!Number.isSafeInteger(historySteps) || historySteps < 0)
      throw new RangeError(`historySteps must be a non-negative integer, got ${historySteps}`);
    const entry = this.mapping.add(spec.name, spec.profile);
    const start = this.nextTs - historySteps * STEP_MS;
    const sim = new ServerSim(entry.name, entry.profile, this.seed, start, this.rates, (incident) => {
      this.incidents.push(incident);
      for (const listener of this.listeners) listener(incident);
    });
    const history = allocateColumns(historySteps);
    // Its past on its own: its dependency (if any) is wired from now on.
    for (let k = 0; k < historySteps; k++) sim.step(start + k * STEP_MS, history, k, null);
    this.members.push({ sim, dependency: null });
    if (rewire) this.wireDependencies();
    return history;
  }

  force(name: string, scenario: ForcedScenario): void {
    this.require(name).sim.force(scenario);
  }

  heal(name: string): void {
    this.require(name).sim.heal();
  }

  /** One sample per server at `time`, then the clock moves one step. */
  step(): SampleColumns {
    const out = allocateColumns(this.members.length);
    this.stepInto(out, 0);
    return out;
  }

  /** Writes one step into `out` starting at `row`; returns the timestamp written. */
  stepInto(out: SampleColumns, row: number): number {
    const ts = this.nextTs;
    // Dependencies first, so a dependent sees its dependency's state of this very step.
    this.members.forEach((m, i) => m.sim.step(ts, out, row + i, m.dependency ? m.dependency.view(ts) : null));
    this.nextTs += STEP_MS;
    return ts;
  }

  private find(name: string): Member | undefined {
    return this.members.find((m) => m.sim.name === name);
  }

  private require(name: string): Member {
    const member = this.find(name);
    if (!member) throw new Error(`No server "${name}" in the simulated fleet`);
    return member;
  }

  /**
   * Each server whose profile depends on another (web -> database) gets one dependency, chosen by
   * its id so the choice is stable. Servers are ordered so dependencies step first.
   */
  private wireDependencies(): void {
    const byProfile = new Map<Profile, ServerSim[]>();
    for (const m of this.members) {
      const list = byProfile.get(m.sim.profile) ?? [];
      list.push(m.sim);
      byProfile.set(m.sim.profile, list);
    }
    for (const list of byProfile.values()) list.sort((a, b) => a.name.localeCompare(b.name));
    for (const m of this.members) {
      const target = PROFILE_BEHAVIOUR[m.sim.profile].dependsOn;
      const candidates = target ? (byProfile.get(target) ?? []) : [];
      m.dependency = candidates.length > 0 ? candidates[this.mapping.get(m.sim.name)!.id % candidates.length]! : null;
    }
    const rank = (m: Member): number => (PROFILE_BEHAVIOUR[m.sim.profile].dependsOn ? 1 : 0);
    this.members.sort((a, b) => rank(a) - rank(b) || a.sim.name.localeCompare(b.sim.name));
  }
}

/** Name prefixes of the seed's fleet, per profile. */
const NAME_PREFIX: Readonly<Record<Profile, { prefix: string; digits: number }>> = {
  ml_compute: { prefix: 'ppml', digits: 4 },
  database: { prefix: 'ppdb', digits: 3 },
  web_api: { prefix: 'ppweb', digits: 3 },
  conductor_mgmt: { prefix: 'ppcon', digits: 2 },
  data_ingest: { prefix: 'ppetl', digits: 3 },
  risk_analytics: { prefix: 'pprisk', digits: 3 },
  generic: { prefix: 'ppsvc', digits: 3 },
};

/** Relative share of each profile in a default fleet (the seed's 20-server fleet mix). */
const PROFILE_MIX: Readonly<Record<Profile, number>> = {
  ml_compute: 4,
  database: 3,
  web_api: 4,
  conductor_mgmt: 2,
  data_ingest: 3,
  risk_analytics: 2,
  generic: 2,
};

/**
 * A fleet of `count` servers named like the seed's (ppml0001, ppdb001, ...), profiles in the
 * seed's proportions, at least one of each profile when count >= 7. `firstIndex` shifts the
 * numbering, which is how evaluation fleets get names never seen in training.
 */
export function defaultFleet(count: number, firstIndex = 1): FleetServerSpec[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive integer, got ${count}`);
  const total = Object.values(PROFILE_MIX).reduce((a, b) => a + b, 0);
  const counts = new Map<Profile, number>();
  // Largest-remainder apportionment, so the mix holds for any fleet size.
  const quotas = PROFILES.map((p) => ({ p, q: (count * PROFILE_MIX[p]) / total }));
  let assigned = 0;
  for (const { p, q } of quotas) {
    const n = count >= PROFILES.length ? Math.max(1, Math.floor(q)) : Math.floor(q);
    counts.set(p, n);
    assigned += n;
  }
  const byRemainder = [...quotas].sort((a, b) => (b.q % 1) - (a.q % 1));
  for (let i = 0; assigned < count; i++, assigned++) {
    const p = byRemainder[i % byRemainder.length]!.p;
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  while (assigned > count) {
    const p = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    counts.set(p, counts.get(p)! - 1);
    assigned--;
  }
  const servers: FleetServerSpec[] = [];
  for (const profile of PROFILES) {
    const { prefix, digits } = NAME_PREFIX[profile];
    for (let i = 0; i < (counts.get(profile) ?? 0); i++) {
      const name = `${prefix}${String(firstIndex + i).padStart(digits, '0')}`;
      servers.push({ name, profile: inferProfile(name) === profile ? undefined : profile });
    }
  }
  return servers.map((s) => (s.profile === undefined ? { name: s.name } : s));
}
