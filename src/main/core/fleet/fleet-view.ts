import { METRIC_NAMES, STEP_MS, type MetricName } from '@shared/contract';
import type { FleetServers, FleetStatus, PredictionSkip, ServerSummary, SourceStatus } from '@shared/domain';
import { REPORTING_WINDOW_MS, type MetricsStore } from '../store';

const iso = (ms: number): string => new Date(ms).toISOString();

/** `fleet.status`: counts from the store at fleet time, plus each source's health. */
export function fleetStatus(store: MetricsStore, fleetTime: number, sources: SourceStatus[]): FleetStatus {
  const summary = store.fleetSummary(fleetTime);
  return {
    serversTotal: summary.serversTotal,
    serversReporting: summary.serversReporting,
    lastSampleAt: summary.newestSampleTs === null ? null : iso(summary.newestSampleTs),
    fleetTime: iso(fleetTime),
    sources,
  };
}

/** A server's risk and failure mode from the latest prediction cycle, or why there are none. */
export type RiskLookup = (server: string) => {
  risk: number | null;
  failureMode: string | null;
  riskUnavailable: PredictionSkip | null;
};

const NO_PREDICTOR: RiskLookup = () => ({
  risk: null,
  failureMode: null,
  riskUnavailable: { reason: 'no_model', detail: 'no model is configured' },
});

/** `fleet.servers`: every server with its newest sample's metrics and its risk. */
export function fleetServers(store: MetricsStore, fleetTime: number, riskOf: RiskLookup = NO_PREDICTOR): FleetServers {
  const servers: ServerSummary[] = store.listServers().map((s) => ({
    name: s.name,
    profile: s.profile,
    state: s.state,
    lastSeen: iso(s.lastSeen),
    reporting: s.lastSeen >= fleetTime - REPORTING_WINDOW_MS,
    latest: {},
    ...riskOf(s.name),
  }));
  const byName = new Map(servers.map((s) => [s.name, s]));
  // One query for the fleet's last 15 minutes; rows are sorted by server then time, so the last
  // row of each server wins. A server silent for longer keeps empty metrics (and reporting: false).
  const newest = store.latestWindow(REPORTING_WINDOW_MS / STEP_MS);
  for (let i = 0; i < newest.length; i++) {
    const server = byName.get(newest.server[i]!);
    if (!server) continue;
    const latest: Partial<Record<MetricName, number | null>> = {};
    for (const name of METRIC_NAMES) {
      const column = newest.metrics[name];
      if (!column.present[i]) continue;
      const value = column.values[i]!;
      latest[name] = Number.isFinite(value) ? value : null;
    }
    server.latest = latest;
  }
  return { fleetTime: iso(fleetTime), servers };
}
