import { describe, expect, it } from 'vitest';
import { METRIC_BY_NAME, STEP_MS, type MetricName } from '@shared/contract';
import { rowsToColumns } from '../metrics/columns';
import type { SampleRow } from '@shared/domain';
import {
  baselineScores,
  holtForecastMax,
  lastAtOrBefore,
  maxIn,
  predictLinear,
  seriesByServer,
  THRESHOLD_METRICS,
} from './baselines';
import type { ScoredPoints } from './alerts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

/** `hours` of 5-minute samples of one server: each metric = f(hours since T0). */
function rows(
  server: string,
  hours: number,
  f: Partial<Record<MetricName, (h: number) => number | null>>,
): SampleRow[] {
  const out: SampleRow[] = [];
  for (let k = 0; k < (hours * HOUR) / STEP_MS; k++) {
    const ts = T0 + k * STEP_MS;
    const metrics: SampleRow['metrics'] = {};
    for (const [m, g] of Object.entries(f)) metrics[m as MetricName] = g((ts - T0) / HOUR);
    out.push({ server, timestamp: ts, metrics });
  }
  return out;
}

describe('baseline building blocks', () => {
  const time = Float64Array.from({ length: 100 }, (_, k) => T0 + k * STEP_MS);

  it('predict_linear extrapolates a straight line exactly', () => {
    const v = Float64Array.from(time, (t) => 2 + 3 * ((t - T0) / HOUR)); // 3 per hour
    const t = time[80]!;
    const now = 2 + 3 * ((t - T0) / HOUR);
    expect(predictLinear(time, v, t, HOUR, 8 * HOUR)).toBeCloseTo(now + 24, 9);
    expect(predictLinear(time, v, t, 6 * HOUR, 8 * HOUR)).toBeCloseTo(now + 24, 9);
    // Missing samples are skipped, not read as 0; fewer than 2 -> NaN.
    v[79] = NaN;
    expect(predictLinear(time, v, t, HOUR, 8 * HOUR)).toBeCloseTo(now + 24, 9);
    expect(predictLinear(time, v, time[0]!, HOUR, 8 * HOUR)).toBeNaN();
  });

  it('predict_linear of a constant is the constant', () => {
    const v = new Float64Array(100).fill(0.4);
    expect(predictLinear(time, v, time[50]!, HOUR, 8 * HOUR)).toBeCloseTo(0.4, 12);
  });

  it('maxIn reads (from, to] only', () => {
    const v = Float64Array.from(time, (_, k) => k);
    expect(maxIn(time, v, time[10]!, time[20]!)).toBe(20);
    expect(maxIn(time, v, time[10]!, time[10]!)).toBe(-Infinity);
    expect(lastAtOrBefore(time, time[5]! + 1)).toBe(5);
    expect(lastAtOrBefore(time, T0 - 1)).toBe(-1);
  });

  it('Holt follows a line: its forecast continues the trend', () => {
    const v = Float64Array.from({ length: 400 }, (_, k) => 10 + 0.5 * k);
    const f = holtForecastMax(v, { alpha: 0.5, beta: 0.3 }, 96);
    // After converging: level = last value, trend = 0.5 per sample; max of the forecast = +96 steps.
    expect(f[399]).toBeCloseTo(10 + 0.5 * 399 + 0.5 * 96, 6);
    // Decreasing: the forecast's highest point is one step ahead.
    const d = Float64Array.from({ length: 400 }, (_, k) => 1000 - k);
    expect(holtForecastMax(d, { alpha: 0.5, beta: 0.3 }, 96)[399]).toBeCloseTo(1000 - 400, 6);
    // Missing values carry the state.
    const m = Float64Array.from([NaN, 1, NaN, 1]);
    const g = holtForecastMax(m, { alpha: 0.5, beta: 0.5 }, 10);
    expect(g[0]).toBeNaN();
    expect([g[1], g[2], g[3]]).toEqual([1, 1, 1]);
  });
});

describe('baseline scores', () => {
  it('score shares of the critical thresholds on known series', () => {
    // Memory ramps 1 %/h from 50 %; disk flat at 57 % (critical 95: 0.6); cpu with a daily spike 10:00-11:00 at 99 %.
    const columns = rowsToColumns(
      rows('s1', 48, {
        memory_percent: (h) => 50 + h,
        disk_percent: () => 57,
        cpu_percent: (h) => (h % 24 >= 10 && h % 24 < 11 ? 99 : 20),
      }),
    );
    const series = seriesByServer(columns);
    expect(series.get('s1')!.ratio).toHaveLength(THRESHOLD_METRICS.length);
    const crit = (m: MetricName): number => METRIC_BY_NAME[m].critical!;
    // t = 28 h: memory 78 % now; 86 % in 8 h. Yesterday's next 8 h (4:00-12:00) held the cpu spike.
    // t = 36 h: cpu now 20 %; yesterday (12 h, 20 h]: no spike, memory 62..70 %, disk 57 %.
    const points: ScoredPoints = {
      slot: Int32Array.from([0, 0, 0]),
      time: Float64Array.from([T0 + 28 * HOUR, T0 + 34.5 * HOUR, T0 + 36 * HOUR]),
      servers: ['s1'],
    };
    const s = baselineScores(points, series, { horizonMs: 8 * HOUR, holt: { alpha: 0.5, beta: 0.3 } });
    expect(s.reactive[0]).toBeCloseTo(78 / crit('memory_percent'), 9);
    expect(s.reactive[1]).toBeCloseTo(99 / crit('cpu_percent'), 9); // 10:30 on day 2, inside the spike
    expect(s.predict_linear_1h[0]).toBeCloseTo(86 / crit('memory_percent'), 6);
    expect(s.predict_linear_6h[0]).toBeCloseTo(86 / crit('memory_percent'), 6);
    expect(s.seasonal_naive[0]).toBeCloseTo(99 / crit('cpu_percent'), 9);
    expect(s.seasonal_naive[2]).toBeCloseTo(70 / crit('memory_percent'), 9);
    expect(s.holt[0]).toBeGreaterThan(84 / crit('memory_percent'));
    expect(s.holt[0]).toBeLessThan(88 / crit('memory_percent'));
  });

  it('a server without samples scores 0', () => {
    const series = seriesByServer(rowsToColumns(rows('s1', 2, { memory_percent: () => 50 })));
    const s = baselineScores(
      { slot: Int32Array.from([0]), time: Float64Array.from([T0 + HOUR]), servers: ['other'] },
      series,
      { horizonMs: 8 * HOUR, holt: { alpha: 0.5, beta: 0.1 } },
    );
    expect([s.reactive[0], s.predict_linear_1h[0], s.seasonal_naive[0], s.holt[0]]).toEqual([0, 0, 0, 0]);
  });
});
