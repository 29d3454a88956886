import { describe, expect, it } from 'vitest';
import { STEP_MS, type MetricName } from '@shared/contract';
import { concatColumns } from '../../metrics/columns';
import { serverBucket } from '../../metrics/server-encoding';
import { DEFAULT_FEATURE_SPEC as SPEC, type WindowBatch } from './feature-spec';
import { scaleValue } from './scaling';
import { filterRows, handSeries, HOUR, incident, MONDAY, pickRows } from './testing/series';
import { buildWindows } from './windows';

const STEP = 30 * 60_000;
const F = SPEC.observed.length;
const T = SPEC.contextSteps;
const ch = (name: string): number => SPEC.observed.indexOf(name);
/** Observed value / mask of window b, context step s (0 = oldest), channel name. */
const obs = (batch: WindowBatch, s: number, name: string, b = 0): number => batch.observed[(b * T + s) * F + ch(name)]!;
const mask = (batch: WindowBatch, s: number, name: string, b = 0): number =>
  batch.observedMask[(b * T + s) * F + ch(name)]!;

/**
 * Three days of one server from Monday 00:00: cpu ramps by 0.1 per sample (so every step's mean,
 * max and slope are known), latency 100 ms with one 5 s spike at sample 300, error_rate never
 * reported, the rest constant.
 */
const SPIKE = 300;
function value(metric: MetricName, i: number): number | undefined {
  switch (metric) {
    case 'cpu_percent':
      return i * 0.1;
    case 'latency_ms':
      return i === SPIKE ? 5_000 : 100;
    case 'error_rate':
      return undefined;
    case 'network_in_mbps':
      return 800;
    default:
      return 40;
  }
}
const series = handSeries('ppweb001', MONDAY, 3 * 288, value);
const t = MONDAY + 30 * HOUR; // sample 360
const f32 = (x: number): number => Math.fround(x);

describe('buildWindows: aggregation on the 30-minute grid', () => {
  const { batch, stats } = buildWindows(series, { incidents: [], times: [t] });

  it('the last context step holds the six samples with t - 30 min < ts <= t', () => {
    expect(stats.windows).toBe(1);
    const last = T - 1;
    // Samples 355..360: mean 35.75, max 36.
    expect(obs(batch, last, 'cpu_percent:mean')).toBe(f32(0.3575));
    expect(obs(batch, last, 'cpu_percent:max')).toBe(f32(0.36));
    // 0.1 per 5 minutes = 1.2 per hour raw = 0.012 per hour scaled.
    expect(obs(batch, last, 'cpu_percent:slope')).toBeCloseTo(0.012, 6);
    expect(mask(batch, last, 'cpu_percent:mean')).toBe(1);
    expect(obs(batch, last, 'network_in_mbps:mean')).toBe(f32(scaleValue(SPEC, 'network_in_mbps', 800)));
    // The oldest context step ends at t - 47 steps: samples 73..78.
    expect(obs(batch, 0, 'cpu_percent:mean')).toBe(f32(0.0755));
  });

  it('a spike survives the aggregation in the max channel', () => {
    const s = T - 1 - (t - (MONDAY + Math.ceil(SPIKE / 6) * STEP)) / STEP;
    expect(obs(batch, s, 'latency_ms:max')).toBe(f32(scaleValue(SPEC, 'latency_ms', 5_000)));
    expect(obs(batch, s, 'latency_ms:mean')).toBe(f32(scaleValue(SPEC, 'latency_ms', (5 * 100 + 5_000) / 6)));
    expect(obs(batch, s - 1, 'latency_ms:max')).toBe(f32(scaleValue(SPEC, 'latency_ms', 100)));
  });

  it('a metric never reported is 0 with mask 0 everywhere', () => {
    for (let s = 0; s < T; s++)
      for (const agg of ['mean', 'max', 'slope']) {
        expect(obs(batch, s, `error_rate:${agg}`)).toBe(0);
        expect(mask(batch, s, `error_rate:${agg}`)).toBe(0);
      }
  });

  it('carries the static inputs, t and the calendar', () => {
    expect(batch.server).toEqual(['ppweb001']);
    expect(batch.time[0]).toBe(t);
    expect(batch.profile[0]).toBe(SPEC.profiles.indexOf('web_api'));
    expect(batch.serverBucket[0]).toBe(serverBucket('ppweb001', SPEC.serverBuckets));
    // Known row T - 1 is the step (t - 30 min, t]: it starts Tuesday 05:30.
    const K = SPEC.known.length;
    const row = (T - 1) * K;
    expect(batch.known[row + SPEC.known.indexOf('hour_sin')]).toBeCloseTo(Math.sin((2 * Math.PI * 5.5) / 24), 6);
    // The first horizon row starts at t.
    expect(batch.known[T * K + SPEC.known.indexOf('hour_sin')]).toBeCloseTo(Math.sin((2 * Math.PI * 6) / 24), 6);
  });

  it('targets are the horizon steps after t', () => {
    const G = SPEC.targets.length;
    // Horizon step 0 holds samples 361..366: mean 36.35.
    expect(batch.targets[SPEC.targets.indexOf('cpu_percent')]).toBe(f32(0.3635));
    expect(batch.targetMask[SPEC.targets.indexOf('error_rate')]).toBe(0);
    expect(batch.targets[(SPEC.horizonSteps - 1) * G]).toBe(f32((360 + 15 * 6 + 3.5) * 0.001));
  });
});

describe('buildWindows: gaps stay gaps', () => {
  it('a removed sample lowers the mask and is left out of the mean, never filled', () => {
    const { batch } = buildWindows(
      filterRows(series, (i) => i !== 358),
      { incidents: [], times: [t] },
    );
    expect(mask(batch, T - 1, 'cpu_percent:mean')).toBe(f32(5 / 6));
    expect(mask(batch, T - 1, 'cpu_percent:max')).toBe(f32(5 / 6));
    expect(obs(batch, T - 1, 'cpu_percent:mean')).toBe(f32(((355 + 356 + 357 + 359 + 360) * 0.1) / 5 / 100));
  });

  it('a step with no sample is all zeros with mask 0, and its neighbours are untouched', () => {
    const full = buildWindows(series, { incidents: [], times: [t] }).batch;
    const { batch } = buildWindows(
      filterRows(series, (i) => i < 349 || i > 354),
      { incidents: [], times: [t] },
    );
    for (let f = 0; f < F; f++) {
      expect(batch.observed[(T - 2) * F + f]).toBe(0);
      expect(batch.observedMask[(T - 2) * F + f]).toBe(0);
    }
    expect(batch.observed.subarray((T - 1) * F)).toEqual(full.observed.subarray((T - 1) * F));
    expect(batch.observed.subarray(0, (T - 2) * F)).toEqual(full.observed.subarray(0, (T - 2) * F));
  });

  it('NaN and Inf are missing for the model, and counted', () => {
    const bad = filterRows(series, () => true);
    bad.metrics.cpu_percent.values[356] = Number.NaN;
    bad.metrics.memory_percent.values[357] = Number.POSITIVE_INFINITY;
    const { batch, stats } = buildWindows(bad, { incidents: [], times: [t] });
    expect(stats.nonFiniteValues).toBe(2);
    expect(mask(batch, T - 1, 'cpu_percent:mean')).toBe(f32(5 / 6));
    expect(obs(batch, T - 1, 'cpu_percent:mean')).toBe(f32(((355 + 357 + 358 + 359 + 360) * 0.1) / 5 / 100));
    expect(mask(batch, T - 1, 'memory_percent:mean')).toBe(f32(5 / 6));
    expect(obs(batch, T - 1, 'memory_percent:max')).toBe(f32(0.4));
    expect(batch.observed.every(Number.isFinite)).toBe(true);
  });

  it('a slope needs two samples', () => {
    const { batch } = buildWindows(
      filterRows(series, (i) => i < 356 || i > 360),
      { incidents: [], times: [t] },
    );
    expect(mask(batch, T - 1, 'cpu_percent:mean')).toBe(f32(1 / 6));
    expect(mask(batch, T - 1, 'cpu_percent:slope')).toBe(0);
    expect(obs(batch, T - 1, 'cpu_percent:slope')).toBe(0);
  });

  it('row order does not matter', () => {
    const shuffled = pickRows(series, [...Array(series.length).keys()].reverse());
    expect(buildWindows(shuffled, { incidents: [], times: [t] }).batch).toEqual(
      buildWindows(series, { incidents: [], times: [t] }).batch,
    );
  });
});

describe('buildWindows: labels and skipped points', () => {
  const H = 8 * HOUR;
  const label = (incidents: ReturnType<typeof incident>[]): { risk: number; mode: string } | string => {
    const { batch, stats } = buildWindows(series, { incidents, times: [t] });
    if (batch.size === 0) return Object.entries(stats.skipped).find(([, n]) => n > 0)![0];
    return { risk: batch.risk[0]!, mode: SPEC.failureModes[batch.failureMode[0]!]! };
  };

  it('risk = 1 for an onset in (t, t + 8 h], with the earliest incident deciding the mode', () => {
    expect(label([])).toEqual({ risk: 0, mode: 'none' });
    expect(label([incident('ppweb001', 'disk_fill', t + H, t + H + HOUR)])).toEqual({ risk: 1, mode: 'disk' });
    expect(label([incident('ppweb001', 'disk_fill', t + H + STEP_MS, t + H + HOUR)])).toEqual({
      risk: 0,
      mode: 'none',
    });
    expect(label([incident('ppweb001', 'memory_leak', t + STEP_MS, t + HOUR)])).toEqual({ risk: 1, mode: 'memory' });
    expect(
      label([
        incident('ppweb001', 'disk_fill', t + 5 * HOUR, t + 6 * HOUR),
        incident('ppweb001', 'cascading_failure', t + 2 * HOUR, t + 3 * HOUR),
      ]),
    ).toEqual({ risk: 1, mode: 'dependency' });
    expect(label([incident('ppdb001', 'disk_fill', t + HOUR, t + 2 * HOUR)])).toEqual({ risk: 0, mode: 'none' });
  });

  it('points inside an incident (onset <= t < end) are skipped; a finished one is not', () => {
    expect(label([incident('ppweb001', 'cpu_runaway', t, t + HOUR)])).toBe('incident_ongoing');
    expect(label([incident('ppweb001', 'cpu_runaway', t - HOUR, t + STEP_MS)])).toBe('incident_ongoing');
    expect(label([incident('ppweb001', 'cpu_runaway', t - HOUR, t)])).toEqual({ risk: 0, mode: 'none' });
  });

  it('strides over the history, skipping points inside incidents, past the data and with little context', () => {
    const onset = MONDAY + 40 * HOUR;
    const end = onset + 2 * HOUR + 10 * 60_000; // covers the points onset .. onset + 2 h: 5 points
    const { batch, stats } = buildWindows(series, { incidents: [incident('ppweb001', 'memory_leak', onset, end)] });
    // Points every 30 min from 24 h to the last sample (71 h 55 min): 24:00 .. 71:30 = 96 points.
    expect(stats.points).toBe(96);
    expect(stats.skipped.incident_ongoing).toBe(5);
    // t + 8 h beyond the last sample: 64:00 .. 71:30 = 16 points.
    expect(stats.skipped.incomplete_horizon).toBe(16);
    expect(stats.windows).toBe(96 - 5 - 16);
    expect(stats.positives).toBe(16); // onset - 8 h <= t < onset
    for (let b = 0; b < batch.size; b++) expect(batch.time[b]! < onset || batch.time[b]! >= end).toBe(true);
    expect([...batch.time]).toEqual([...batch.time].sort((a, b) => a - b));
  });

  it('skips windows under the coverage threshold', () => {
    const sparse = filterRows(series, (i) => i % 5 < 2); // 40 % of the samples
    expect(buildWindows(sparse, { incidents: [], times: [t] }).stats.skipped.low_coverage).toBe(1);
    expect(buildWindows(sparse, { incidents: [], times: [t], minCoverage: 0.3 }).stats.windows).toBe(1);
  });

  it('keeps partial horizons on request, with masked targets', () => {
    const late = MONDAY + 70 * HOUR;
    const { batch } = buildWindows(series, { incidents: [], times: [late], requireFullHorizon: false });
    const G = SPEC.targets.length;
    expect(batch.targetMask[3 * G]).toBe(1); // step ending 72:00 > last sample 71:55, but 71:30..71:55 are in it
    expect(batch.targetMask[4 * G]).toBe(0);
  });

  it('refuses several servers and off-grid times', () => {
    const two = concatColumns([series, handSeries('ppdb001', MONDAY, 10, value)]);
    expect(() => buildWindows(two, { incidents: [] })).toThrow(/one server/);
    expect(() => buildWindows(series, { incidents: [], times: [t + STEP_MS] })).toThrow(/grid/);
  });
});
