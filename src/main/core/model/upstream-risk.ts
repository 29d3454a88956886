/**
 * Risk from a server's dependency (its "upstream": the database a web server calls). The TFT
 * reads one server's metrics, and a dependent shows its upstream's trouble only in the last
 * stretch before that upstream fails (latency and timeouts that grow with the strain), too late
 * and too faint to warn 30 minutes ahead of a cascade. The upstream's own precursor (a memory
 * leak, a disk filling) is visible hours earlier, on the upstream. So where the fleet's topology
 * is known, a server's risk also counts the chance that its upstream has an incident within the
 * horizon and takes it down:
 *
 *   risk = 1 - (1 - modelRisk) x (1 - coefficient x upstreamRisk)
 *
 * (either cause suffices; the two are taken as independent). `coefficient` is how often an
 * incident on an upstream was followed by one on a dependent within CASCADE_FOLLOW_WINDOW_MS,
 * counted in the training data (`fitCascadeCoefficient`), never on an evaluation fleet.
 */
import type { Incident } from '@shared/domain';

/** A dependent's incident this soon after its upstream's onset counts as having followed it. */
export const CASCADE_FOLLOW_WINDOW_MS = 60 * 60_000;

export interface CascadeFit {
  /** followed / pairs: P(a dependent has an incident | its upstream has one). */
  coefficient: number;
  /** (upstream incident, dependent) pairs counted: the dependent was not already in an incident. */
  pairs: number;
  /** Of those, how many saw the dependent's incident begin within the follow window. */
  followed: number;
  followWindowMinutes: number;
}

/** The served risk of a server whose upstream has `upstreamRisk`; clamped to [0, 1]. */
export function combineUpstreamRisk(modelRisk: number, upstreamRisk: number, coefficient: number): number {
  const own = clamp01(modelRisk);
  const carried = clamp01(coefficient) * clamp01(upstreamRisk);
  // Exactly the model's risk when nothing is carried (no rounding on the way).
  return carried === 0 ? own : clamp01(1 - (1 - own) * (1 - carried));
}

/**
 * Counts, over every incident on a server that others depend on and every dependent of it, how
 * often the dependent's own incident began within `followWindowMs` of the upstream's onset.
 * Pairs where the dependent was already inside an incident at that onset are left out (it could
 * not fail again). Null when no pair exists (no topology, or no upstream ever failed).
 */
export function fitCascadeCoefficient(
  incidents: readonly Incident[],
  dependencies: ReadonlyMap<string, string>,
  followWindowMs = CASCADE_FOLLOW_WINDOW_MS,
): CascadeFit | null {
  const dependents = new Map<string, string[]>();
  for (const [server, upstream] of dependencies) {
    if (server === upstream) continue;
    const list = dependents.get(upstream) ?? [];
    list.push(server);
    dependents.set(upstream, list);
  }
  const byServer = new Map<string, Incident[]>();
  for (const x of incidents) {
    const list = byServer.get(x.server) ?? [];
    list.push(x);
    byServer.set(x.server, list);
  }
  let pairs = 0;
  let followed = 0;
  for (const up of incidents) {
    for (const dependent of dependents.get(up.server) ?? []) {
      const own = byServer.get(dependent) ?? [];
      if (own.some((x) => x.onset <= up.onset && up.onset < x.end)) continue;
      pairs++;
      if (own.some((x) => x.onset > up.onset && x.onset - up.onset <= followWindowMs)) followed++;
    }
  }
  if (pairs === 0) return null;
  return { coefficient: followed / pairs, pairs, followed, followWindowMinutes: Math.round(followWindowMs / 60_000) };
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
