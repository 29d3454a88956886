import { describe, expect, it } from 'vitest';
import type { FleetScores } from './score-fleet';
import { withUpstreamRisk } from './evaluate';

const T = Date.UTC(2024, 3, 1);
const STEP = 30 * 60_000;

/** Scores for three servers: db (the upstream), web (depends on db), ml (no upstream). */
function scores(): FleetScores {
  const servers = ['db', 'web', 'ml'];
  // db has points at t0, t1 (t2 is inside its incident: no point); web and ml at t0..t2.
  const rows: [number, number, number][] = [
    [0, T, 0.5],
    [0, T + STEP, 0.9],
    [1, T, 0.1],
    [1, T + STEP, 0.2],
    [1, T + 2 * STEP, 0.3],
    [2, T, 0.4],
    [2, T + STEP, 0.4],
    [2, T + 2 * STEP, 0.4],
  ];
  return {
    points: { slot: Int32Array.from(rows, (r) => r[0]), time: Float64Array.from(rows, (r) => r[1]), servers },
    labels: new Uint8Array(rows.length),
    risk: Float64Array.from(rows, (r) => r[2]),
    profiles: ['database', 'web_api', 'ml_compute'],
    forecast: {},
    examples: [],
    range: new Map(),
  };
}

describe('withUpstreamRisk (the evaluation of the served risk)', () => {
  it("carries the upstream's risk at the same t, and leaves servers without an upstream point as they are", () => {
    const out = withUpstreamRisk(scores(), new Map([['web', 'db']]), 0.5);
    expect(Array.from(out.slice(0, 2))).toEqual([0.5, 0.9]);
    expect(out[2]).toBeCloseTo(1 - 0.9 * (1 - 0.25), 12);
    expect(out[3]).toBeCloseTo(1 - 0.8 * (1 - 0.45), 12);
    expect(out[4]).toBe(0.3); // db has no point at t2
    expect(Array.from(out.slice(5))).toEqual([0.4, 0.4, 0.4]);
  });

  it('is the model risk with no topology, an upstream outside the fleet, or a zero coefficient', () => {
    const s = scores();
    expect(Array.from(withUpstreamRisk(s, new Map(), 0.5))).toEqual(Array.from(s.risk));
    expect(Array.from(withUpstreamRisk(s, new Map([['web', 'elsewhere']]), 0.5))).toEqual(Array.from(s.risk));
    expect(Array.from(withUpstreamRisk(s, new Map([['web', 'db']]), 0))).toEqual(Array.from(s.risk));
  });
});
