import { METRIC_BY_NAME, type MetricName } from '@shared/contract';
import type { FeatureSpec, MetricScaling } from './feature-spec';

/**
 * The fixed scalings of feature-spec.ts as functions. Everything in float64; batches store
 * float32, so a value read back from a batch is exact to float32 precision (about 1e-7 relative
 * in the scaled domain), while scale -> unscale in float64 is exact to 1e-12.
 */

/** Precomputed form: y = log ? log1p(x * invScale) * invNorm : x * invScale. */
export interface Scaler {
  metric: MetricName;
  log: boolean;
  invScale: number;
  invNorm: number;
  min: number;
  max: number;
}

export function makeScaler(metric: MetricName, scaling: MetricScaling): Scaler {
  const spec = METRIC_BY_NAME[metric];
  const log = scaling.kind === 'log1p';
  return {
    metric,
    log,
    invScale: 1 / scaling.scale,
    invNorm: log ? 1 / Math.log1p(scaling.reference / scaling.scale) : 1,
    min: spec.min,
    max: spec.max,
  };
}

/** Raw contract units -> model scale. The caller filters non-finite values (they are missing). */
export function scaleWith(s: Scaler, x: number): number {
  const v = x < s.min ? s.min : x > s.max ? s.max : x;
  return s.log ? Math.log1p(v * s.invScale) * s.invNorm : v * s.invScale;
}

/** Model scale -> raw contract units (the inverse of scaleWith inside the contract range). */
export function unscaleWith(s: Scaler, y: number): number {
  return s.log ? Math.expm1(y / s.invNorm) / s.invScale : y / s.invScale;
}

export function scaleValue(spec: Pick<FeatureSpec, 'scaling'>, metric: MetricName, x: number): number {
  return scaleWith(makeScaler(metric, spec.scaling[metric]), x);
}

export function unscaleValue(spec: Pick<FeatureSpec, 'scaling'>, metric: MetricName, y: number): number {
  return unscaleWith(makeScaler(metric, spec.scaling[metric]), y);
}

/**
 * Model output back to contract units: `values` laid out (..., targets.length, inner), e.g. the
 * quantile forecast (B, horizonSteps, targets.length, quantiles.length) with inner =
 * quantiles.length, or a batch's targets (B, horizonSteps, targets.length) with inner = 1.
 * Returns a new float64 array of the same layout.
 */
export function unscaleTargets(
  spec: Pick<FeatureSpec, 'scaling' | 'targets'>,
  values: ArrayLike<number>,
  inner = 1,
): Float64Array {
  const scalers = spec.targets.map((m) => makeScaler(m, spec.scaling[m]));
  const per = scalers.length * inner;
  if (values.length % per !== 0)
    throw new Error(`unscaleTargets: length ${values.length} is not a multiple of targets x inner = ${per}`);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = unscaleWith(scalers[Math.floor((i % per) / inner)]!, values[i]!);
  return out;
}
