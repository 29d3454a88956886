import fc from 'fast-check';
import { METRIC_NAMES, STEP_MS } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { allocateColumns } from '../../columns';

/**
 * Small batches of valid samples for property tests: grid timestamps unique per server, states
 * from the contract, and each metric missing about a quarter of the time or drawn from `value`
 * (the caller decides which awkward values a format must carry: NaN payloads, ±Inf, -0...).
 */
export function arbitrarySampleColumns(value: fc.Arbitrary<number>, maxRows = 40): fc.Arbitrary<SampleColumns> {
  const row = fc.record({
    server: fc.constantFrom('ppml0001', 'db-2', 'web.3', 'host:9100'),
    step: fc.integer({ min: 0, max: 1000 }),
    state: fc.constantFrom(null, 'healthy', 'maintenance', 'offline', 'critical_issue'),
    metrics: fc.array(fc.option(value, { nil: null, freq: 3 }), { minLength: METRIC_NAMES.length, maxLength: METRIC_NAMES.length }),
  });
  return fc.uniqueArray(row, { maxLength: maxRows, selector: (r) => `${r.server}@${r.step}` }).map((rows) => {
    const columns = allocateColumns(rows.length);
    rows.forEach((r, i) => {
      columns.server[i] = r.server;
      columns.timestamp[i] = Date.UTC(2024, 0, 1) + r.step * STEP_MS;
      columns.state[i] = r.state;
      METRIC_NAMES.forEach((name, k) => {
        const v = r.metrics[k];
        if (v === null || v === undefined) return;
        columns.metrics[name].values[i] = v;
        columns.metrics[name].present[i] = 1;
      });
    });
    return columns;
  });
}
