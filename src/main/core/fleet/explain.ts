import { METRIC_BY_NAME, isMetricName, type MetricName } from '@shared/contract';
import type { Explanation, SampleColumns, VariableImportance } from '@shared/domain';
import { TFT_EXPLANATION_OUTPUTS } from '../model/export/feeds';
import { parseObservedChannel, stepMs, type FeatureSpec } from '../model/features';
import { roundSignificant } from '../util/stats';

/**
 * The model's explanation outputs turned into what `predictions.explain` serves per server:
 * variable importances by kind, attention over the past window, and up to three sentences for
 * SREs naming the metrics the model weighted most and what they did in the window.
 *
 * Pure: no I/O, no clock. Call it after `session.run` with the same batch:
 *
 *   const explanations = decodeExplanations(
 *     { spec, servers: batch.server, time: built.time, columns },   // columns: store.latestWindow(...)
 *     outputs,                                                      // session.run's result
 *   ); // null when the model has no explanation outputs (exported before them): not_supported
 *
 * What the numbers are (docs/model.md, "Explanation outputs"):
 * - **observed**: the encoder's variable selection weights of the metrics, averaged over the
 *   context steps (`past_variable_weights`), renormalised over the metrics. A metric made of
 *   several channels (mean, max, slope) is one variable; a model with one variable per channel
 *   has its channels summed per metric.
 * - **known**: the calendar variables, their encoder weights (renormalised over the calendar)
 *   and decoder weights (`future_variable_weights`) averaged by step count; a sin/cos pair is
 *   one variable (hour_of_day, day_of_week).
 * - **static**: `static_weights` [profile, server].
 * - **attention**: `past_attention`, one weight per context step (oldest first, named by the
 *   step's end), summing to 1.
 * - **drivers**: the top observed metrics (at most 3), each described from the raw samples in
 *   `columns` (contract units, never the model's scaled inputs) over the most recent part of the
 *   window that holds half of the attention (at least 2 h). Selection weights say what the model
 *   read, attention where it looked: neither is a cause.
 */

/** The explanation fields decodeExplanations fills (Explanation's, less risk and failure mode). */
export type ServerExplanation = Omit<NonNullable<Explanation['explanation']>, 'risk' | 'failureMode'>;

export interface ExplainInput {
  /** The model's feature spec (model.json `featureSpec`). */
  spec: FeatureSpec;
  /** Server of each batch row, in batch order (`batch.server`). */
  servers: readonly string[];
  /** t, the end of every window's context (`InferenceBatch.time`, epoch ms). */
  time: number;
  /** The samples the batch was built from (`store.latestWindow`), read for the drivers; rows of other servers or outside the window are ignored. */
  columns: SampleColumns;
}

/** Model outputs by graph name: onnxruntime's tensors as `session.run` returns them, or bare arrays. */
export type ExplanationOutputsInput = Readonly<Record<string, Float32Array | { data: unknown } | undefined>>;

/** Sentences at most. */
export const MAX_DRIVERS = 3;
/** Ends the first driver sentence: the metric the model weighted most. */
export const LARGEST_DRIVER = ': the largest driver of this prediction';
/** The drivers describe the shortest recent part of the window holding this share of the attention... */
export const FOCUS_ATTENTION_SHARE = 0.5;
/** ...and at least this long. */
export const MIN_FOCUS_MINUTES = 120;

/**
 * Per server, the explanation of one inference run; null when an explanation output is missing
 * (a model exported before them: the caller answers not_supported). Throws when the outputs do
 * not fit the spec and batch (a wiring error). A row whose weights are not finite gets no entry.
 */
export function decodeExplanations(
  input: ExplainInput,
  outputs: ExplanationOutputsInput,
): Map<string, ServerExplanation> | null {
  const { spec, servers, time } = input;
  const b = servers.length;
  const te = spec.contextSteps;
  const td = spec.horizonSteps;
  const K = spec.known.length;
  const past = floats(outputs, TFT_EXPLANATION_OUTPUTS.pastVariableWeights);
  const future = floats(outputs, TFT_EXPLANATION_OUTPUTS.futureVariableWeights);
  const stat = floats(outputs, TFT_EXPLANATION_OUTPUTS.staticWeights);
  const attention = floats(outputs, TFT_EXPLANATION_OUTPUTS.pastAttention);
  if (!past || !future || !stat || !attention) return null;

  const P = b === 0 ? 0 : past.length / b;
  const variables = b === 0 ? null : pastVariableMetrics(spec, P);
  const expectSize = (name: string, got: number, want: number): void => {
    if (got !== want) throw new Error(`explanation output ${name}: ${got} values for ${b} servers, expected ${want}`);
  };
  if (b > 0) expectSize(TFT_EXPLANATION_OUTPUTS.pastVariableWeights, past.length, b * P);
  expectSize(TFT_EXPLANATION_OUTPUTS.futureVariableWeights, future.length, b * K);
  expectSize(TFT_EXPLANATION_OUTPUTS.staticWeights, stat.length, b * 2);
  expectSize(TFT_EXPLANATION_OUTPUTS.pastAttention, attention.length, b * te);

  const step = stepMs(spec);
  const times = Array.from({ length: te }, (_, i) => new Date(time - (te - 1 - i) * step).toISOString());
  const calendar = calendarVariables(spec.known);
  const samples = samplesByServer(input.columns, new Set(servers), time - te * step, time);
  const out = new Map<string, ServerExplanation>();

  for (let r = 0; r < b; r++) {
    const server = servers[r]!;
    const pastRow = past.subarray(r * P, (r + 1) * P);
    // Observed: metric weights (channels summed per metric), renormalised over the metrics.
    const metricWeights = new Map<MetricName, number>();
    variables!.observed.forEach((metric, j) =>
      metricWeights.set(metric, (metricWeights.get(metric) ?? 0) + pastRow[j]!),
    );
    const observed = normalise([...metricWeights.values()]);
    // Known: encoder share renormalised over the calendar, and decoder weights, by step count.
    const knownPast = normalise(Array.from({ length: K }, (_, k) => pastRow[variables!.knownOffset + k]!));
    const knownFuture = normalise(Array.from(future.subarray(r * K, (r + 1) * K)));
    const statics = normalise(Array.from(stat.subarray(r * 2, (r + 1) * 2)));
    const att = normalise(Array.from(attention.subarray(r * te, (r + 1) * te)));
    if (!observed || !knownPast || !knownFuture || !statics || !att) continue;

    const known = new Map<string, number>();
    calendar.forEach((name, k) =>
      known.set(name, (known.get(name) ?? 0) + (te * knownPast[k]! + td * knownFuture[k]!) / (te + td)),
    );
    const metrics = [...metricWeights.keys()];
    const byImportance = (a: VariableImportance, c: VariableImportance): number => c.importance - a.importance;
    const observedVars = metrics
      .map((name, j): VariableImportance => ({ name, kind: 'observed', importance: clamp01(observed[j]!) }))
      .sort(byImportance);
    const knownVars = [...known]
      .map(([name, w]): VariableImportance => ({ name, kind: 'known', importance: clamp01(w) }))
      .sort(byImportance);
    const staticVars = (['profile', 'server'] as const)
      .map((name, j): VariableImportance => ({ name, kind: 'static', importance: clamp01(statics[j]!) }))
      .sort(byImportance);

    const focus = focusSteps(att, Math.max(2, Math.ceil(MIN_FOCUS_MINUTES / spec.stepMinutes)));
    const from = time - focus * step;
    const rows = samples.get(server) ?? [];
    const drivers = observedVars.slice(0, MAX_DRIVERS).map((v, i) => {
      const sentence = describeMetric(
        v.name as MetricName,
        rows,
        input.columns,
        from,
        time,
        step,
        focus * spec.stepMinutes,
      );
      return i === 0 ? `${sentence}${LARGEST_DRIVER}` : sentence;
    });

    out.set(server, {
      // Four significant digits: float32 weights carry noise past that, and 1,000 servers' worth of
      // 17-digit JSON numbers is what the API would otherwise serialise.
      variables: [...observedVars, ...knownVars, ...staticVars].map((v) => ({ ...v, importance: sig4(v.importance) })),
      attention: { times, weights: att.map((w) => sig4(Math.max(0, w))) },
      drivers,
    });
  }
  return out;
}

/**
 * The metric of each observed past variable, and where the calendar variables start: the
 * encoder has one variable per metric (default) or per observed channel, then one per known
 * channel; which one is read from the output's width.
 */
export function pastVariableMetrics(
  spec: Pick<FeatureSpec, 'observed' | 'known'>,
  width: number,
): { observed: MetricName[]; knownOffset: number } {
  const channelMetric = spec.observed.map((ch) => parseObservedChannel(ch).metric);
  const metrics = [...new Set(channelMetric)];
  const observed =
    width === metrics.length + spec.known.length
      ? metrics
      : width === channelMetric.length + spec.known.length
        ? channelMetric
        : null;
  if (!observed)
    throw new Error(
      `explanation output ${TFT_EXPLANATION_OUTPUTS.pastVariableWeights}: ${width} variables, expected ${metrics.length} metrics or ${channelMetric.length} channels, plus ${spec.known.length} calendar channels`,
    );
  return { observed, knownOffset: observed.length };
}

/** Calendar channel -> the variable people know: hour_sin and hour_cos are hour_of_day, dow_* day_of_week. */
function calendarVariables(known: readonly string[]): string[] {
  return known.map((name) => {
    const pair = /^(.+)_(sin|cos)$/.exec(name);
    if (!pair) return name;
    return pair[1] === 'hour' ? 'hour_of_day' : pair[1] === 'dow' ? 'day_of_week' : pair[1]!;
  });
}

/** The number of most recent steps holding FOCUS_ATTENTION_SHARE of the attention, at least `min`. */
export function focusSteps(attention: readonly number[], min: number): number {
  let acc = 0;
  for (let n = 1; n <= attention.length; n++) {
    acc += attention[attention.length - n]!;
    if (acc >= FOCUS_ATTENTION_SHARE - 1e-9) return Math.min(attention.length, Math.max(n, min));
  }
  return attention.length;
}

/** Row indices of each wanted server's samples with from < ts <= to. */
function samplesByServer(
  columns: SampleColumns,
  wanted: ReadonlySet<string>,
  from: number,
  to: number,
): Map<string, number[]> {
  const out = new Map<string, number[]>();
  // Rows usually come grouped by server (store.latestWindow): look each run of rows up once.
  let current: string | undefined;
  let rows: number[] | null = null;
  for (let i = 0; i < columns.length; i++) {
    const server = columns.server[i]!;
    if (server !== current) {
      current = server;
      rows = wanted.has(server) ? (out.get(server) ?? null) : null;
      if (rows === null && wanted.has(server)) out.set(server, (rows = []));
    }
    const ts = columns.timestamp[i]!;
    if (rows !== null && ts > from && ts <= to) rows.push(i);
  }
  return out;
}

/**
 * One sentence on what a metric did over (from, to], from its raw samples: the mean of its first
 * and last model step with a valid sample there, and its highest sample. "peaked at M" when that
 * sample stands clear of both ends (by twice the flat tolerance and by 25 %), else "rose from A
 * to B", "fell from A to B" (a change beyond the tolerance: the unit's floor or 5 %), "flat at
 * A", or "not reported".
 */
function describeMetric(
  metric: MetricName,
  rows: readonly number[],
  columns: SampleColumns,
  from: number,
  to: number,
  step: number,
  minutes: number,
): string {
  const period = `over the last ${formatPeriod(minutes)}`;
  const column = isMetricName(metric) ? columns.metrics[metric] : undefined;
  const steps = Math.round((to - from) / step);
  const sum = new Float64Array(steps);
  const count = new Uint32Array(steps);
  let peak = -Infinity;
  if (column) {
    for (const i of rows) {
      const v = column.values[i]!;
      if (!column.present[i] || !Number.isFinite(v)) continue;
      const s = steps - 1 - Math.floor((to - columns.timestamp[i]!) / step);
      if (s < 0 || s >= steps) continue;
      sum[s] = sum[s]! + v;
      count[s] = count[s]! + 1;
      if (v > peak) peak = v;
    }
  }
  const valid = Array.from({ length: steps }, (_, s) => s).filter((s) => count[s]! > 0);
  if (valid.length === 0) return `${metric} not reported ${period}`;
  const first = sum[valid[0]!]! / count[valid[0]!]!;
  const last = sum[valid.at(-1)!]! / count[valid.at(-1)!]!;
  const tol = Math.max(flatTolerance(metric), 0.05 * Math.max(Math.abs(first), Math.abs(last)));
  const f = (x: number): string => formatValue(metric, x);
  const high = Math.max(first, last);
  if (peak - high > Math.max(2 * tol, 0.25 * Math.abs(high)))
    return `${metric} peaked at ${f(peak)} ${period} (${f(first)} at the start, ${f(last)} now)`;
  if (last - first > tol) return `${metric} rose from ${f(first)} to ${f(last)} ${period}`;
  if (first - last > tol) return `${metric} fell from ${f(first)} to ${f(last)} ${period}`;
  return `${metric} flat at ${f((first + last) / 2)} ${period}`;
}

/** The smallest change worth calling a rise or a fall, in contract units. */
function flatTolerance(metric: MetricName): number {
  switch (METRIC_BY_NAME[metric]?.unit) {
    case '%':
      return 2;
    case 'ratio':
      return 0.002;
    case 'ms':
      return 5;
    case 'Mbit/s':
      return 1;
    default:
      return 0.2;
  }
}

/** A value in its contract unit, for people: "78 %", "0.4 %" (error ratio), "840 ms", "120 Mbit/s", "8.4" (load). */
export function formatValue(metric: MetricName, x: number): string {
  const unit = METRIC_BY_NAME[metric]?.unit;
  const sig = (v: number, digits: number): string =>
    Math.abs(v) >= 10 ** digits ? String(Math.round(v)) : String(Number(v.toPrecision(digits)));
  switch (unit) {
    case '%':
      return `${Math.abs(x) >= 10 ? Math.round(x) : Number(x.toFixed(1))} %`;
    case 'ratio':
      return `${sig(x * 100, 2)} %`;
    case 'ms':
      return `${sig(x, 3)} ms`;
    case 'Mbit/s':
      return `${sig(x, 3)} Mbit/s`;
    default:
      return sig(x, 2);
  }
}

function formatPeriod(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  const h = minutes / 60;
  return `${Number.isInteger(h) ? h : h.toFixed(1)} h`;
}

/** The values scaled to sum to 1 (float64); null when they cannot be (non-finite, negative, all zero). */
function normalise(xs: readonly number[]): number[] | null {
  let total = 0;
  for (const x of xs) {
    if (!Number.isFinite(x) || x < 0) return null;
    total += x;
  }
  return total > 0 ? xs.map((x) => x / total) : null;
}

/** Into [0, 1]: normalised float32 sums may land a hair outside. */
const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

function floats(outputs: ExplanationOutputsInput, name: string): Float32Array | null {
  const o = outputs[name];
  if (o === undefined) return null;
  const data = o instanceof Float32Array ? o : o.data;
  if (!(data instanceof Float32Array)) throw new Error(`explanation output ${name} is not float32`);
  return data;
}

function sig4(x: number): number {
  return roundSignificant(x, 4);
}
