import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopDelayMonitor } from './event-loop';
import { startTestDaemon } from './testing';

/** Holds the event loop for `ms` (what a synchronous hot path would do). */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/** `name{labels} value` lines of the exposition, by series (name plus labels). */
function series(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}

describe('EventLoopDelayMonitor', () => {
  const monitors: EventLoopDelayMonitor[] = [];
  afterEach(() => {
    for (const m of monitors.splice(0)) m.stop();
  });
  const start = (...args: ConstructorParameters<typeof EventLoopDelayMonitor>): EventLoopDelayMonitor => {
    const m = new EventLoopDelayMonitor(...args);
    monitors.push(m);
    return m;
  };

  it('reads ~0 on an idle loop (the resolution is subtracted) and sees a 200 ms busy-wait in the max', async () => {
    const monitor = start();
    expect(monitor.snapshot()).toMatchObject({ quantiles: [], maxSeconds: null, count: 0, sumSeconds: 0 });
    // A few samples (a loaded machine may run the 10 ms timer much less often than 100 times a second).
    for (let waited = 0; monitor.snapshot().count < 5 && waited < 3000; waited += 50) await sleep(50);
    const idle = monitor.snapshot();
    expect(idle.count).toBeGreaterThanOrEqual(5);
    expect(idle.quantiles.map((q) => q.q)).toEqual([0.5, 0.9, 0.99]);
    // Idle: the median sample is the 10 ms interval itself, so ~0 once it is subtracted (a loaded machine: < 50 ms).
    expect(idle.quantiles[0]!.seconds).toBeGreaterThanOrEqual(0);
    expect(idle.quantiles[0]!.seconds).toBeLessThan(0.05);

    busyWait(200);
    await sleep(30);
    const after = monitor.snapshot();
    expect(after.maxSeconds).toBeGreaterThanOrEqual(0.17);
    expect(after.maxSeconds).toBeLessThan(2);
    expect(after.sumSeconds).toBeGreaterThanOrEqual(0.17);
    expect(after.count).toBeGreaterThan(idle.count);
  });

  it('forgets a stall once it leaves the sliding window (between window/2 and window long)', async () => {
    const monitor = start({ windowMs: 400 });
    await sleep(20);
    busyWait(300);
    const stallEnded = performance.now();
    await sleep(20);
    const stalled = monitor.snapshot().maxSeconds!;
    expect(stalled).toBeGreaterThanOrEqual(0.27);
    // Rotations every 200 ms reset the halves in turn: wait until the window starts after the stall
    // (two rotations; longer when a loaded machine delays the timers).
    const windowAfterStall = () => monitor.snapshot().windowSeconds * 1000 < performance.now() - stallEnded;
    for (let waited = 0; !windowAfterStall() && waited < 5000; waited += 50) await sleep(50);
    expect(windowAfterStall()).toBe(true);
    const later = monitor.snapshot();
    expect(later.windowSeconds).toBeGreaterThan(0);
    expect(later.windowSeconds).toBeLessThan(2); // 0.2 to 0.4 s, unless the machine delays the timers
    // The stall is out of the window (another stall as long would have to hit these few hundred ms).
    expect(later.maxSeconds ?? 0).toBeLessThan(stalled);
    // _sum and _count are totals since start: the stall is still in them.
    expect(later.sumSeconds).toBeGreaterThanOrEqual(0.27);
  });

  it('stops sampling on stop() (no timer left behind), and stop() twice is harmless', async () => {
    const monitor = start({ windowMs: 100 });
    await sleep(60);
    monitor.stop();
    const stopped = monitor.snapshot().count;
    await sleep(120);
    expect(monitor.snapshot().count).toBe(stopped);
    expect(() => monitor.stop()).not.toThrow();
  });
});

describe('event-loop delay on /metrics over HTTP', () => {
  let env: Awaited<ReturnType<typeof startTestDaemon>> | undefined;
  afterEach(async () => {
    await env?.stop();
    env = undefined;
  });

  it('exposes the summary, the max and the window as numbers, and a blocked loop shows in the max', async () => {
    env = await startTestDaemon();
    const scrape = async (): Promise<{ text: string; values: Map<string, string> }> => {
      const response = await fetch(`${env!.daemon.url}/metrics`);
      expect(response.status).toBe(200);
      const text = await response.text();
      return { text, values: series(text) };
    };
    let first = await scrape();
    // The first samples (a loaded machine may take a while to run the 10 ms timer).
    for (let waited = 0; !first.values.has('tftmp_event_loop_delay_max_seconds') && waited < 3000; waited += 50) {
      await sleep(50);
      first = await scrape();
    }
    expect(first.text).toContain('# TYPE tftmp_event_loop_delay_seconds summary');
    expect(first.text).toContain('# TYPE tftmp_event_loop_delay_max_seconds gauge');
    const names = [
      'tftmp_event_loop_delay_seconds{quantile="0.5"}',
      'tftmp_event_loop_delay_seconds{quantile="0.9"}',
      'tftmp_event_loop_delay_seconds{quantile="0.99"}',
      'tftmp_event_loop_delay_seconds_sum',
      'tftmp_event_loop_delay_seconds_count',
      'tftmp_event_loop_delay_max_seconds',
      'tftmp_event_loop_delay_window_seconds',
    ];
    for (const name of names) {
      const value = first.values.get(name);
      expect(value, name).toMatch(/^\d+(\.\d+)?(e-?\d+)?$/);
      expect(Number(value), name).toBeGreaterThanOrEqual(0);
    }
    expect(Number(first.values.get('tftmp_event_loop_delay_seconds_count'))).toBeGreaterThan(0);
    // Whatever the first scrape saw (the daemon's start-up work), the quantiles are ordered.
    const q = (values: Map<string, string>, quantile: string) =>
      Number(values.get(`tftmp_event_loop_delay_seconds{quantile="${quantile}"}`));
    expect(q(first.values, '0.5')).toBeLessThanOrEqual(q(first.values, '0.99'));
    expect(q(first.values, '0.99')).toBeLessThanOrEqual(Number(first.values.get('tftmp_event_loop_delay_max_seconds')));

    busyWait(200);
    await sleep(30);
    const second = await scrape();
    const max = Number(second.values.get('tftmp_event_loop_delay_max_seconds'));
    expect(max).toBeGreaterThanOrEqual(0.17);
    expect(max).toBeLessThan(5);
    expect(Number(second.values.get('tftmp_event_loop_delay_seconds_sum'))).toBeGreaterThanOrEqual(0.17);
    // A scrape reads, it does not reset: the next one still sees the stall.
    const third = await scrape();
    expect(Number(third.values.get('tftmp_event_loop_delay_max_seconds'))).toBeGreaterThanOrEqual(0.17);
  });
});
