import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, STEP_MS, type MetricName } from '@shared/contract';
import type { SampleColumns, VariableImportance } from '@shared/domain';
import { concatColumns } from '../metrics/columns';
import { defaultFleet } from '../metrics/simulator/fleet-sim';
import { generateFleet } from '../metrics/simulator/generate';
import { tftFeeds } from '../model/export/feeds';
import { hasExplanationOutputs } from '../model/export';
import {
  DEFAULT_FEATURE_SPEC,
  buildInferenceBatch,
  contextSamples,
  inferenceTime,
  type FeatureSpec,
} from '../model/features';
import { HOUR, MONDAY, handSeries } from '../model/features/testing/series';
import { expectedTensors, loadModelFolder } from '../model/folder';
import { createInferenceSession } from '../model/infer';
import { bundledModelDir } from '../paths';
import { createMemoryLogger } from '../util/logger';
import { MAX_DRIVERS, decodeExplanations, focusSteps, formatValue, pastVariableMetrics } from './explain';

const spec = DEFAULT_FEATURE_SPEC;
const TE = spec.contextSteps; // 48 steps of 30 min
const TD = spec.horizonSteps;
const STEP = spec.stepMinutes * 60_000;
const T = MONDAY + 3 * 24 * HOUR; // the window end, on the step grid
/** The observed variables in the contract's order. */
const METRICS = METRIC_NAMES;

/** One server's 5-minute samples from `hours` before T to T (and one hour before that, outside the window). */
function series(server: string, value: (m: MetricName, ts: number) => number | undefined, hours = 26): SampleColumns {
  const start = T - hours * HOUR + STEP_MS;
  return handSeries(server, start, (hours * HOUR) / STEP_MS, (m, _i, ts) => value(m, ts));
}

/** Past variable weights: 10 metrics then 5 calendar channels. */
function pastRow(metrics: Partial<Record<MetricName, number>>, rest: number, calendar: number[]): number[] {
  return [...METRICS.map((m) => metrics[m] ?? rest), ...calendar];
}

const kinds = (vars: VariableImportance[], kind: VariableImportance['kind']): VariableImportance[] =>
  vars.filter((v) => v.kind === kind);
const sum = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0);

describe('decodeExplanations', () => {
  // web-a: memory ramps from 61 % to 78 % over the last 6 h, disk flat, one CPU spike; the attention holds half its weight on the last 6 h.
  // db-b: errors fall from 3.1 % to 0.4 % over the day, no latency reported; the attention looks at the oldest step.
  const webPast = pastRow(
    { memory_percent: 0.3, disk_percent: 0.15, cpu_percent: 0.1 },
    0.025,
    [0.1, 0.05, 0.05, 0.05, 0.025],
  );
  const dbPast = pastRow({ error_rate: 0.4, latency_ms: 0.2, swap_percent: 0.1 }, 0.02, [0.04, 0.04, 0.04, 0.02, 0.04]);
  const webFuture = [0.4, 0.2, 0.1, 0.1, 0.2];
  const dbFuture = [0.2, 0.2, 0.2, 0.2, 0.2];
  const webAttention = Array.from({ length: TE }, (_, i) => (i >= TE - 12 ? 0.5 / 12 : 0.5 / 36));
  const dbAttention = Array.from({ length: TE }, (_, i) => (i === 0 ? 0.9 : 0.1 / (TE - 1)));
  const outputs = {
    past_variable_weights: Float32Array.from([...webPast, ...dbPast]),
    future_variable_weights: Float32Array.from([...webFuture, ...dbFuture]),
    static_weights: Float32Array.from([0.7, 0.3, 0.2, 0.8]),
    past_attention: Float32Array.from([...webAttention, ...dbAttention]),
  };
  const focusStart = T - 6 * HOUR;
  const web = series('web-a', (m, ts) => {
    if (m === 'memory_percent') return ts <= focusStart ? 50 : 61 + (17 * (11 - Math.floor((T - ts) / STEP))) / 11;
    if (m === 'disk_percent') return 42 + (ts % (2 * STEP_MS) === 0 ? 0.4 : -0.4);
    if (m === 'cpu_percent') return ts === T - 2 * HOUR ? 95 : 20;
    return 1;
  });
  const db = series('db-b', (m, ts) => {
    const before = ts <= T - TE * STEP; // outside the window: must not count
    if (m === 'error_rate') return before ? 0.5 : 0.031 + ((0.004 - 0.031) * (ts - (T - TE * STEP))) / (TE * STEP);
    if (m === 'latency_ms') return undefined;
    if (m === 'swap_percent') return before ? 90 : 10;
    return 1;
  });
  const other = series('not-in-batch', () => 99);
  const columns = concatColumns([db, other, web]);
  const input = { spec, servers: ['web-a', 'db-b'], time: T, columns };

  it('gives each server its importances by kind, each kind summing to 1, named as SREs know the inputs', () => {
    const out = decodeExplanations(input, outputs)!;
    expect([...out.keys()]).toEqual(['web-a', 'db-b']);
    const a = out.get('web-a')!;
    for (const kind of ['observed', 'known', 'static'] as const)
      expect(sum(kinds(a.variables, kind).map((v) => v.importance))).toBeCloseTo(1, 3);
    expect(
      kinds(a.variables, 'observed')
        .map((v) => v.name)
        .slice(0, 3),
    ).toEqual(['memory_percent', 'disk_percent', 'cpu_percent']);
    expect(
      kinds(a.variables, 'observed')
        .map((v) => v.name)
        .sort(),
    ).toEqual([...METRICS].sort());
    expect(kinds(a.variables, 'observed')[0]!.importance).toBeCloseTo(0.3 / 0.725, 3);
    // Calendar: sin/cos pairs are one variable; encoder share (renormalised) and decoder weights by step count.
    const pastCal = [0.1, 0.05, 0.05, 0.05, 0.025].map((x) => x / 0.275);
    const known = (i: number[]): number => sum(i.map((k) => (TE * pastCal[k]! + TD * webFuture[k]!) / (TE + TD)));
    expect(Object.fromEntries(kinds(a.variables, 'known').map((v) => [v.name, v.importance]))).toEqual({
      hour_of_day: expect.closeTo(known([0, 1]), 3) as number,
      day_of_week: expect.closeTo(known([2, 3]), 3) as number,
      weekend: expect.closeTo(known([4]), 3) as number,
    });
    expect(kinds(a.variables, 'static')).toEqual([
      { name: 'profile', kind: 'static', importance: expect.closeTo(0.7, 3) as number },
      { name: 'server', kind: 'static', importance: expect.closeTo(0.3, 3) as number },
    ]);
    expect(kinds(out.get('db-b')!.variables, 'static').map((v) => v.name)).toEqual(['server', 'profile']);
    for (const v of a.variables) expect(v.importance).toBeGreaterThanOrEqual(0);
  });

  it('gives the attention per context step, oldest first, named by the step end, summing to 1', () => {
    const a = decodeExplanations(input, outputs)!.get('web-a')!;
    expect(a.attention.times).toHaveLength(TE);
    expect(a.attention.times[TE - 1]).toBe(new Date(T).toISOString());
    expect(a.attention.times[0]).toBe(new Date(T - (TE - 1) * STEP).toISOString());
    expect(sum(a.attention.weights)).toBeCloseTo(1, 3);
    // Four significant digits in the API.
    expect(a.attention.weights[TE - 1]).toBeCloseTo(0.5 / 12, 5);
    expect(a.attention.weights[0]).toBeCloseTo(0.5 / 36, 5);
  });

  it('describes the top metrics from the raw samples over the recent part of the window the attention holds', () => {
    const out = decodeExplanations(input, outputs)!;
    expect(out.get('web-a')!.drivers).toEqual([
      'memory_percent rose from 61 % to 78 % over the last 6 h: the largest driver of this prediction',
      'disk_percent flat at 42 % over the last 6 h',
      'cpu_percent peaked at 95 % over the last 6 h (20 % at the start, 20 % now)',
    ]);
    // The attention sits on the oldest step: the whole day. Samples before the window (error 50 %, swap 90 %) do not count.
    expect(out.get('db-b')!.drivers).toEqual([
      'error_rate fell from 3.1 % to 0.42 % over the last 24 h: the largest driver of this prediction',
      'latency_ms not reported over the last 24 h',
      'swap_percent flat at 10 % over the last 24 h',
    ]);
    expect(out.get('db-b')!.drivers.length).toBeLessThanOrEqual(MAX_DRIVERS);
  });

  it('accepts onnxruntime tensors ({ data }) as session.run returns them', () => {
    const tensors = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { data: v, dims: [] }]));
    expect(decodeExplanations(input, tensors)).toEqual(decodeExplanations(input, outputs));
  });

  it('is null for a model without the explanation outputs (exported before them)', () => {
    const older = {
      quantiles: new Float32Array(2 * TD * 15),
      risk: new Float32Array(2),
      static_weights: outputs.static_weights,
    };
    expect(decodeExplanations(input, older)).toBeNull();
    const { past_attention: _, ...noAttention } = outputs;
    expect(decodeExplanations(input, noAttention)).toBeNull();
  });

  it('refuses outputs that do not fit the spec or the batch', () => {
    expect(() => decodeExplanations(input, { ...outputs, past_attention: new Float32Array(2 * (TE - 1)) })).toThrow(
      /past_attention: 94 values for 2 servers, expected 96/,
    );
    expect(() => decodeExplanations(input, { ...outputs, past_variable_weights: new Float32Array(2 * 14) })).toThrow(
      /14 variables, expected 10 metrics or 30 channels, plus 5 calendar/,
    );
    expect(() => decodeExplanations(input, { ...outputs, static_weights: { data: new Int32Array(4) } })).toThrow(
      /static_weights is not float32/,
    );
  });

  it('leaves out a row whose weights are not finite, and explains the others', () => {
    const bad = Float32Array.from(outputs.past_attention);
    bad[3] = Number.NaN;
    const out = decodeExplanations(input, { ...outputs, past_attention: bad })!;
    expect([...out.keys()]).toEqual(['db-b']);
  });

  it('sums a per-channel model (one variable per observed channel) into metrics', () => {
    const C = spec.observed.length;
    const row = new Float32Array(C + 5).fill(0.01);
    spec.observed.forEach((ch, i) => {
      if (ch.startsWith('latency_ms:')) row[i] = 0.1;
    });
    const past = new Float32Array(2 * (C + 5));
    past.set(row, 0);
    past.set(row, C + 5);
    const out = decodeExplanations(input, { ...outputs, past_variable_weights: past })!;
    const observed = kinds(out.get('web-a')!.variables, 'observed');
    expect(observed.map((v) => v.name)).toHaveLength(10);
    expect(observed[0]).toEqual({
      name: 'latency_ms',
      kind: 'observed',
      importance: expect.closeTo(0.3 / (0.3 + 27 * 0.01), 3) as number,
    });
    expect(out.get('web-a')!.drivers[0]).toBe(
      'latency_ms flat at 1 ms over the last 6 h: the largest driver of this prediction',
    );
  });

  it('an empty batch gives an empty map', () => {
    const empty = {
      past_variable_weights: new Float32Array(0),
      future_variable_weights: new Float32Array(0),
      static_weights: new Float32Array(0),
      past_attention: new Float32Array(0),
    };
    expect(decodeExplanations({ ...input, servers: [] }, empty)?.size).toBe(0);
  });
});

describe('helpers', () => {
  it('focusSteps: the most recent steps holding half the attention, at least the minimum', () => {
    expect(focusSteps([0.1, 0.1, 0.1, 0.2, 0.5], 1)).toBe(1);
    expect(focusSteps([0.1, 0.1, 0.1, 0.3, 0.4], 1)).toBe(2);
    expect(focusSteps([0.1, 0.1, 0.1, 0.3, 0.4], 3)).toBe(3);
    expect(focusSteps([0.9, 0.05, 0.05], 1)).toBe(3);
  });

  it('formatValue: contract units, readable precision', () => {
    expect(formatValue('memory_percent', 77.6)).toBe('78 %');
    expect(formatValue('iowait_percent', 3.14)).toBe('3.1 %');
    expect(formatValue('error_rate', 0.0312)).toBe('3.1 %');
    expect(formatValue('latency_ms', 843.7)).toBe('844 ms');
    expect(formatValue('latency_ms', 12.34)).toBe('12.3 ms');
    expect(formatValue('network_in_mbps', 1234.5)).toBe('1235 Mbit/s');
    expect(formatValue('load_average', 8.44)).toBe('8.4');
  });

  it('pastVariableMetrics: by metric or by channel, from the width', () => {
    expect(pastVariableMetrics(spec, 15)).toEqual({ observed: [...METRICS], knownOffset: 10 });
    expect(pastVariableMetrics(spec, 35).observed.slice(0, 4)).toEqual([
      'cpu_percent',
      'cpu_percent',
      'cpu_percent',
      'memory_percent',
    ]);
  });
});

describe('the bundled model, end to end', () => {
  it('explains every server of a simulated fleet from one onnxruntime run', async () => {
    const root = resolve(__dirname, '..', '..', '..', '..');
    const model = await loadModelFolder(bundledModelDir({ mainDir: join(root, 'out', 'main') }));
    const m = model.manifest;
    expect(
      hasExplanationOutputs(m.onnx.outputs),
      'the bundled model has the explanation outputs (npm run train:default)',
    ).toBe(true);
    const s: FeatureSpec = m.featureSpec;
    const fleet = generateFleet({ seed: 'explain-e2e', start: MONDAY, servers: defaultFleet(6), hours: 30 });
    const now = fleet.end;
    const t = inferenceTime(now, s);
    const columns = fleet.columns;
    const built = buildInferenceBatch(columns, s, now, {
      knownServers: m.training.dataset.trainingServers,
      profileOf: (n) => fleet.mapping.get(n)!.profile,
    });
    expect(built.batch.size).toBeGreaterThan(0);
    expect(contextSamples(s)).toBeGreaterThan(0);
    const session = await createInferenceSession({
      modelBytes: model.onnxBytes,
      ...expectedTensors(m),
      provider: 'cpu',
      logger: createMemoryLogger(),
    });
    try {
      const outputs = await session.run(tftFeeds(built.batch), built.batch.size);
      const out = decodeExplanations({ spec: s, servers: built.batch.server, time: built.time, columns }, outputs)!;
      expect(built.time).toBe(t);
      expect([...out.keys()]).toEqual(built.batch.server);
      for (const [server, e] of out) {
        for (const kind of ['observed', 'known', 'static'] as const)
          expect(sum(kinds(e.variables, kind).map((v) => v.importance)), `${server} ${kind}`).toBeCloseTo(1, 3);
        expect(e.attention.weights).toHaveLength(s.contextSteps);
        expect(sum(e.attention.weights)).toBeCloseTo(1, 3);
        expect(e.drivers.length).toBe(MAX_DRIVERS);
        const top = kinds(e.variables, 'observed')[0]!.name;
        expect(e.drivers[0]!.startsWith(`${top} `), e.drivers[0]).toBe(true);
        expect(e.drivers[0]).toMatch(/: the largest driver of this prediction$/);
      }
      console.log(
        `bundled model, ${built.batch.server[0]}: ${JSON.stringify(out.get(built.batch.server[0]!)!.drivers)}`,
      );
    } finally {
      await session.close();
    }
  }, 60_000);
});
