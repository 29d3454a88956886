import { useSyncExternalStore } from 'react';

/** A clock that reads the time every `intervalMs` while anyone listens. */
class Ticker {
  private now = Date.now();
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly intervalMs: number) {}

  readonly subscribe = (onChange: () => void): (() => void) => {
    this.listeners.add(onChange);
    if (this.timer === undefined) {
      this.now = Date.now();
      this.timer = setInterval(() => {
        this.now = Date.now();
        for (const listener of [...this.listeners]) listener();
      }, this.intervalMs);
    }
    return () => {
      this.listeners.delete(onChange);
      if (this.listeners.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  };

  readonly getSnapshot = (): number => this.now;
}

// One clock per interval for the whole page: every "x s ago" and uptime on screen ticks
// together instead of drifting a second apart.
const tickers = new Map<number, Ticker>();

function tickerFor(intervalMs: number): Ticker {
  let ticker = tickers.get(intervalMs);
  if (!ticker) {
    ticker = new Ticker(intervalMs);
    tickers.set(intervalMs, ticker);
  }
  return ticker;
}

/** The wall clock, re-read every `intervalMs` (shared by all components using the same interval). */
export function useNow(intervalMs: number): number {
  const ticker = tickerFor(intervalMs);
  return useSyncExternalStore(ticker.subscribe, ticker.getSnapshot);
}
