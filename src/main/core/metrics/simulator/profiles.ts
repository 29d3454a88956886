import type { MetricName, Profile } from '@shared/contract';
import type { IncidentType } from '@shared/domain';

/** The shape of a server's day: a load factor in [0, 1] by hour of day, weekdays and weekends. */
export type DailyShape = 'business' | 'nightly_batch' | 'end_of_day' | 'flat' | 'training_jobs';

/**
 * How a profile behaves. Levels are the metric's value at load factor 0 (`base`) and how much a
 * full load adds (`load`); the simulator adds AR(1) noise of `noise` standard deviation.
 */
export interface ProfileBehaviour {
  shape: DailyShape;
  /** Weekend load relative to weekdays. */
  weekend: number;
  cores: [number, number];
  cpu: { base: number; load: number; noise: number };
  memory: { base: [number, number]; load: number; noise: number };
  /** Disk starts in this range and grows by `growthPerDay` points until a cleanup. */
  disk: { start: [number, number]; growthPerDay: [number, number] };
  iowait: { base: number; load: number; noise: number };
  /** NIC capacity and typical use, Mbit/s. */
  network: { capacity: number; inBase: number; inLoad: number; outBase: number; outLoad: number };
  /** Service latency at idle, ms; it grows with saturation like a queue (1 / (1 - utilisation)). */
  latencyBase: number;
  errorBase: number;
  /** Metrics this kind of server does not report at all (real agents do not export everything). */
  unreported: MetricName[];
  /** Incident types and their relative weights. */
  incidents: Partial<Record<IncidentType, number>>;
  /** Profile this one depends on (cascading failures come from it). */
  dependsOn: Profile | null;
  /** Chance per step of starting a heavy-load episode (ML training jobs, batch runs). */
  heavyLoadPerStep: number;
}

export const PROFILE_BEHAVIOUR: Readonly<Record<Profile, ProfileBehaviour>> = {
  ml_compute: {
    shape: 'training_jobs',
    weekend: 0.8,
    cores: [32, 96],
    cpu: { base: 12, load: 70, noise: 3 },
    memory: { base: [40, 55], load: 25, noise: 1.2 },
    disk: { start: [35, 60], growthPerDay: [0.2, 0.6] },
    iowait: { base: 1.5, load: 5, noise: 0.8 },
    network: { capacity: 25_000, inBase: 150, inLoad: 2_500, outBase: 80, outLoad: 900 },
    latencyBase: 40,
    errorBase: 0.002,
    unreported: [],
    incidents: { memory_leak: 4, cpu_runaway: 2, disk_fill: 1, hardware_fault: 1 },
    dependsOn: null,
    heavyLoadPerStep: 0.004,
  },
  database: {
    shape: 'business',
    weekend: 0.45,
    cores: [16, 64],
    cpu: { base: 10, load: 45, noise: 2.5 },
    memory: { base: [60, 72], load: 10, noise: 0.6 },
    disk: { start: [45, 70], growthPerDay: [0.3, 0.9] },
    iowait: { base: 2, load: 14, noise: 1.2 },
    network: { capacity: 10_000, inBase: 60, inLoad: 700, outBase: 90, outLoad: 1_400 },
    latencyBase: 8,
    errorBase: 0.0008,
    unreported: [],
    incidents: { disk_fill: 4, memory_leak: 2, cpu_runaway: 1, hardware_fault: 1 },
    dependsOn: null,
    heavyLoadPerStep: 0.0015,
  },
  web_api: {
    shape: 'business',
    weekend: 0.5,
    cores: [4, 16],
    cpu: { base: 8, load: 50, noise: 3 },
    memory: { base: [35, 50], load: 15, noise: 1 },
    disk: { start: [25, 45], growthPerDay: [0.1, 0.3] },
    iowait: { base: 0.6, load: 2, noise: 0.4 },
    network: { capacity: 10_000, inBase: 40, inLoad: 2_200, outBase: 80, outLoad: 4_000 },
    latencyBase: 45,
    errorBase: 0.003,
    unreported: [],
    incidents: { network_saturation: 3, memory_leak: 2, cpu_runaway: 1, cascading_failure: 3, hardware_fault: 1 },
    dependsOn: 'database',
    heavyLoadPerStep: 0.0015,
  },
  conductor_mgmt: {
    shape: 'flat',
    weekend: 0.9,
    cores: [4, 8],
    cpu: { base: 15, load: 25, noise: 2 },
    memory: { base: [45, 60], load: 8, noise: 0.8 },
    disk: { start: [30, 55], growthPerDay: [0.1, 0.4] },
    iowait: { base: 1, load: 3, noise: 0.5 },
    network: { capacity: 1_000, inBase: 10, inLoad: 60, outBase: 10, outLoad: 60 },
    latencyBase: 25,
    errorBase: 0.001,
    unreported: [],
    incidents: { memory_leak: 3, cpu_runaway: 2, disk_fill: 1, hardware_fault: 1 },
    dependsOn: null,
    heavyLoadPerStep: 0.0008,
  },
  data_ingest: {
    shape: 'nightly_batch',
    weekend: 0.85,
    cores: [8, 32],
    cpu: { base: 8, load: 60, noise: 3 },
    memory: { base: [40, 55], load: 20, noise: 1 },
    disk: { start: [40, 65], growthPerDay: [0.6, 1.4] },
    iowait: { base: 2, load: 16, noise: 1.5 },
    network: { capacity: 10_000, inBase: 50, inLoad: 5_500, outBase: 20, outLoad: 900 },
    latencyBase: 60,
    errorBase: 0.002,
    unreported: ['swap_percent'],
    incidents: { disk_fill: 4, network_saturation: 2, memory_leak: 1, cascading_failure: 1, hardware_fault: 1 },
    dependsOn: 'database',
    heavyLoadPerStep: 0.001,
  },
  risk_analytics: {
    shape: 'end_of_day',
    weekend: 0.3,
    cores: [16, 48],
    cpu: { base: 10, load: 70, noise: 3 },
    memory: { base: [45, 60], load: 25, noise: 1 },
    disk: { start: [30, 50], growthPerDay: [0.1, 0.4] },
    iowait: { base: 1, load: 4, noise: 0.6 },
    network: { capacity: 10_000, inBase: 30, inLoad: 800, outBase: 20, outLoad: 400 },
    latencyBase: 120,
    errorBase: 0.001,
    unreported: [],
    incidents: { cpu_runaway: 3, memory_leak: 3, cascading_failure: 1, hardware_fault: 1 },
    dependsOn: 'database',
    heavyLoadPerStep: 0.001,
  },
  generic: {
    shape: 'business',
    weekend: 0.6,
    cores: [2, 8],
    cpu: { base: 6, load: 30, noise: 2.5 },
    memory: { base: [30, 55], load: 12, noise: 1 },
    disk: { start: [30, 60], growthPerDay: [0.1, 0.5] },
    iowait: { base: 1, load: 4, noise: 0.6 },
    network: { capacity: 1_000, inBase: 5, inLoad: 80, outBase: 5, outLoad: 60 },
    latencyBase: 30,
    errorBase: 0.002,
    unreported: ['latency_ms'],
    incidents: { memory_leak: 2, disk_fill: 2, cpu_runaway: 2, hardware_fault: 1 },
    dependsOn: null,
    heavyLoadPerStep: 0.001,
  },
};

/**
 * Load factor in [0, 1] for a profile's daily shape at `hour` (fractional, UTC) on a weekday.
 * Smooth bumps rather than steps, so derivatives (what the model sees) stay realistic.
 */
export function dailyLoad(shape: DailyShape, hour: number): number {
  const bump = (centre: number, width: number): number => {
    const d = Math.min(Math.abs(hour - centre), 24 - Math.abs(hour - centre));
    return Math.exp(-(d * d) / (2 * width * width));
  };
  switch (shape) {
    case 'business':
      // Night trough, morning ramp, working-day plateau, evening tail.
      return clamp01(0.12 + 0.75 * smoothstep(6.5, 9.5, hour) * (1 - smoothstep(17, 21.5, hour)) + 0.1 * bump(13, 1.5));
    case 'nightly_batch':
      return clamp01(0.15 + 0.8 * bump(2.5, 1.4) + 0.2 * bump(14, 3));
    case 'end_of_day':
      return clamp01(0.1 + 0.25 * smoothstep(8, 10, hour) * (1 - smoothstep(21, 23, hour)) + 0.65 * bump(18.5, 1.3));
    case 'flat':
      return 0.35 + 0.15 * bump(12, 4);
    case 'training_jobs':
      // Mostly driven by heavy-load episodes (jobs); the day adds only a little.
      return 0.25 + 0.15 * bump(14, 4);
  }
}

function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = clamp01((x - edge0) / (edge1 - edge0));
  return t * t * (3 - 2 * t);
}

export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

export function clamp(x: number, min: number, max: number): number {
  return x < min ? min : x > max ? max : x;
}
