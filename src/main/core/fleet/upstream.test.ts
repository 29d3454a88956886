import { describe, expect, it } from 'vitest';
import type { ServerPrediction } from '@shared/domain';
import { combineUpstreamRisk } from '../model/upstream-risk';
import { MAX_DRIVERS, type ServerExplanation } from './explain';
import { applyUpstreams, withUpstream, withUpstreamDriver, type UpstreamInput } from './upstream';

/** A decoded prediction (the model's alone); the forecast plays no part here. */
function prediction(server: string, risk: number, failureModes: Record<string, number> = MODES): ServerPrediction {
  const best = Object.entries(failureModes).reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    server,
    profile: 'web_api',
    risk,
    failureMode: best[0],
    failureModes,
    knownServer: true,
    coverage: 1,
    forecast: [],
  };
}

const MODES = { none: 0.1, memory: 0.6, disk: 0.2, dependency: 0.1 };
const sum = (xs: Record<string, number>): number => Object.values(xs).reduce((a, b) => a + b, 0);

describe('withUpstream', () => {
  it("combines the model's risk with the upstream's, and says what went into it", () => {
    const out = withUpstream(prediction('ppweb001', 0.1), { server: 'ppdb003', risk: 0.6 }, 0.5);
    // 1 - (1 - 0.1) x (1 - 0.5 x 0.6)
    expect(out.risk).toBeCloseTo(0.37, 10);
    expect(out.risk).toBeCloseTo(combineUpstreamRisk(0.1, 0.6, 0.5), 10);
    expect(out.upstream).toEqual({ server: 'ppdb003', risk: 0.6, modelRisk: 0.1, coefficient: 0.5 });
    expect(out.forecast).toEqual([]);
    expect(out.server).toBe('ppweb001');
  });

  it('mixes the failure modes by the two causes: the upstream share goes to dependency, the sum stays 1', () => {
    // r = 0.1 (the model), u = 0.5 x 0.6 = 0.3 (the upstream): (r x modes + u x onehot) / 0.4.
    const out = withUpstream(prediction('ppweb001', 0.1), { server: 'ppdb003', risk: 0.6 }, 0.5);
    expect(out.failureModes).toEqual({
      none: expect.closeTo(0.025, 6),
      memory: expect.closeTo(0.15, 6),
      disk: expect.closeTo(0.05, 6),
      dependency: expect.closeTo(0.775, 6),
    });
    expect(Object.keys(out.failureModes)).toEqual(Object.keys(MODES));
    expect(sum(out.failureModes)).toBeCloseTo(1, 4);
    expect(out.failureMode).toBe('dependency');

    // A faint upstream leaves the model's mode on top.
    const faint = withUpstream(prediction('ppweb001', 0.4), { server: 'ppdb003', risk: 0.05 }, 0.5);
    expect(faint.failureMode).toBe('memory');
    // Five significant digits each, as decodePredictions rounds them.
    expect(sum(faint.failureModes)).toBeCloseTo(1, 4);
    expect(faint.failureModes['dependency']).toBeGreaterThan(MODES.dependency);
  });

  it('keeps the modes of a model without a dependency mode, and when neither cause has any weight', () => {
    const noDependency = { none: 0.5, memory: 0.3, disk: 0.2 };
    const out = withUpstream(prediction('ppweb001', 0.2, noDependency), { server: 'ppdb003', risk: 0.9 }, 0.5);
    expect(out.failureModes).toEqual(noDependency);
    expect(out.failureMode).toBe('none');
    expect(out.risk).toBeCloseTo(combineUpstreamRisk(0.2, 0.9, 0.5), 10);

    const zero = withUpstream(prediction('ppweb001', 0), { server: 'ppdb003', risk: 0 }, 0.5);
    expect(zero.failureModes).toEqual(MODES);
    expect(zero.risk).toBe(0);
    expect(zero.upstream).toEqual({ server: 'ppdb003', risk: 0, modelRisk: 0, coefficient: 0.5 });
  });

  it('is a no-op without a coefficient', () => {
    const p = prediction('ppweb001', 0.1);
    expect(withUpstream(p, { server: 'ppdb003', risk: 0.9 }, 0)).toBe(p);
    expect(withUpstream(p, { server: 'ppdb003', risk: 0.9 }, Number.NaN)).toBe(p);
  });
});

describe('applyUpstreams', () => {
  const input = (dependencyOf: Record<string, string>, previous: Record<string, number> = {}): UpstreamInput => ({
    dependencyOf: new Map(Object.entries(dependencyOf)),
    coefficient: 0.5,
    previous: new Map(Object.entries(previous)),
  });

  it("takes an upstream's served risk from this chunk, resolving dependencies within it first, and from the chunks before", () => {
    // ppapp001 -> ppweb001 -> ppdb001, the dependents first in the chunk; pprisk001's upstream was in an earlier chunk.
    const served = new Map([['ppdb000', 0.8]]);
    const chunk = [
      prediction('ppapp001', 0.1),
      prediction('ppweb001', 0.2),
      prediction('ppdb001', 0.6),
      prediction('pprisk001', 0.1),
    ];
    const out = applyUpstreams(
      chunk,
      input({ ppapp001: 'ppweb001', ppweb001: 'ppdb001', pprisk001: 'ppdb000' }, { ppdb001: 0.99, ppweb001: 0.99 }),
      served,
      () => false,
    );
    expect(out.map((p) => p.server)).toEqual(chunk.map((p) => p.server));
    const web = combineUpstreamRisk(0.2, 0.6, 0.5);
    expect(out[1]!.risk).toBeCloseTo(web, 5);
    expect(out[1]!.upstream).toMatchObject({ server: 'ppdb001', risk: 0.6, modelRisk: 0.2 });
    expect(out[0]!.risk).toBeCloseTo(combineUpstreamRisk(0.1, web, 0.5), 5);
    expect(out[0]!.upstream?.risk).toBeCloseTo(web, 5);
    expect(out[2]).toBe(chunk[2]);
    expect(out[3]!.risk).toBeCloseTo(combineUpstreamRisk(0.1, 0.8, 0.5), 5);
    // Every served risk is there for the chunks after.
    expect(served.get('ppweb001')).toBe(out[1]!.risk);
    expect(served.get('ppdb001')).toBe(0.6);
    expect(served.size).toBe(5);
  });

  it("takes the previous cycle's risk for an upstream a later chunk predicts, and none for one this cycle skipped", () => {
    const chunk = [prediction('ppweb001', 0.2), prediction('ppweb002', 0.2), prediction('ppweb003', 0.2)];
    const out = applyUpstreams(
      chunk,
      input(
        { ppweb001: 'ppdb009', ppweb002: 'ppdb000', ppweb003: 'ppgone' },
        { ppdb009: 0.7, ppdb000: 0.7, ppgone: 0.7 },
      ),
      new Map(),
      (server) => server === 'ppdb009',
    );
    expect(out[0]!.risk).toBeCloseTo(combineUpstreamRisk(0.2, 0.7, 0.5), 5);
    expect(out[0]!.upstream?.server).toBe('ppdb009');
    // ppdb000 came before and was skipped, ppgone is not predicted at all: no term.
    expect(out[1]).toBe(chunk[1]);
    expect(out[2]).toBe(chunk[2]);
  });

  it('closes a loop with the previous risk, and ignores a server named as its own upstream', () => {
    const chunk = [prediction('a', 0.1), prediction('b', 0.1), prediction('c', 0.3)];
    const out = applyUpstreams(chunk, input({ a: 'b', b: 'a', c: 'c' }, { a: 0.4 }), new Map(), () => false);
    // a needs b, b needs a (still being resolved): b takes a's previous risk, a takes b's served one.
    const b = combineUpstreamRisk(0.1, 0.4, 0.5);
    expect(out[1]!.risk).toBeCloseTo(b, 5);
    expect(out[0]!.risk).toBeCloseTo(combineUpstreamRisk(0.1, b, 0.5), 5);
    expect(out[2]).toBe(chunk[2]);
  });
});

describe('withUpstreamDriver', () => {
  const explanation: ServerExplanation = {
    variables: [],
    attention: { times: [], weights: [] },
    drivers: [
      'memory_percent rose from 40 % to 80 % over the last 4 h: the largest driver of this prediction',
      'disk_percent flat at 60 % over the last 4 h',
      'cpu_percent flat at 20 % over the last 4 h',
    ],
  };

  it('puts the upstream first, keeping at most MAX_DRIVERS sentences', () => {
    const p = withUpstream(prediction('ppweb001', 0.12), { server: 'ppdb003', risk: 0.64 }, 0.31);
    const out = withUpstreamDriver(explanation, p);
    expect(out.drivers[0]).toBe(
      'depends on ppdb003, at 64 % risk: incidents there took a dependent down 31 % of the time in training (+17 points)',
    );
    expect(out.drivers).toHaveLength(MAX_DRIVERS);
    // One point is one point.
    const small = withUpstreamDriver(explanation, withUpstream(prediction('ppweb001', 0.03), { server: 'ppdb003', risk: 0.04 }, 0.28));
    expect(small.drivers[0]).toMatch(/\(\+1 point\)$/);
    expect(out.drivers.slice(1)).toEqual([
      'memory_percent rose from 40 % to 80 % over the last 4 h: the largest driver of its own risk',
      ...explanation.drivers.slice(1, MAX_DRIVERS - 1),
    ]);
    expect(out.variables).toBe(explanation.variables);

    const short = withUpstreamDriver({ ...explanation, drivers: explanation.drivers.slice(0, 1) }, p);
    expect(short.drivers).toHaveLength(2);
  });

  it('gives a small addition a decimal, and leaves an explanation without an upstream as it is', () => {
    const faint = withUpstream(prediction('ppweb001', 0.12), { server: 'ppdb003', risk: 0.01 }, 0.31);
    expect(withUpstreamDriver(explanation, faint).drivers[0]).toMatch(/at 1 % risk: .* \(\+0\.3 points\)$/);
    expect(withUpstreamDriver(explanation, prediction('ppweb001', 0.12))).toBe(explanation);
  });
});
