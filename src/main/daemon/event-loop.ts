import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

/**
 * The process's event-loop delay for `/metrics`, measured with `perf_hooks.monitorEventLoopDelay`.
 *
 * Resolution: 10 ms (Node's default). The histogram's timer fires every 10 ms and records how long
 * it really took; work that holds the loop makes it fire late. A stall of 10 ms or more is always
 * seen whatever its phase, which is well under the 50 ms p99 target of `npm run bench:cycle`,
 * at 100 wake-ups a second; 1 ms would be 1,000 wake-ups to see stalls nobody alerts on. Node records the whole interval (about 10 ms on an idle loop), so the
 * resolution is subtracted: an idle loop reads ~0, a 200 ms busy-wait reads ~0.2 s.
 *
 * Window: quantiles and max cover a sliding window of between `windowMs / 2` and `windowMs`
 * (default 60 s, so 30 to 60 s), the way Prometheus client libraries age their summaries: two
 * histograms record the same samples, and every `windowMs / 2` the older one is reset, in turn;
 * a read uses the one that has run longer. Reading never resets anything, so two Prometheus
 * servers (or a curl) scraping the same daemon see the same figures and steal nothing from each
 * other. `_sum` and `_count` are totals since start, as a summary's are.
 */
export interface EventLoopDelaySnapshot {
  /** Seconds. Empty before the first sample. */
  quantiles: { q: number; seconds: number }[];
  /** Seconds; null before the first sample. */
  maxSeconds: number | null;
  /** How long the window the quantiles and max cover has run, in seconds. */
  windowSeconds: number;
  /** Since start: samples, and the delay they add up to (seconds). */
  count: number;
  sumSeconds: number;
}

export interface EventLoopDelayOptions {
  /** Sampling interval, ms (default 10). */
  resolutionMs?: number;
  /** The longest window the quantiles and max cover, ms (default 60,000; tests use less). */
  windowMs?: number;
  /** Quantiles to report (default 0.5, 0.9, 0.99). */
  quantiles?: readonly number[];
}

export const EVENT_LOOP_RESOLUTION_MS = 10;
export const EVENT_LOOP_WINDOW_MS = 60_000;
const QUANTILES = [0.5, 0.9, 0.99] as const;

interface Half {
  histogram: IntervalHistogram;
  since: number;
}

export class EventLoopDelayMonitor {
  private readonly resolutionNs: number;
  private readonly quantiles: readonly number[];
  private readonly halves: [Half, Half];
  /** Which half the next rotation resets (the older one). */
  private next = 0;
  private readonly rotation: NodeJS.Timeout;
  /** Totals of half 0's completed periods (it is the one that counts; both see the same samples). */
  private totalCount = 0;
  private totalSumNs = 0;
  private stopped = false;

  constructor(options: EventLoopDelayOptions = {}) {
    const resolutionMs = Math.max(1, Math.round(options.resolutionMs ?? EVENT_LOOP_RESOLUTION_MS));
    const windowMs = options.windowMs ?? EVENT_LOOP_WINDOW_MS;
    this.resolutionNs = resolutionMs * 1e6;
    this.quantiles = options.quantiles ?? QUANTILES;
    const start = (): Half => {
      const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
      histogram.enable();
      return { histogram, since: performance.now() };
    };
    this.halves = [start(), start()];
    // Half 1 is reset first, half a window from now: from then on the two are half a window apart.
    this.next = 1;
    this.rotation = setInterval(() => this.rotate(), Math.max(1, windowMs / 2));
    // Never what keeps the process alive: close() stops it, and a forgotten one must not hang exit.
    this.rotation.unref();
  }

  private rotate(): void {
    const half = this.halves[this.next]!;
    if (this.next === 0) this.addToTotals(half.histogram);
    half.histogram.reset();
    half.since = performance.now();
    this.next = 1 - this.next;
  }

  private addToTotals(histogram: IntervalHistogram): void {
    if (histogram.count === 0) return;
    this.totalCount += histogram.count;
    this.totalSumNs += Math.max(0, histogram.mean - this.resolutionNs) * histogram.count;
  }

  /** The delay beyond the sampling interval, in seconds, never below 0. */
  private seconds(ns: number): number {
    return Number((Math.max(0, ns - this.resolutionNs) / 1e9).toFixed(6));
  }

  snapshot(): EventLoopDelaySnapshot {
    const [a, b] = this.halves;
    // The half reset longer ago covers the longer window.
    const { histogram, since } = a.since <= b.since ? a : b;
    const counted = a.histogram;
    const count = this.totalCount + counted.count;
    const sumNs =
      this.totalSumNs + (counted.count > 0 ? Math.max(0, counted.mean - this.resolutionNs) * counted.count : 0);
    const windowSeconds = Number(((performance.now() - since) / 1000).toFixed(3));
    if (histogram.count === 0) {
      return { quantiles: [], maxSeconds: null, windowSeconds, count, sumSeconds: Number((sumNs / 1e9).toFixed(6)) };
    }
    return {
      quantiles: this.quantiles.map((q) => ({ q, seconds: this.seconds(histogram.percentile(q * 100)) })),
      maxSeconds: this.seconds(histogram.max),
      windowSeconds,
      count,
      sumSeconds: Number((sumNs / 1e9).toFixed(6)),
    };
  }

  /** Stops both histograms' timers and the rotation; idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.rotation);
    for (const half of this.halves) half.histogram.disable();
  }
}
