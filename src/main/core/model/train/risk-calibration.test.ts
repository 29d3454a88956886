import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultFleet } from '../../metrics/simulator/fleet-sim';
import { generateFleet } from '../../metrics/simulator/generate';
import { buildDataset, type FeatureDataset } from '../features/dataset';
import { MONDAY } from '../features/testing/series';
import { tftConfigFromSpec } from '../tft/config';
import { useBackend } from '../tft/testing/fixtures';
import { TftModel } from '../tft/tft-tfjs';
import { applyRiskCalibration, fitRiskCalibration } from './risk-calibration';

let dataset: FeatureDataset;

beforeAll(async () => {
  await useBackend('wasm');
  const fleet = generateFleet({ seed: 'calibration', start: MONDAY, servers: defaultFleet(6), hours: 10 * 24 });
  dataset = buildDataset(fleet.columns, fleet.incidents, { seed: 1, heldOutCount: 1 });
});

describe('fitRiskCalibration', () => {
  it('fits sigmoid(a x logit + b) on the validation split, lowers its log loss, and folds it into the risk head', () => {
    expect(dataset.stats.validation.positives).toBeGreaterThan(0);
    const model = new TftModel(tftConfigFromSpec(dataset.spec, { hidden: 8, heads: 2, variableHidden: 4 }), { seed: 3 });
    try {
      // An untrained head answers ~0.5 everywhere: far from the base rate, so the fit must move it.
      const rows = Int32Array.from({ length: Math.min(64, dataset.validation.size) }, (_, i) => i);
      const batch = dataset.materialize('validation', rows);
      const before = model.predict(batch).risk;
      const fit = fitRiskCalibration(model, dataset)!;
      expect(fit).not.toBeNull();
      expect(fit.windows).toBe(dataset.validation.size);
      expect(fit.positives).toBe(dataset.stats.validation.positives);
      expect(fit.logLossAfter).toBeLessThan(fit.logLossBefore);
      const numTensors = tf.memory().numTensors;
      applyRiskCalibration(model, fit);
      expect(tf.memory().numTensors).toBe(numTensors);
      const after = model.predict(batch).risk;
      for (let i = 0; i < batch.size; i++) {
        const logit = Math.log(before[i]! / (1 - before[i]!));
        expect(after[i]!).toBeCloseTo(1 / (1 + Math.exp(-(fit.a * logit + fit.b))), 4);
      }
    } finally {
      model.dispose();
    }
  });
});
