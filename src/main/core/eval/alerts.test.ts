import { describe, expect, it } from 'vitest';
import {
  alertIndices,
  alertOutcome,
  candidateThresholds,
  chooseThreshold,
  leadTimes,
  onsetsByServer,
  serverWeeks,
  type ScoredPoints,
} from './alerts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const STRIDE = 30 * MIN;

/** One server's points every 30 min from 0 (or at the given times). */
function pointsOf(times: number[], slots?: number[], servers = ['a', 'b']): ScoredPoints {
  return { slot: Int32Array.from(slots ?? times.map(() => 0)), time: Float64Array.from(times), servers };
}
const grid = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i * STRIDE);

describe('alerts', () => {
  it('fires on crossing above the threshold and re-arms after the score drops below', () => {
    const p = pointsOf(grid(8));
    expect(alertIndices(p, [0, 1, 1, 0, 1, 0.5, 0.9, 1], 0.9)).toEqual([1, 4, 6]);
    // >= threshold counts as over.
    expect(alertIndices(p, [0.9, 0.9, 0, 0, 0, 0, 0, 0], 0.9)).toEqual([0]);
  });

  it('re-arms on a new server and after a gap in the points (an incident)', () => {
    const p = pointsOf([0, STRIDE, 2 * STRIDE, 10 * STRIDE, 11 * STRIDE, 0, STRIDE], [0, 0, 0, 0, 0, 1, 1]);
    expect(alertIndices(p, [1, 1, 1, 1, 1, 1, 1], 0.5)).toEqual([0, 3, 5]);
  });

  it('counts a false alarm when no incident begins within 8 h after the alert', () => {
    const p = pointsOf(grid(48));
    const scores = new Array<number>(48).fill(0);
    scores[2] = 1; // t = 1 h; onset at 9 h is within (1 h, 9 h]: true alarm
    scores[30] = 1; // t = 15 h; no onset after: false alarm
    const onsets = onsetsByServer([{ server: 'a', onset: 9 * HOUR }]);
    const o = alertOutcome(p, scores, 0.5, onsets);
    expect(o.alerts).toBe(2);
    expect(o.falseAlarms).toBe(1);
    // An onset exactly at t is not "after" t: still a false alarm.
    expect(alertOutcome(p, scores, 0.5, onsetsByServer([{ server: 'a', onset: 15 * HOUR }])).falseAlarms).toBe(2);
    // One at t + 8 h exactly is within (t, t + 8 h].
    expect(
      alertOutcome(
        p,
        scores,
        0.5,
        onsetsByServer([
          { server: 'a', onset: 23 * HOUR },
          { server: 'a', onset: 9 * HOUR },
        ]),
      ).falseAlarms,
    ).toBe(0);
  });

  it('warns an incident only for an alert in [onset - 8 h, onset - 30 min], lead = onset - earliest such alert', () => {
    const alerts = new Map([['a', [1 * HOUR, 5 * HOUR, 9.75 * HOUR]]]);
    const incidents = [
      { server: 'a', onset: 10 * HOUR }, // alerts at 5 h (lead 5 h) and 9.75 h (too late: 15 min)
      { server: 'a', onset: 9.5 * HOUR }, // 1 h is 8.5 h before: too early; 5 h: lead 4.5 h
      { server: 'a', onset: 5.25 * HOUR }, // 5 h is 15 min before: too late; 1 h: lead 4.25 h
      { server: 'a', onset: 5.5 * HOUR }, // 1 h (4.5 h) is the earliest inside
      { server: 'a', onset: 0.25 * HOUR }, // nothing before
      { server: 'b', onset: 10 * HOUR }, // other server
      { server: 'a', onset: 9 * HOUR }, // 1 h is exactly 8 h before: counts
    ];
    expect(leadTimes(incidents, alerts)).toEqual([5 * HOUR, 4.5 * HOUR, 4.25 * HOUR, 4.5 * HOUR, null, null, 8 * HOUR]);
    expect(leadTimes([{ server: 'a', onset: 5.5 * HOUR }], new Map([['a', [5 * HOUR]]]))).toEqual([30 * MIN]);
  });

  it('measures server-weeks as points x 30 min', () => {
    expect(serverWeeks(pointsOf(grid(336)))).toBeCloseTo(1, 12);
  });

  it('chooses the lowest threshold at which it and every higher one stay within the false-alarm budget', () => {
    // One server, 2 weeks (672 points); false spikes of height 0.3, 0.5, 0.7 (x1 each) and a true one.
    const n = 672;
    const p = pointsOf(grid(n));
    const scores = new Array<number>(n).fill(0.1);
    scores[100] = 0.7;
    scores[200] = 0.5;
    scores[300] = 0.3;
    scores[400] = 0.9; // onset 2 h later
    const onsets = onsetsByServer([{ server: 'a', onset: 400 * STRIDE + 2 * HOUR }]);
    // Budget 1/week over 2 weeks: 2 false alarms allowed -> 0.5 (0.3 would make 3).
    expect(chooseThreshold(p, scores, onsets, 1).threshold).toBe(0.5);
    expect(chooseThreshold(p, scores, onsets, 1).falseAlarmsPerServerWeek).toBeCloseTo(1, 12);
    // Budget 0.5/week: 1 false alarm -> 0.7.
    expect(chooseThreshold(p, scores, onsets, 0.5).threshold).toBe(0.7);
    // Budget 0: only the true alarm.
    expect(chooseThreshold(p, scores, onsets, 0).threshold).toBe(0.9);
  });

  it('does not pick a low threshold that alerts once and never re-arms', () => {
    const n = 336;
    const p = pointsOf(grid(n));
    const scores = Array.from({ length: n }, (_, i) => 0.2 + (i % 2) * 0.2); // flickers 0.2/0.4: many alerts at 0.4
    // Threshold 0.2 = the lowest score: one alert (a false one) then never below -> 1/week passes,
    // but 0.4 above it fails (168 alerts): walking down stops there.
    const choice = chooseThreshold(p, scores, new Map(), 1);
    expect(choice.threshold).toBeGreaterThan(0.4);
  });

  it('candidate thresholds are the distinct scores, thinned to at most max', () => {
    expect(candidateThresholds([3, 1, 2, 2, 1])).toEqual([1, 2, 3]);
    const many = candidateThresholds(
      Array.from({ length: 1000 }, (_, i) => i),
      11,
    );
    expect(many).toEqual([0, 100, 200, 300, 400, 500, 599, 699, 799, 899, 999]);
  });
});
