import { stepMs, type FeatureSpec, type KnownChannel } from './feature-spec';

const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;
const WEEK = 7 * DAY;

/** Epoch day 0 (1970-01-01) was a Thursday: day index 3 when Monday is 0. */
const EPOCH_WEEKDAY = 3;

/**
 * The calendar channels of the instant `ms` (epoch ms; UTC shifted by `utcOffsetMinutes`).
 * Time of day and time of week are angles so 23:59 sits next to 00:00 and Sunday next to Monday;
 * the week angle is continuous (Monday 12:00 is half a day past Monday 00:00), Monday 00:00 = 0.
 */
export function calendarAt(ms: number, known: readonly string[], utcOffsetMinutes = 0): number[] {
  const local = ms + utcOffsetMinutes * MINUTE;
  const day = Math.floor(local / DAY);
  const minuteOfDay = (local - day * DAY) / MINUTE;
  const weekday = (((day + EPOCH_WEEKDAY) % 7) + 7) % 7;
  const dayAngle = (2 * Math.PI * minuteOfDay) / 1_440;
  const weekAngle = (2 * Math.PI * (weekday * 1_440 + minuteOfDay)) / (7 * 1_440);
  const value: Record<KnownChannel, number> = {
    hour_sin: Math.sin(dayAngle),
    hour_cos: Math.cos(dayAngle),
    dow_sin: Math.sin(weekAngle),
    dow_cos: Math.cos(weekAngle),
    weekend: weekday >= 5 ? 1 : 0,
  };
  return known.map((k) => value[k as KnownChannel]);
}

/**
 * The calendar of every step of a week, precomputed once per spec, since the channels are
 * periodic in a week and steps divide the week: a window's (contextSteps + horizonSteps, K) block
 * is then one contiguous copy. Row r describes the step that STARTS at r * step (mod a week); the
 * table runs on past the week by a window's length so no copy wraps.
 */
export class CalendarTable {
  readonly perWeek: number;
  private readonly rows: Float32Array;
  private readonly width: number;
  private readonly windowSteps: number;
  private readonly stepMs: number;

  constructor(spec: FeatureSpec) {
    this.stepMs = stepMs(spec);
    this.perWeek = WEEK / this.stepMs;
    this.width = spec.known.length;
    this.windowSteps = spec.contextSteps + spec.horizonSteps;
    const total = this.perWeek + this.windowSteps;
    this.rows = new Float32Array(total * this.width);
    for (let r = 0; r < total; r++)
      this.rows.set(calendarAt(r * this.stepMs, spec.known, spec.utcOffsetMinutes), r * this.width);
  }

  /**
   * Writes the (contextSteps + horizonSteps, K) calendar of the window at `t` into `out` at
   * `offset`. The first context step ends at t - (contextSteps - 1) * step, so starts at
   * t - contextSteps * step.
   */
  writeWindow(t: number, contextSteps: number, out: Float32Array, offset: number): void {
    const firstStart = Math.round(t / this.stepMs) - contextSteps;
    const r = ((firstStart % this.perWeek) + this.perWeek) % this.perWeek;
    out.set(this.rows.subarray(r * this.width, (r + this.windowSteps) * this.width), offset);
  }
}
