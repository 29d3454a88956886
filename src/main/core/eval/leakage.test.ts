/**
 * EVALUATION.md: "A score at time t that looked at data after t (leakage). Test for it."
 * Every method's score at every point t <= cut must not change when every sample after the cut
 * is replaced by something else.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '@shared/contract';
import { defaultFleet } from '../metrics/simulator/fleet-sim';
import { generateFleet, type GeneratedFleet } from '../metrics/simulator/generate';
import { Prng } from '../metrics/simulator/prng';
import { expectedTensors, loadModelFolder, type LoadedModelFolder } from '../model/folder';
import { createInferenceSession, type InferenceSession } from '../model/infer';
import { createMemoryLogger } from '../util/logger';
import { baselineScores, BASELINES, seriesByServer } from './baselines';
import { withUpstreamRisk } from './evaluate';
import { scoreFleet } from './score-fleet';

const HOUR = 3_600_000;
let model: LoadedModelFolder;
let session: InferenceSession;
let fleet: GeneratedFleet;

beforeAll(async () => {
  model = await loadModelFolder(resolve('resources/models/default'));
  session = await createInferenceSession({
    modelBytes: model.onnxBytes,
    ...expectedTensors(model.manifest),
    provider: 'cpu',
    logger: createMemoryLogger(),
  });
  fleet = generateFleet({
    seed: 'eval-leakage',
    start: Date.UTC(2024, 5, 3),
    servers: defaultFleet(3, 900),
    hours: 60,
  });
}, 60_000);

afterAll(async () => {
  await session?.close();
});

async function allScores(
  columns: GeneratedFleet['columns'],
): Promise<{ time: Float64Array; slot: Int32Array; scores: Record<string, Float64Array> }> {
  const spec = model.manifest.featureSpec;
  const s = await scoreFleet({ columns, incidents: fleet.incidents, spec, session, knownServers: new Set() });
  const base = baselineScores(s.points, seriesByServer(columns), {
    horizonMs: 8 * HOUR,
    holt: { alpha: 0.2, beta: 0.05 },
  });
  // The served risk adds the upstream's risk at the same t (a 0.3 share when the model has none).
  const served = withUpstreamRisk(s, fleet.dependencies, model.manifest.training.cascade?.coefficient ?? 0.3);
  return { time: s.points.time, slot: s.points.slot, scores: { model: s.risk, served, ...base } };
}

describe('no score at t reads data after t', () => {
  it(
    'perturbing every sample after the cut leaves every score at t <= cut unchanged',
    { timeout: 60_000 },
    async () => {
      const before = await allScores(fleet.columns);
      const cut = fleet.start + 40 * HOUR;
      const perturbed = { ...fleet.columns, metrics: { ...fleet.columns.metrics } };
      const rng = new Prng('perturb');
      for (const m of METRIC_NAMES) {
        const values = fleet.columns.metrics[m].values.slice();
        for (let i = 0; i < values.length; i++)
          if (fleet.columns.timestamp[i]! > cut) values[i] = values[i]! * (0.2 + 3 * rng.next()) + 50 * rng.next();
        perturbed.metrics[m] = { values, present: fleet.columns.metrics[m].present };
      }
      const after = await allScores(perturbed);
      expect(after.time).toEqual(before.time);
      let checked = 0;
      let changedLater = 0;
      expect(fleet.dependencies.size).toBeGreaterThan(0);
      for (const name of ['model', 'served', ...BASELINES]) {
        for (let i = 0; i < before.time.length; i++) {
          if (before.time[i]! <= cut) {
            expect(after.scores[name]![i], `${name} at point ${i}`).toBe(before.scores[name]![i]);
            checked++;
          } else if (after.scores[name]![i] !== before.scores[name]![i]) changedLater++;
        }
      }
      expect(checked).toBeGreaterThan(6 * 3 * 20);
      // The perturbation is real: scores after the cut do move.
      expect(changedLater).toBeGreaterThan(0);
    },
  );
});
