import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURE_SPEC, scaleValue, type FeatureSpec } from '../model/features';
import { bandIndices, decodePredictions } from './decode-predictions';

const spec: FeatureSpec = JSON.parse(JSON.stringify(DEFAULT_FEATURE_SPEC)) as FeatureSpec;
const H = spec.horizonSteps;
const M = spec.targets.length;
const Q = spec.quantiles.length;
const K = spec.failureModes.length;

/** The inverse the issue states, written independently of scaling.ts. */
function unscaleByHand(metric: FeatureSpec['targets'][number], y: number): number {
  const s = spec.scaling[metric];
  return s.kind === 'linear' ? y * s.scale : s.scale * Math.expm1(y * Math.log1p(s.reference / s.scale));
}

/** Within 1e-4 relative: values are float32 outputs rounded to five significant digits. */
function expectNear(actual: number | undefined, expected: number): void {
  expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(expected)));
}

describe('decodePredictions', () => {
  it('turns scaled quantiles into P10/P50/P90 in metric units, argmaxes the failure mode and keeps every probability', () => {
    const servers = ['ppdb001', 'ppweb001'];
    const quantiles = new Float32Array(servers.length * H * M * Q);
    // Server 0: every metric at scaled 0.2 / 0.3 / 0.4; server 1: the quantiles crossed (0.5, 0.1, 0.3).
    for (let b = 0; b < 2; b++)
      for (let h = 0; h < H; h++)
        for (let m = 0; m < M; m++) {
          const base = ((b * H + h) * M + m) * Q;
          quantiles.set(b === 0 ? [0.2, 0.3, 0.4] : [0.5, 0.1, 0.3], base);
        }
    const failureMode = new Float32Array(2 * K);
    failureMode.set([0.7, 0.1, 0.05, 0.05, 0.05, 0.03, 0.02], 0);
    failureMode.set([0.1, 0.05, 0.6, 0.1, 0.05, 0.05, 0.05], K);
    const out = decodePredictions(
      {
        spec,
        servers,
        profiles: ['database', 'web_api'],
        coverage: [1, 0.75],
        knownServers: new Set(['ppdb001']),
      },
      { quantiles, risk: [0.12, 0.83], failureMode },
    );

    expect(out.map((p) => [p.server, p.profile, p.risk, p.failureMode, p.knownServer, p.coverage])).toEqual([
      ['ppdb001', 'database', 0.12, 'none', true, 1],
      ['ppweb001', 'web_api', 0.83, 'disk', false, 0.75],
    ]);
    expect(Object.keys(out[1]!.failureModes)).toEqual(spec.failureModes);
    expect(out[1]!.failureModes['disk']).toBeCloseTo(0.6, 6);

    const [first] = out;
    expect(first!.forecast.map((f) => f.metric)).toEqual(spec.targets);
    for (const band of first!.forecast) {
      expect(band.p10).toHaveLength(H);
      expectNear(band.p10[0], unscaleByHand(band.metric, 0.2));
      expectNear(band.p50[H - 1], unscaleByHand(band.metric, 0.3));
      expectNear(band.p90[3], unscaleByHand(band.metric, 0.4));
    }
    // cpu 0.3 -> 30 %; latency log1p(10, 2000): 10 * expm1(0.3 * log1p(200)) ~ 39.1 ms.
    expect(first!.forecast[0]!.p50[0]).toBeCloseTo(30, 4);
    expect(first!.forecast.find((f) => f.metric === 'latency_ms')!.p50[0]).toBeCloseTo(39.13, 1);
    // Round trip through the pipeline's own scaling.
    expect(scaleValue(spec, 'latency_ms', first!.forecast.find((f) => f.metric === 'latency_ms')!.p50[0]!)).toBeCloseTo(
      0.3,
      4,
    );

    // Crossed quantiles come out sorted: P10 <= P50 <= P90 in every band.
    for (const band of out[1]!.forecast) {
      for (let h = 0; h < H; h++) {
        expect(band.p10[h]).toBeLessThanOrEqual(band.p50[h]!);
        expect(band.p50[h]).toBeLessThanOrEqual(band.p90[h]!);
      }
      expectNear(band.p10[0], unscaleByHand(band.metric, 0.1));
      expectNear(band.p90[0], unscaleByHand(band.metric, 0.5));
    }
  });

  it("clamps to the contract's range: no 104 % CPU, no negative latency", () => {
    const quantiles = new Float32Array(H * M * Q).fill(-0.5);
    for (let i = 2; i < quantiles.length; i += Q) quantiles[i] = 1.3;
    const [p] = decodePredictions(
      { spec, servers: ['x'], profiles: ['generic'], coverage: [1], knownServers: new Set() },
      { quantiles, risk: [1.0000001], failureMode: new Float32Array(K).fill(1 / K) },
    );
    const cpu = p!.forecast.find((f) => f.metric === 'cpu_percent')!;
    expect(cpu.p10[0]).toBe(0);
    expect(cpu.p90[0]).toBe(100);
    expect(p!.forecast.find((f) => f.metric === 'latency_ms')!.p10[0]).toBe(0);
    expect(p!.risk).toBe(1);
  });

  it('refuses outputs of the wrong size and a non-finite risk', () => {
    const input = {
      spec,
      servers: ['x'],
      profiles: ['generic' as const],
      coverage: [1],
      knownServers: new Set<string>(),
    };
    const ok = { quantiles: new Float32Array(H * M * Q), risk: [0.5], failureMode: new Float32Array(K) };
    expect(() => decodePredictions(input, { ...ok, risk: [0.5, 0.5] })).toThrow(/risk has 2 values, expected 1/);
    expect(() => decodePredictions(input, { ...ok, risk: [Number.NaN] })).toThrow(/non-finite risk/);
  });

  it('needs the 0.1, 0.5 and 0.9 quantiles', () => {
    expect(bandIndices(spec)).toEqual({ p10: 0, p50: 1, p90: 2 });
    expect(() => bandIndices({ quantiles: [0.25, 0.5, 0.75] })).toThrow(/without P10, P90/);
  });
});
