import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calendarAt, CalendarTable } from './calendar';
import { DEFAULT_FEATURE_SPEC as SPEC } from './feature-spec';
import { HOUR, MONDAY } from './testing/series';

const K = SPEC.known;
const at = (ms: number, offset = 0): Record<string, number> =>
  Object.fromEntries(calendarAt(ms, K, offset).map((v, i): [string, number] => [K[i]!, v]));

describe('calendar channels', () => {
  it('Monday 00:00 UTC is angle 0 for the day and the week, not a weekend', () => {
    const c = at(MONDAY);
    expect(c.hour_sin).toBeCloseTo(0, 12);
    expect(c.hour_cos).toBeCloseTo(1, 12);
    expect(c.dow_sin).toBeCloseTo(0, 12);
    expect(c.dow_cos).toBeCloseTo(1, 12);
    expect(c.weekend).toBe(0);
  });

  it('06:00 is a quarter day, Thursday 12:00 half a week, Saturday and Sunday are the weekend', () => {
    expect(at(MONDAY + 6 * HOUR).hour_sin).toBeCloseTo(1, 12);
    expect(at(MONDAY + 6 * HOUR).hour_cos).toBeCloseTo(0, 12);
    const thursdayNoon = at(MONDAY + 3.5 * 24 * HOUR);
    expect(thursdayNoon.dow_sin).toBeCloseTo(0, 12);
    expect(thursdayNoon.dow_cos).toBeCloseTo(-1, 12);
    expect(at(MONDAY + 5 * 24 * HOUR - 1).weekend).toBe(0); // Friday 23:59:59.999
    expect(at(MONDAY + 5 * 24 * HOUR).weekend).toBe(1); // Saturday 00:00
    expect(at(MONDAY + 7 * 24 * HOUR - 30 * 60_000).weekend).toBe(1); // Sunday 23:30
    expect(at(MONDAY + 7 * 24 * HOUR).weekend).toBe(0);
  });

  it('applies the fixed UTC offset', () => {
    expect(at(MONDAY - HOUR, 60)).toEqual(at(MONDAY));
    expect(at(MONDAY - HOUR).weekend).toBe(1); // Sunday 23:00 UTC
  });

  it('is right before 1970 too', () => {
    const c = at(Date.UTC(1969, 11, 29)); // a Monday
    expect(c.dow_cos).toBeCloseTo(1, 12);
    expect(c.weekend).toBe(0);
  });

  it("the table gives every window step its start's calendar", () => {
    const table = new CalendarTable(SPEC);
    const step = SPEC.stepMinutes * 60_000;
    const T = SPEC.contextSteps;
    const rows = T + SPEC.horizonSteps;
    fc.assert(
      fc.property(fc.integer({ min: -500_000, max: 2_000_000 }), (k) => {
        const t = k * step;
        const out = new Float32Array(rows * K.length);
        table.writeWindow(t, T, out, 0);
        const expected = Array.from({ length: rows }, (_, j) => calendarAt(t - (T - j) * step, K)).flat();
        for (let i = 0; i < out.length; i++)
          if (Math.abs(out[i]! - expected[i]!) > 1e-6) expect(out[i]).toBeCloseTo(expected[i]!, 6);
      }),
      { numRuns: 200 },
    );
  });
});
