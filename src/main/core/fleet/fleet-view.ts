import { METRIC_NAMES, STEP_MS, type MetricName } from '@shared/contract';
import {
  RISK_BINS,
  RISK_THRESHOLDS,
  healthOf,
  type FleetRisk,
  type FleetServers,
  type FleetStatus,
  type PredictionSkip,
  type ServerSummary,
  type SourceStatus,
} from '@shared/domain';
import { REPORTING_WINDOW_MS, type MetricsStore } from '../store';

const iso = (ms: number): string => new Date(ms).toISOString();

/** What the overview's risk figures are made of: the latest cycle's risks and the open alerts. */
export interface FleetRiskInput {
  /** Risk of every server the latest cycle predicted; null before the first cycle. */
  cycleRisks: readonly number[] | null;
  riskOf: RiskLookup;
  openAlerts: { warning: number; critical: number };
}

/** The store's counts at fleet time (what `fleet.updated` carries). */
export function fleetCounts(
  store: MetricsStore,
  fleetTime: number,
): Pick<FleetStatus, 'serversTotal' | 'serversReporting' | 'lastSampleAt' | 'fleetTime'> {
  const summary = store.fleetSummary(fleetTime);
  return {
    serversTotal: summary.serversTotal,
    serversReporting: summary.serversReporting,
    lastSampleAt: summary.newestSampleTs === null ? null : iso(summary.newestSampleTs),
    fleetTime: iso(fleetTime),
  };
}

/** `fleet.status`: counts from the store at fleet time, each source's health, the risk figures. */
export function fleetStatus(
  store: MetricsStore,
  fleetTime: number,
  sources: SourceStatus[],
  risk: FleetRiskInput = { cycleRisks: null, riskOf: NO_PREDICTOR, openAlerts: { warning: 0, critical: 0 } },
): FleetStatus {
  return { ...fleetCounts(store, fleetTime), sources, risk: fleetRisk(store, fleetTime, risk) };
}

/** The overview's risk figures: servers by colour, P(any incident), the risk histogram, open alerts. */
export function fleetRisk(store: MetricsStore, fleetTime: number, input: FleetRiskInput): FleetRisk {
  const health = { healthy: 0, warning: 0, critical: 0, stale: 0, unknown: 0 };
  for (const s of store.listServers()) {
    health[healthOf(input.riskOf(s.name).risk, isReporting(s.lastSeen, fleetTime))]++;
  }
  const riskHistogram = new Array<number>(RISK_BINS).fill(0);
  let pNone = 1;
  for (const r of input.cycleRisks ?? []) {
    if (!Number.isFinite(r)) continue;
    const clamped = Math.min(1, Math.max(0, r));
    riskHistogram[Math.min(RISK_BINS - 1, Math.floor(clamped * RISK_BINS))]!++;
    pNone *= 1 - clamped;
  }
  return {
    health,
    incidentProbability: input.cycleRisks === null ? null : Math.min(1, Math.max(0, 1 - pNone)),
    riskHistogram,
    thresholds: { warning: RISK_THRESHOLDS.warning, critical: RISK_THRESHOLDS.critical },
    alerts: { warning: input.openAlerts.warning, critical: input.openAlerts.critical },
  };
}

/** Whether a server whose newest sample is at `lastSeen` still reports at fleet time. */
export function isReporting(lastSeen: number, fleetTime: number): boolean {
  return lastSeen >= fleetTime - REPORTING_WINDOW_MS;
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
  const servers: ServerSummary[] = store.listServers().map((s) => {
    const reporting = isReporting(s.lastSeen, fleetTime);
    const risk = riskOf(s.name);
    return {
      name: s.name,
      profile: s.profile,
      state: s.state,
      lastSeen: iso(s.lastSeen),
      reporting,
      latest: {},
      ...risk,
      health: healthOf(risk.risk, reporting),
    };
  });
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
