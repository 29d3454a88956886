import { ApiError, inferProfile, type EventBus } from '@shared/contract';
import type { DemoControl, DemoRunInput, DemoState, DemoScenario } from '@shared/domain';
import type { SimulatorSource } from '../sources/simulator-source';
import type { MetricsStore } from '../store';

const HOUR_MS = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

interface Run {
  server: string;
  scenario: DemoScenario;
  startedAt: number;
  onsetAt: number | null;
}

export interface DemoControllerOptions {
  /** The simulated fleet; null when the core runs without it (`--no-simulator`). */
  source: SimulatorSource | null;
  store: MetricsStore;
  events: EventBus;
  /** The fleet clock (ms): the simulator's, or the wall clock without one. */
  fleetTime: () => number;
  /** Called after the fleet changed under the demo (a new server, a scenario): e.g. a prediction cycle. */
  onChange?: () => void;
}

/**
 * The interactive demo over the simulated fleet: scenarios on servers (a new name adds one),
 * speed, pause, reset. Every change emits `demo.changed` with the new state. Without the
 * simulator, the state says `available: false` and every change answers `unavailable`.
 */
export class DemoController {
  private runs: Run[] = [];

  constructor(private readonly options: DemoControllerOptions) {}

  state(): DemoState {
    const source = this.options.source;
    if (!source) {
      return {
        available: false,
        speed: 1,
        paused: false,
        fleetTime: iso(this.options.fleetTime()),
        servers: [],
        runs: [],
      };
    }
    const status = source.getStatus();
    return {
      available: true,
      speed: status.speed,
      paused: status.paused,
      fleetTime: iso(status.fleetTime),
      servers: source.servers().sort((a, b) => a.name.localeCompare(b.name)),
      runs: [...this.runs].reverse().map((r) => ({
        server: r.server,
        scenario: r.scenario,
        startedAt: iso(r.startedAt),
        onsetAt: r.onsetAt === null ? null : iso(r.onsetAt),
        state: (source.sim.stateOf(r.server) as DemoState['runs'][number]['state'] | undefined) ?? null,
      })),
    };
  }

  /** Starts `scenario` on `server` (adding it to the fleet when new); "healthy" heals it. */
  run(input: DemoRunInput): DemoState {
    const source = this.require();
    const simulated = new Set(source.sim.serverNames());
    if (!simulated.has(input.server)) {
      if (this.options.store.listServers().some((s) => s.name === input.server)) {
        throw new ApiError(
          'conflict',
          `"${input.server}" is a server of the store that the simulator does not drive (imported or scraped): pick a simulated server or a new name`,
        );
      }
      source.addServer({ name: input.server, profile: input.profile ?? inferProfile(input.server) });
    }
    const startedAt = source.fleetTime;
    if (input.scenario === 'healthy') {
      source.sim.heal(input.server);
    } else {
      source.sim.force(input.server, { type: input.scenario, precursorHours: input.precursorHours });
    }
    this.runs.push({
      server: input.server,
      scenario: input.scenario,
      startedAt,
      onsetAt: input.scenario === 'healthy' ? null : startedAt + input.precursorHours * HOUR_MS,
    });
    return this.changed();
  }

  /** Speed and pause; either may be left out. */
  control(input: DemoControl): DemoState {
    const source = this.require();
    if (input.speed !== undefined) source.setSpeed(input.speed);
    if (input.paused === true) source.pause();
    if (input.paused === false) source.resume();
    return this.changed();
  }

  /** Heals every server a run touched, forgets the runs, speed 1x, running. */
  reset(): DemoState {
    const source = this.require();
    const simulated = new Set(source.sim.serverNames());
    for (const server of new Set(this.runs.map((r) => r.server))) {
      if (simulated.has(server)) source.sim.heal(server);
    }
    this.runs = [];
    source.setSpeed(1);
    source.resume();
    return this.changed();
  }

  private require(): SimulatorSource {
    if (!this.options.source) {
      throw new ApiError(
        'unavailable',
        'The demo drives the simulated fleet, and this core runs without the simulated fleet (started with --no-simulator): restart it without that flag to use the demo',
      );
    }
    return this.options.source;
  }

  private changed(): DemoState {
    const state = this.state();
    this.options.events.emit('demo.changed', state);
    this.options.onChange?.();
    return state;
  }
}
