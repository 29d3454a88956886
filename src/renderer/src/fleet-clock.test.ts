import { describe, expect, it } from 'vitest';
import {
  estimateRate,
  fleetNow,
  formatRate,
  newestReading,
  pushReading,
  roundRate,
  type ClockReading,
} from './fleet-clock';

const at = (wallMs: number, fleetMs: number): ClockReading => ({ wallMs, fleetMs });

describe('the fleet clock', () => {
  it('estimates the speed once readings span 2 s', () => {
    let r = pushReading([], at(0, 1_000_000));
    r = pushReading(r, at(1_000, 1_300_000));
    expect(estimateRate(r)).toBeNull();
    r = pushReading(r, at(2_000, 1_600_000));
    expect(estimateRate(r)).toBe(300);
    // Jittery arrivals still round to what the simulator was told.
    expect(roundRate(estimateRate([at(0, 0), at(5_040, 300_000)])!)).toBe(60);
    expect(formatRate(59.6)).toBe('60×');
    expect(formatRate(2.47)).toBe('2.5×');
    expect(formatRate(1.04)).toBe('1×');
  });

  it('forgets readings older than the window but always keeps two', () => {
    let r: ClockReading[] = [];
    for (let t = 0; t <= 120_000; t += 10_000) r = pushReading(r, at(t, t * 60));
    expect(r[0]!.wallMs).toBe(60_000);
    // A slow fleet: one event per 5 minutes still gives a rate.
    r = pushReading(pushReading([], at(0, 0)), at(300_000, 300_000));
    expect(r).toHaveLength(2);
    expect(estimateRate(r)).toBe(1);
  });

  it('starts over when the fleet clock goes back (a restarted daemon) and ignores late readings', () => {
    let r = [at(0, 5_000_000), at(3_000, 5_900_000)];
    r = pushReading(r, at(4_000, 1_000));
    expect(r).toEqual([at(4_000, 1_000)]);
    expect(pushReading(r, at(3_500, 2_000))).toEqual(r);
    expect(pushReading(r, at(5_000, Number.NaN))).toEqual(r);
  });

  it('extrapolates forward only, at rate 1 while the rate is unknown', () => {
    const reading = at(10_000, 1_000_000);
    expect(fleetNow(reading, 60, 12_000)).toBe(1_120_000);
    expect(fleetNow(reading, null, 12_000)).toBe(1_002_000);
    expect(fleetNow(reading, 60, 9_000)).toBe(1_000_000);
    expect(newestReading(reading, at(11_000, 0))).toEqual(at(11_000, 0));
    expect(newestReading(null, reading)).toBe(reading);
    expect(newestReading(reading, null)).toBe(reading);
  });
});
