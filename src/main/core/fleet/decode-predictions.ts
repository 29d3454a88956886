import { METRIC_BY_NAME, type Profile } from '@shared/contract';
import type { ForecastBand, ServerPrediction } from '@shared/domain';
import { makeScaler, unscaleWith, type FeatureSpec, type Scaler } from '../model/features';
import { roundSignificant } from '../util/stats';

/** The quantiles the API reports, as P10/P50/P90. */
export const BAND_QUANTILES = { p10: 0.1, p50: 0.5, p90: 0.9 } as const;

/** The model outputs the loop reads, flat row-major as onnxruntime returns them. */
export interface PredictionOutputs {
  /** (B, horizonSteps, targets.length, quantiles.length), scaled. */
  quantiles: ArrayLike<number>;
  /** (B) in [0, 1]. */
  risk: ArrayLike<number>;
  /** (B, failureModes.length), rows sum to 1. */
  failureMode: ArrayLike<number>;
}

export interface DecodeInput {
  spec: FeatureSpec;
  /** Server of each row, in batch order. */
  servers: readonly string[];
  profiles: readonly Profile[];
  coverage: ArrayLike<number>;
  /** Servers the model was trained on. */
  knownServers: ReadonlySet<string>;
}

/**
 * Where P10, P50 and P90 sit in the model's quantile list; throws naming what is missing. A model
 * trained on other quantiles cannot fill the bands the API promises, so it is refused at load.
 */
export function bandIndices(spec: Pick<FeatureSpec, 'quantiles'>): { p10: number; p50: number; p90: number } {
  const find = (q: number): number => spec.quantiles.findIndex((x) => Math.abs(x - q) < 1e-6);
  const found = { p10: find(BAND_QUANTILES.p10), p50: find(BAND_QUANTILES.p50), p90: find(BAND_QUANTILES.p90) };
  const missing = Object.entries(found)
    .filter(([, i]) => i < 0)
    .map(([band]) => band.toUpperCase());
  if (missing.length > 0)
    throw new Error(
      `the model forecasts quantiles [${spec.quantiles.join(', ')}], without ${missing.join(', ')}: retrain with 0.1, 0.5 and 0.9`,
    );
  return found;
}

/** Five significant digits: float32 outputs carry about seven, and JSON need not carry float64 noise. */
export const round5 = (x: number): number => roundSignificant(x, 5);

/** The index of the most likely of `count` failure modes: the first highest probability (`p(k)`), "none" included. */
export function mostLikelyMode(count: number, p: (k: number) => number): number {
  let best = 0;
  for (let k = 1; k < count; k++) if (p(k) > p(best)) best = k;
  return best;
}

/**
 * The model outputs as the API's predictions: risk, the failure mode (argmax over
 * featureSpec.failureModes, with every mode's probability), and per target metric P10/P50/P90
 * for each horizon step in metric units (featureSpec.scaling inverted: linear y * scale, log1p
 * scale * expm1(y * log1p(reference / scale))), clamped to the contract's range. The quantile
 * head is not forced to be monotone, so each step's three values are sorted: a band never has
 * its P10 above its P90.
 */
export function decodePredictions(input: DecodeInput, outputs: PredictionOutputs): ServerPrediction[] {
  const { spec, servers } = input;
  const B = servers.length;
  const H = spec.horizonSteps;
  const M = spec.targets.length;
  const Q = spec.quantiles.length;
  const K = spec.failureModes.length;
  const expect = (name: string, got: number, want: number): void => {
    if (got !== want) throw new Error(`output ${name} has ${got} values, expected ${want}`);
  };
  expect('quantiles', outputs.quantiles.length, B * H * M * Q);
  expect('risk', outputs.risk.length, B);
  expect('failure_mode', outputs.failureMode.length, B * K);
  const bands = bandIndices(spec);
  const scalers: Scaler[] = spec.targets.map((m) => makeScaler(m, spec.scaling[m]));

  const out: ServerPrediction[] = [];
  const q = [0, 0, 0];
  for (let b = 0; b < B; b++) {
    const forecast: ForecastBand[] = spec.targets.map((metric, m) => {
      const { min, max } = METRIC_BY_NAME[metric];
      const band: ForecastBand = {
        metric,
        p10: new Array<number>(H),
        p50: new Array<number>(H),
        p90: new Array<number>(H),
      };
      for (let h = 0; h < H; h++) {
        const base = ((b * H + h) * M + m) * Q;
        q[0] = unscaleWith(scalers[m]!, outputs.quantiles[base + bands.p10]!);
        q[1] = unscaleWith(scalers[m]!, outputs.quantiles[base + bands.p50]!);
        q[2] = unscaleWith(scalers[m]!, outputs.quantiles[base + bands.p90]!);
        q.sort((x, y) => x - y);
        const clamp = (x: number): number => round5(x < min ? min : x > max ? max : x);
        band.p10[h] = clamp(q[0]);
        band.p50[h] = clamp(q[1]);
        band.p90[h] = clamp(q[2]);
      }
      return band;
    });
    const failureModes: Record<string, number> = {};
    for (let k = 0; k < K; k++) failureModes[spec.failureModes[k]!] = round5(outputs.failureMode[b * K + k]!);
    const best = mostLikelyMode(K, (k) => outputs.failureMode[b * K + k]!);
    const risk = outputs.risk[b]!;
    // A NaN would reach the API as a broken figure; a model that produces one is broken for this cycle.
    if (!Number.isFinite(risk)) throw new Error(`the model produced a non-finite risk (${risk}) for ${servers[b]}`);
    out.push({
      server: servers[b]!,
      profile: input.profiles[b]!,
      risk: round5(Math.min(1, Math.max(0, risk))),
      failureMode: spec.failureModes[best]!,
      failureModes,
      knownServer: input.knownServers.has(servers[b]!),
      coverage: round5(Math.min(1, Math.max(0, input.coverage[b]!))),
      forecast,
    });
  }
  return out;
}
