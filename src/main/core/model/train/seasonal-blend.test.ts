import { beforeAll, describe, expect, it } from 'vitest';
import { STEP_MS } from '@shared/contract';
import { concatColumns } from '../../metrics/columns';
import { buildDataset } from '../features/dataset';
import { handSeries, HOUR, MONDAY } from '../features/testing/series';
import { tftConfigFromSpec } from '../tft/config';
import { useBackend } from '../tft/testing/fixtures';
import { TftModel } from '../tft/tft-tfjs';
import { fitSeasonalBlend } from './seasonal-blend';

beforeAll(async () => {
  await useBackend('wasm');
});

/**
 * Hand-made servers whose CPU repeats every day exactly and whose disk fills at a steady rate:
 * yesterday's value is the perfect CPU forecast and a poor disk one, and an untrained model
 * (zero quantile head: its median is the level now) is the reverse. The fit must find both.
 */
describe('fitSeasonalBlend', () => {
  it('moves CPU all the way to yesterday and leaves a filling disk on the level', () => {
    const days = 5;
    const servers = ['ppweb001', 'ppweb002', 'ppdb001', 'ppdb002'].map((name, s) =>
      handSeries(name, MONDAY, (days * 24 * HOUR) / STEP_MS, (metric, i, ts) => {
        const hour = (ts % (24 * HOUR)) / HOUR;
        if (metric === 'cpu_percent') return 40 + 30 * Math.sin((2 * Math.PI * hour) / 24) + s;
        if (metric === 'disk_percent') return 10 + (i * 60) / ((days * 24 * HOUR) / STEP_MS);
        if (metric === 'memory_percent') return 50;
        if (metric === 'latency_ms') return 20;
        if (metric === 'error_rate') return 0.001;
        return 1;
      }),
    );
    const columns = concatColumns(servers);
    const dataset = buildDataset(columns, [], { seed: 1, heldOutCount: 0, dataEnd: MONDAY + days * 24 * HOUR - STEP_MS });
    const model = new TftModel(tftConfigFromSpec(dataset.spec, { hidden: 8, heads: 2, variableHidden: 4 }), { seed: 3 });
    try {
      const fit = fitSeasonalBlend(model, dataset)!;
      expect(fit).not.toBeNull();
      expect(fit.windows).toBe(dataset.validation.size);
      expect(fit.lagSteps).toBe((24 * 60) / dataset.spec.stepMinutes);
      const at = (metric: string): number => dataset.spec.targets.indexOf(metric as never);
      expect(fit.blend[at('cpu_percent')]).toBe(1);
      expect(fit.maeBlended[at('cpu_percent')]!).toBeLessThan(0.05);
      expect(fit.maeModel[at('cpu_percent')]!).toBeGreaterThan(5);
      expect(fit.blend[at('disk_percent')]).toBe(0);
      // A flat metric: every blend ties, and the model's own forecast stays.
      expect(fit.blend[at('memory_percent')]).toBe(0);
      fit.maeBlended.forEach((mae, g) => expect(mae!).toBeLessThanOrEqual(fit.maeModel[g]!));
    } finally {
      model.dispose();
    }
  });
});
