import type { ServerPrediction } from '@shared/domain';
import { combineUpstreamRisk } from '../model/upstream-risk';
import { mostLikelyMode, round5 } from './decode-predictions';
import { LARGEST_DRIVER, MAX_DRIVERS, type ServerExplanation } from './explain';

/**
 * The served risk of a server whose upstream (the server it depends on: a web server's database)
 * is known: the model's own risk combined with the chance that the upstream has an incident and
 * takes it down (model/upstream-risk.ts). Only the simulator knows the fleet's topology
 * (`SimulatorSource.dependencies`); with another source, or a model whose manifest has no
 * `training.cascade`, risks are the model's alone.
 *
 * Pure: predict-chunks.ts applies it to each chunk right after decoding, so the predictions
 * table, the alerts and the API all see the served risk.
 */

/** The failure mode an upstream's incident counts as on its dependents. */
export const UPSTREAM_FAILURE_MODE = 'dependency';

/** What a cycle needs to add the upstream terms (PredictChunksInput.upstream). */
export interface UpstreamInput {
  /** Server -> the server it depends on; servers absent have none. */
  dependencyOf: ReadonlyMap<string, string>;
  /** model.json `training.cascade.coefficient`: P(a dependent has an incident | its upstream has one). */
  coefficient: number;
  /** The previous cycle's served risks, standing in for an upstream this cycle predicts later. */
  previous: ReadonlyMap<string, number>;
}

/**
 * `prediction` (the model's alone) with its upstream's term: `risk` combined, `upstream` saying
 * what went into it, and the failure modes mixed with the dependency mode in proportion to the
 * two causes, (r x modes + u x onehot(dependency)) / (r + u) with r the model's risk and u =
 * coefficient x the upstream's risk, so they still sum to 1 (unchanged when the model has no
 * dependency mode or r + u is 0). `failureMode` is their argmax, as decodePredictions picks it.
 * A coefficient that is not positive adds nothing: the prediction comes back as it was.
 */
export function withUpstream(
  prediction: ServerPrediction,
  upstream: { server: string; risk: number },
  coefficient: number,
): ServerPrediction {
  if (!(coefficient > 0)) return prediction;
  const modelRisk = prediction.risk;
  const upstreamRisk = clamp01(upstream.risk);
  const carried = Math.min(1, coefficient) * upstreamRisk;
  const names = Object.keys(prediction.failureModes);
  const total = modelRisk + carried;
  let { failureModes, failureMode } = prediction;
  if (names.includes(UPSTREAM_FAILURE_MODE) && total > 0) {
    const mixed = names.map(
      (name) => (modelRisk * prediction.failureModes[name]! + (name === UPSTREAM_FAILURE_MODE ? carried : 0)) / total,
    );
    failureModes = Object.fromEntries(names.map((name, k) => [name, round5(mixed[k]!)]));
    failureMode = names[mostLikelyMode(names.length, (k) => mixed[k]!)]!;
  }
  return {
    ...prediction,
    risk: round5(combineUpstreamRisk(modelRisk, upstreamRisk, coefficient)),
    failureMode,
    failureModes,
    upstream: { server: upstream.server, risk: round5(upstreamRisk), modelRisk, coefficient },
  };
}

/**
 * One chunk's predictions (decoded, the model's alone) with their upstream terms, in the same
 * order. An upstream's risk is its served risk of this cycle: from `served` (the chunks before),
 * or from this chunk, dependencies within it resolved first (a loop takes `previous` where it
 * closes). An upstream that a later chunk predicts (`upcoming`) counts with its risk of the
 * previous cycle; one this cycle did not predict (skipped, stale, unknown) adds no term. Every
 * served risk is added to `served`.
 */
export function applyUpstreams(
  chunk: readonly ServerPrediction[],
  input: UpstreamInput,
  served: Map<string, number>,
  upcoming: (server: string) => boolean,
): ServerPrediction[] {
  const inChunk = new Map(chunk.map((p) => [p.server, p]));
  const done = new Map<string, ServerPrediction>();
  const resolving = new Set<string>();
  const resolve = (p: ServerPrediction): ServerPrediction => {
    const found = done.get(p.server);
    if (found) return found;
    resolving.add(p.server);
    const up = input.dependencyOf.get(p.server);
    let upRisk: number | undefined;
    if (up !== undefined && up !== p.server) {
      const sibling = inChunk.get(up);
      if (sibling && !resolving.has(up)) upRisk = resolve(sibling).risk;
      else upRisk = served.get(up) ?? (sibling || upcoming(up) ? input.previous.get(up) : undefined);
    }
    const out =
      up === undefined || upRisk === undefined ? p : withUpstream(p, { server: up, risk: upRisk }, input.coefficient);
    resolving.delete(p.server);
    done.set(p.server, out);
    served.set(p.server, out.risk);
    return out;
  };
  return chunk.map(resolve);
}

/**
 * The explanation of a prediction with an upstream term, its first driver saying so ("depends on
 * ppdb003, at 64 % risk: incidents there took a dependent down 31 % of the time in training (+20
 * points)"); still at most MAX_DRIVERS sentences, the model's last one dropped if need be.
 */
export function withUpstreamDriver(explanation: ServerExplanation, prediction: ServerPrediction): ServerExplanation {
  const u = prediction.upstream;
  if (!u) return explanation;
  const points = (prediction.risk - u.modelRisk) * 100;
  const shown = points < 1 ? points.toFixed(1) : String(Math.round(points));
  const sentence =
    `depends on ${u.server}, at ${percent(u.risk)} risk: incidents there took a dependent down ` +
    `${percent(u.coefficient)} of the time in training (+${shown} ${shown === '1' ? 'point' : 'points'})`;
  // The model's drivers explain its own risk, no longer all of what is served.
  const own = explanation.drivers.map((d) => (d.endsWith(LARGEST_DRIVER) ? `${d.slice(0, -LARGEST_DRIVER.length)}: the largest driver of its own risk` : d));
  return { ...explanation, drivers: [sentence, ...own].slice(0, MAX_DRIVERS) };
}

function percent(x: number): string {
  return `${Math.round(x * 100)} %`;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
