import fc from 'fast-check';
import type { Incident } from '@shared/domain';
import { describe, expect, it } from 'vitest';
import { defaultFleet } from '../metrics/simulator/fleet-sim';
import { generateFleet } from '../metrics/simulator/generate';
import { CASCADE_FOLLOW_WINDOW_MS, combineUpstreamRisk, fitCascadeCoefficient } from './upstream-risk';

const HOUR = 3_600_000;

function incident(server: string, onset: number, hours = 1, type: Incident['type'] = 'memory_leak'): Incident {
  return {
    id: `${server}-${onset}`,
    server,
    type,
    onset,
    end: onset + hours * HOUR,
    precursor: true,
    precursorStart: onset - 2 * HOUR,
    metric: 'memory_percent',
    cause: null,
  };
}

describe('combineUpstreamRisk', () => {
  it('adds the carried share of the upstream risk as an independent second cause', () => {
    expect(combineUpstreamRisk(0.1, 0.8, 0.25)).toBeCloseTo(1 - 0.9 * 0.8, 12);
    expect(combineUpstreamRisk(0.3, 0, 0.5)).toBe(0.3);
    expect(combineUpstreamRisk(0.3, 0.9, 0)).toBe(0.3);
    expect(combineUpstreamRisk(0, 1, 1)).toBe(1);
    // Out-of-range inputs are clamped, never produce a risk outside [0, 1].
    expect(combineUpstreamRisk(Number.NaN, 2, 2)).toBe(1);
    expect(combineUpstreamRisk(-1, -1, 0.5)).toBe(0);
  });

  it('is a probability, never below the model risk, never above model + carried, and grows with the upstream', () => {
    const p = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(p, p, p, p, (r, u1, u2, c) => {
        const [lo, hi] = u1 <= u2 ? [u1, u2] : [u2, u1];
        const a = combineUpstreamRisk(r, lo, c);
        const b = combineUpstreamRisk(r, hi, c);
        expect(a).toBeGreaterThanOrEqual(r - 1e-12);
        expect(a).toBeLessThanOrEqual(Math.min(1, r + c * lo) + 1e-12);
        expect(b).toBeGreaterThanOrEqual(a - 1e-12);
      }),
    );
  });
});

describe('fitCascadeCoefficient', () => {
  const topology = new Map([
    ['web1', 'db1'],
    ['web2', 'db1'],
    ['etl1', 'db2'],
  ]);

  it('counts (upstream incident, dependent) pairs and the dependents that failed within the window after', () => {
    const t = Date.UTC(2026, 0, 5, 12);
    const fit = fitCascadeCoefficient(
      [
        incident('db1', t),
        incident('web1', t + 10 * 60_000, 1, 'cascading_failure'), // followed
        incident('web2', t + CASCADE_FOLLOW_WINDOW_MS + 60_000), // too late: not followed
        incident('db2', t + 5 * HOUR),
        incident('etl1', t + 5 * HOUR - 30 * 60_000, 2), // already failing at the upstream's onset: not a pair
        incident('web1', t - 3 * HOUR), // before: not followed
      ],
      topology,
    );
    expect(fit).toEqual({ coefficient: 0.5, pairs: 2, followed: 1, followWindowMinutes: 60 });
  });

  it('is null without a topology or without an upstream incident', () => {
    const t = Date.UTC(2026, 0, 5, 12);
    expect(fitCascadeCoefficient([incident('db1', t)], new Map())).toBeNull();
    expect(fitCascadeCoefficient([incident('web1', t)], topology)).toBeNull();
  });

  it("on a simulated month, counts about the simulator's share of dependents that follow a failing database", () => {
    const fleet = generateFleet({ seed: 'cascade-fit', start: Date.UTC(2026, 0, 5), servers: defaultFleet(60), hours: 24 * 30 });
    const fit = fitCascadeCoefficient(fleet.incidents, fleet.dependencies)!;
    expect(fit.pairs).toBeGreaterThan(50);
    // DEFAULT_RATES.cascadeProbability is 0.35 at typical load; dependents already in an
    // incident, sudden database failures at night and the 1 h window all move the count a little.
    expect(fit.coefficient).toBeGreaterThan(0.15);
    expect(fit.coefficient).toBeLessThan(0.5);
  });
});
