import { METRIC_NAMES, type MetricName } from '@shared/contract';

/**
 * Filesystems that hold no data an SRE pages on: memory-backed, read-only images, pseudo
 * filesystems. The fullest of the rest is the server's disk_percent.
 */
export const EXCLUDED_FSTYPES = 'tmpfs|ramfs|devtmpfs|squashfs|iso9660|nsfs|proc|sysfs|cgroup2?|autofs|fuse[.].*';
export const EXCLUDED_MOUNTPOINTS = '/(boot|dev|proc|run|sys)($|/.*)';

/**
 * The node_exporter defaults, in the contract's units. Counters go through rate() over one step
 * (5m): Prometheus handles counter resets there (a reset is read as a restart from zero, never as
 * a negative rate) and extrapolates over missed scrapes. Ratios are clamped to 0..100 because
 * rate() extrapolation can overshoot a hair. `by` keeps the instance label (and the profile label
 * when one is configured). latency_ms and error_rate have no node_exporter source: null.
 */
export function defaultQueries(instanceLabel = 'instance', profileLabel: string | null = null): Record<MetricName, string | null> {
  const by = `by (${[instanceLabel, ...(profileLabel ? [profileLabel] : [])].join(', ')})`;
  const fs = `fstype!~"${EXCLUDED_FSTYPES}",mountpoint!~"${EXCLUDED_MOUNTPOINTS}"`;
  return {
    cpu_percent: `clamp(100 * (1 - avg ${by} (rate(node_cpu_seconds_total{mode="idle"}[5m]))), 0, 100)`,
    memory_percent: `clamp(100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes), 0, 100)`,
    disk_percent: `clamp(max ${by} (100 * (1 - node_filesystem_avail_bytes{${fs}} / (node_filesystem_size_bytes{${fs}} > 0))), 0, 100)`,
    iowait_percent: `clamp(100 * avg ${by} (rate(node_cpu_seconds_total{mode="iowait"}[5m])), 0, 100)`,
    swap_percent: `clamp(100 * (node_memory_SwapTotal_bytes - node_memory_SwapFree_bytes) / clamp_min(node_memory_SwapTotal_bytes, 1), 0, 100)`,
    load_average: 'node_load1',
    network_in_mbps: `sum ${by} (rate(node_network_receive_bytes_total{device!="lo"}[5m])) * 8 / 1e6`,
    network_out_mbps: `sum ${by} (rate(node_network_transmit_bytes_total{device!="lo"}[5m])) * 8 / 1e6`,
    latency_ms: null,
    error_rate: null,
  };
}

/** The configured queries over the defaults: an omitted metric takes the default, null turns it off. */
export function effectiveQueries(
  configured: Partial<Record<MetricName, string | null>>,
  instanceLabel = 'instance',
  profileLabel: string | null = null,
): Record<MetricName, string | null> {
  const defaults = defaultQueries(instanceLabel, profileLabel);
  const out = {} as Record<MetricName, string | null>;
  for (const name of METRIC_NAMES) out[name] = configured[name] === undefined ? defaults[name] : configured[name];
  return out;
}
