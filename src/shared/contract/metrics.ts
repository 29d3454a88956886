/**
 * Data contract v1: what a metric sample is, everywhere. Sources validate against it before
 * anything reaches the store; model folders record the version they were trained on, and a
 * model or a file with another major version is refused at the boundary.
 */

export const DATA_CONTRACT_VERSION = '1.0.0';

/** One sample every 5 minutes: the grid every source is aligned to. */
export const STEP_SECONDS = 300;
export const STEP_MS = STEP_SECONDS * 1000;

/** 24 h of context and 8 h of horizon, in steps (the seed's 288 and 96). */
export const CONTEXT_STEPS = 288;
export const HORIZON_STEPS = 96;

export interface MetricSpec {
  name: MetricName;
  unit: string;
  description: string;
  /** Valid range, inclusive: a finite value outside it is rejected at ingest. */
  min: number;
  max: number;
  /** Thresholds an SRE pages on; null where none is universal (load depends on cores, network on the NIC). */
  warning: number | null;
  critical: number | null;
}

export const METRIC_NAMES = [
  'cpu_percent',
  'memory_percent',
  'disk_percent',
  'iowait_percent',
  'swap_percent',
  'load_average',
  'network_in_mbps',
  'network_out_mbps',
  'latency_ms',
  'error_rate',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export const METRICS: readonly MetricSpec[] = [
  { name: 'cpu_percent', unit: '%', description: 'CPU busy time, all cores', min: 0, max: 100, warning: 85, critical: 95 },
  { name: 'memory_percent', unit: '%', description: 'Memory in use (excluding page cache)', min: 0, max: 100, warning: 85, critical: 95 },
  { name: 'disk_percent', unit: '%', description: 'Space used on the fullest data filesystem', min: 0, max: 100, warning: 85, critical: 95 },
  { name: 'iowait_percent', unit: '%', description: 'CPU time waiting on I/O', min: 0, max: 100, warning: 20, critical: 40 },
  { name: 'swap_percent', unit: '%', description: 'Swap space in use', min: 0, max: 100, warning: 25, critical: 60 },
  { name: 'load_average', unit: 'processes', description: '1-minute load average', min: 0, max: 10_000, warning: null, critical: null },
  { name: 'network_in_mbps', unit: 'Mbit/s', description: 'Inbound network throughput', min: 0, max: 400_000, warning: null, critical: null },
  { name: 'network_out_mbps', unit: 'Mbit/s', description: 'Outbound network throughput', min: 0, max: 400_000, warning: null, critical: null },
  { name: 'latency_ms', unit: 'ms', description: 'Service response time, p95', min: 0, max: 3_600_000, warning: 500, critical: 2_000 },
  { name: 'error_rate', unit: 'ratio', description: 'Failed requests / requests (0..1)', min: 0, max: 1, warning: 0.02, critical: 0.05 },
];

export const METRIC_BY_NAME: Readonly<Record<MetricName, MetricSpec>> = Object.fromEntries(
  METRICS.map((m) => [m.name, m]),
) as Record<MetricName, MetricSpec>;

export function isMetricName(name: unknown): name is MetricName {
  return typeof name === 'string' && (METRIC_NAMES as readonly string[]).includes(name);
}

/** Operating states of a server, as the simulator labels them (real sources may not report one). */
export const SERVER_STATES = [
  'healthy',
  'heavy_load',
  'morning_spike',
  'idle',
  'maintenance',
  'critical_issue',
  'recovery',
  'offline',
] as const;
export type ServerState = (typeof SERVER_STATES)[number];

export function isServerState(name: unknown): name is ServerState {
  return typeof name === 'string' && (SERVER_STATES as readonly string[]).includes(name);
}

/** The seven profiles of the seed: servers of one profile share behaviour, so a new server is predicted through its profile. */
export const PROFILES = [
  'ml_compute',
  'database',
  'web_api',
  'conductor_mgmt',
  'data_ingest',
  'risk_analytics',
  'generic',
] as const;
export type Profile = (typeof PROFILES)[number];

export function isProfile(name: unknown): name is Profile {
  return typeof name === 'string' && (PROFILES as readonly string[]).includes(name);
}

export interface ProfileRule {
  /** Lower-case name prefix, e.g. "ppml". */
  prefix: string;
  profile: Profile;
}

/**
 * Name-prefix rules (the seed's naming: ppml0001, ppdb001, ppweb001...). The longest matching
 * prefix wins; user rules are consulted before these; no match means `generic`.
 */
export const DEFAULT_PROFILE_RULES: readonly ProfileRule[] = [
  { prefix: 'ppml', profile: 'ml_compute' },
  { prefix: 'ppgpu', profile: 'ml_compute' },
  { prefix: 'ml', profile: 'ml_compute' },
  { prefix: 'gpu', profile: 'ml_compute' },
  { prefix: 'ppdb', profile: 'database' },
  { prefix: 'db', profile: 'database' },
  { prefix: 'pg', profile: 'database' },
  { prefix: 'mysql', profile: 'database' },
  { prefix: 'ppweb', profile: 'web_api' },
  { prefix: 'ppapi', profile: 'web_api' },
  { prefix: 'web', profile: 'web_api' },
  { prefix: 'api', profile: 'web_api' },
  { prefix: 'ppcon', profile: 'conductor_mgmt' },
  { prefix: 'ppmgmt', profile: 'conductor_mgmt' },
  { prefix: 'conductor', profile: 'conductor_mgmt' },
  { prefix: 'mgmt', profile: 'conductor_mgmt' },
  { prefix: 'ppetl', profile: 'data_ingest' },
  { prefix: 'ppdi', profile: 'data_ingest' },
  { prefix: 'etl', profile: 'data_ingest' },
  { prefix: 'ingest', profile: 'data_ingest' },
  { prefix: 'pprisk', profile: 'risk_analytics' },
  { prefix: 'risk', profile: 'risk_analytics' },
];

export function inferProfile(serverName: string, userRules: readonly ProfileRule[] = []): Profile {
  const name = serverName.toLowerCase();
  const longest = (rules: readonly ProfileRule[]): ProfileRule | undefined =>
    rules.filter((r) => name.startsWith(r.prefix.toLowerCase())).sort((a, b) => b.prefix.length - a.prefix.length)[0];
  return (longest(userRules) ?? longest(DEFAULT_PROFILE_RULES))?.profile ?? 'generic';
}

/** Server names: what a hostname or Prometheus instance label may be, bounded so a bad file cannot bloat the store. */
export const SERVER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function isValidServerName(name: unknown): name is string {
  return typeof name === 'string' && SERVER_NAME_PATTERN.test(name);
}

/** Data contract versions are compatible when their major numbers agree. */
export function isCompatibleContract(version: string, current = DATA_CONTRACT_VERSION): boolean {
  const major = (v: string): string | undefined => /^(\d+)\.\d+\.\d+$/.exec(v)?.[1];
  const a = major(version);
  return a !== undefined && a === major(current);
}
