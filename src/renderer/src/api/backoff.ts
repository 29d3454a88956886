export interface BackoffOptions {
  /** Delay before the first retry, before jitter (ms). */
  initialMs: number;
  /** Ceiling for any delay (ms). */
  maxMs: number;
  /** Uniform [0, 1); injectable so tests are deterministic. */
  random: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000, random: Math.random };

/**
 * Delay before reconnect attempt `attempt` (0 for the first retry): capped exponential growth
 * with "equal jitter", a uniform pick in [base/2, base]. The jitter spreads out dashboards that
 * all lost the same daemon, so they do not hammer it in lockstep when it comes back; keeping
 * half the base stops a lucky draw from retrying at once.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const { initialMs, maxMs, random } = options;
  // Clamp the exponent: 2 ** 1000 is Infinity, and the cap is reached long before anyway.
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const base = Math.min(maxMs, initialMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(base / 2 + (base / 2) * r);
}
