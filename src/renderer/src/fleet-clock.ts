/**
 * The fleet's clock as the dashboard sees it. The core stamps answers and `fleet.updated` with
 * `fleetTime`, which runs ahead of the wall clock when the simulator is accelerated; ages on
 * screen ("last seen 2 min ago") are measured against it, never against the browser's clock.
 * The contract does not carry the speed, so it is estimated from the readings.
 */

/** One observation: the fleet time the core sent, and when it arrived here (both ms since epoch). */
export interface ClockReading {
  fleetMs: number;
  wallMs: number;
}

/** Readings older than this (wall time) no longer count: a restarted daemon may run at another speed. */
export const RATE_WINDOW_MS = 60_000;
/** Two readings closer than this say too little: network jitter would dominate. */
export const MIN_RATE_SPAN_MS = 2_000;
/** The fleet clock is "ahead" only past this much (a minute of skew is just skew). */
export const AHEAD_THRESHOLD_MS = 60_000;

/**
 * Adds a reading to a window of readings, oldest first. A fleet clock that went backwards (a
 * restarted daemon) starts the window over; a reading older than the newest is ignored; readings older than `windowMs` drop out, though the
 * newest two always stay so a slow fleet (one event per 5 minutes) still has a rate.
 */
export function pushReading(
  readings: readonly ClockReading[],
  next: ClockReading,
  windowMs = RATE_WINDOW_MS,
): ClockReading[] {
  if (!Number.isFinite(next.fleetMs) || !Number.isFinite(next.wallMs)) return [...readings];
  const last = readings.at(-1);
  // Readings come from two streams (answers, events); one that arrives out of order adds nothing.
  if (last && next.wallMs <= last.wallMs) return [...readings];
  if (last && next.fleetMs < last.fleetMs) return [next];
  const kept = [...readings, next];
  while (kept.length > 2 && next.wallMs - kept[0]!.wallMs > windowMs) kept.shift();
  return kept;
}

/** Fleet ms per wall ms over the window; null until the readings span MIN_RATE_SPAN_MS. */
export function estimateRate(readings: readonly ClockReading[]): number | null {
  const first = readings[0];
  const last = readings.at(-1);
  if (!first || !last) return null;
  const wall = last.wallMs - first.wallMs;
  if (wall < MIN_RATE_SPAN_MS) return null;
  const rate = (last.fleetMs - first.fleetMs) / wall;
  return Number.isFinite(rate) && rate > 0 ? rate : null;
}

/** For people: two significant digits ("60", "300", "2.5"); 1 for anything within 10 % of real time. */
export function roundRate(rate: number): number {
  if (!Number.isFinite(rate) || rate <= 0) return 1;
  if (Math.abs(rate - 1) < 0.1) return 1;
  const magnitude = 10 ** (Math.floor(Math.log10(rate)) - 1);
  return Math.round(rate / magnitude) * magnitude;
}

/** "60×", "2.5×". */
export function formatRate(rate: number): string {
  const r = roundRate(rate);
  return `${Number(r.toPrecision(2))}×`;
}

/** The fleet time at `wallMs`, extrapolated from `reading` (never backwards from it). */
export function fleetNow(reading: ClockReading, rate: number | null, wallMs: number): number {
  return reading.fleetMs + Math.max(0, wallMs - reading.wallMs) * (rate ?? 1);
}

/** The newer of two readings (by arrival), either may be missing. */
export function newestReading(a: ClockReading | null, b: ClockReading | null): ClockReading | null {
  if (!a) return b;
  if (!b) return a;
  return b.wallMs > a.wallMs ? b : a;
}
