import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, PROFILES } from '@shared/contract';
import { INCIDENT_TYPES } from '@shared/domain';
import {
  DEFAULT_FEATURE_SPEC,
  parseObservedChannel,
  samplesPerStep,
  validateFeatureSpec,
  type FeatureSpec,
} from './feature-spec';

describe('DEFAULT_FEATURE_SPEC', () => {
  it('is valid and has the layout the model expects', () => {
    expect(() => validateFeatureSpec(DEFAULT_FEATURE_SPEC)).not.toThrow();
    expect(DEFAULT_FEATURE_SPEC).toMatchObject({
      stepMinutes: 30,
      contextSteps: 48,
      horizonSteps: 16,
      serverBuckets: 64,
    });
    expect(samplesPerStep(DEFAULT_FEATURE_SPEC)).toBe(6);
    expect(DEFAULT_FEATURE_SPEC.observed).toHaveLength(METRIC_NAMES.length * 3);
    expect(DEFAULT_FEATURE_SPEC.observed.slice(0, 3)).toEqual([
      'cpu_percent:mean',
      'cpu_percent:max',
      'cpu_percent:slope',
    ]);
    expect(DEFAULT_FEATURE_SPEC.known).toEqual(['hour_sin', 'hour_cos', 'dow_sin', 'dow_cos', 'weekend']);
    expect(DEFAULT_FEATURE_SPEC.targets).toEqual([
      'cpu_percent',
      'memory_percent',
      'disk_percent',
      'latency_ms',
      'error_rate',
    ]);
    expect(DEFAULT_FEATURE_SPEC.quantiles).toEqual([0.1, 0.5, 0.9]);
    expect(DEFAULT_FEATURE_SPEC.profiles).toEqual([...PROFILES]);
  });

  it('maps every incident type to a failure mode other than none', () => {
    for (const type of INCIDENT_TYPES) {
      const mode = DEFAULT_FEATURE_SPEC.failureModeOf[type];
      expect(DEFAULT_FEATURE_SPEC.failureModes.indexOf(mode!)).toBeGreaterThan(0);
    }
  });

  it('cannot be edited in place', () => {
    expect(() => DEFAULT_FEATURE_SPEC.observed.push('x')).toThrow(TypeError);
    expect(() => ((DEFAULT_FEATURE_SPEC.scaling.cpu_percent as { scale: number }).scale = 1)).toThrow(TypeError);
  });

  it('survives a JSON round trip (model.json carries it)', () => {
    const back = JSON.parse(JSON.stringify(DEFAULT_FEATURE_SPEC)) as FeatureSpec;
    expect(back).toEqual(DEFAULT_FEATURE_SPEC);
    expect(() => validateFeatureSpec(back)).not.toThrow();
  });
});

describe('validateFeatureSpec', () => {
  const broken =
    (patch: Partial<FeatureSpec>): (() => void) =>
    () =>
      validateFeatureSpec({ ...DEFAULT_FEATURE_SPEC, ...patch });

  it('names what is wrong', () => {
    expect(broken({ stepMinutes: 7 })).toThrow(/stepMinutes 7/);
    expect(broken({ stepMinutes: 50 })).toThrow(/divides a week/);
  });

  it('refuses unmapped incident types, bad channels, bad quantiles, another pipeline', () => {
    expect(broken({ failureModeOf: { memory_leak: 'memory' } })).toThrow(/disk_fill maps to nothing/);
    expect(broken({ observed: ['cpu_percent:median'] })).toThrow(/cpu_percent:median/);
    expect(broken({ observed: ['cpu:mean'] })).toThrow(/cpu:mean/);
    expect(broken({ known: ['moon_phase'] })).toThrow(/moon_phase/);
    expect(broken({ quantiles: [0.5, 0.1] })).toThrow(/quantiles/);
    expect(broken({ failureModes: ['memory', 'none'] })).toThrow(/"none"/);
    expect(broken({ pipelineVersion: 1 })).toThrow(/pipelineVersion 1/);
    expect(
      broken({ scaling: { ...DEFAULT_FEATURE_SPEC.scaling, latency_ms: { kind: 'log1p', scale: 10, reference: 0 } } }),
    ).toThrow(/latency_ms/);
  });

  it('parses channel names', () => {
    expect(parseObservedChannel('error_rate:max')).toEqual({ metric: 'error_rate', aggregate: 'max' });
  });
});
