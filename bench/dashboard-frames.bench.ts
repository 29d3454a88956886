import { expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, startServe } from '../e2e/harness';

/**
 * Dashboard frame benchmark: the daemon with a large simulated fleet (BENCH_SERVERS, default
 * 1,000, at BENCH_SPEED 300x: a new 5-minute step every second, a prediction cycle every six),
 * Debian's Chromium on each view in turn for BENCH_SECONDS (default 60). Measures the time
 * between animation frames (requestAnimationFrame deltas: p50, p95, p99, max, frames over 50 ms)
 * and the JS heap (CDP Performance metrics) at the start, the end and its peak, sampled every second.
 *
 *   npx electron-vite build --logLevel warn
 *   BENCH_SECONDS=20 npx vitest run --config bench/dashboard-frames.vitest.config.ts
 *
 * Prints one JSON line starting with {"bench":"dashboard-frames".
 */
const SERVERS = Number(process.env['BENCH_SERVERS'] ?? 1000);
const SPEED = Number(process.env['BENCH_SPEED'] ?? 300);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 60);
const VIEWS = (process.env['BENCH_VIEWS'] ?? 'overview,heatmap,detail,servers').split(',');

interface ViewResult {
  view: string;
  seconds: number;
  frames: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  over50Ms: number;
  heapStartMB: number;
  heapEndMB: number;
  heapPeakMB: number;
  domNodes: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

const round = (v: number, d = 1): number => Math.round(v * 10 ** d) / 10 ** d;

async function measure(page: Page, view: string, seconds: number): Promise<ViewResult> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const heap = async (): Promise<{ heap: number; nodes: number }> => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const get = (n: string): number => metrics.find((m) => m.name === n)?.value ?? NaN;
    return { heap: get('JSHeapUsedSize') / 2 ** 20, nodes: get('Nodes') };
  };
  // Start recording frame times in the page.
  await page.evaluate(() => {
    const g = globalThis as unknown as {
      __frames: number[];
      __stop: boolean;
      requestAnimationFrame(cb: (t: number) => void): number;
    };
    g.__frames = [];
    g.__stop = false;
    let last = -1;
    const tick = (t: number): void => {
      if (last >= 0) g.__frames.push(t - last);
      last = t;
      if (!g.__stop) g.requestAnimationFrame(tick);
    };
    g.requestAnimationFrame(tick);
  });
  const start = await heap();
  let peak = start.heap;
  let end = start;
  for (let s = 0; s < seconds; s++) {
    await page.waitForTimeout(1000);
    end = await heap();
    peak = Math.max(peak, end.heap);
  }
  const frames = await page.evaluate(() => {
    const g = globalThis as unknown as { __frames: number[]; __stop: boolean };
    g.__stop = true;
    return g.__frames;
  });
  await cdp.detach();
  const sorted = [...frames].sort((a, b) => a - b);
  return {
    view,
    seconds,
    frames: frames.length,
    p50Ms: round(quantile(sorted, 0.5)),
    p95Ms: round(quantile(sorted, 0.95)),
    p99Ms: round(quantile(sorted, 0.99)),
    maxMs: round(sorted.at(-1) ?? NaN),
    over50Ms: frames.filter((f) => f > 50).length,
    heapStartMB: round(start.heap),
    heapEndMB: round(end.heap),
    heapPeakMB: round(peak),
    domNodes: end.nodes,
  };
}

test(`dashboard frames with ${SERVERS} servers at ${SPEED}x`, async () => {
  const serve = await startServe(['--servers', String(SERVERS), '--speed', String(SPEED)], 240_000);
  const browser = await launchBrowser();
  try {
    const rpc = async (method: string, body: unknown): Promise<unknown> =>
      (
        await fetch(`${serve.url}/api/rpc/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json();
    // Wait for the first prediction cycle over the whole fleet.
    const t0 = Date.now();
    for (;;) {
      const status = (await rpc('fleet.status', {})) as { risk?: { incidentProbability: number | null } };
      if (status.risk && status.risk.incidentProbability !== null) break;
      if (Date.now() - t0 > 240_000) throw new Error('no prediction cycle in 240 s');
      await new Promise((r) => setTimeout(r, 1000));
    }
    const servers = (await rpc('fleet.servers', {})) as { servers: { name: string; risk: number | null }[] };
    expect(servers.servers.length).toBe(SERVERS);
    const worst = [...servers.servers].sort((a, b) => (b.risk ?? -1) - (a.risk ?? -1))[0]!.name;

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const results: ViewResult[] = [];
    for (const view of VIEWS) {
      const hash = view === 'detail' ? `#/servers/${encodeURIComponent(worst)}` : `#/${view}`;
      await page.goto(`${serve.url}/${hash}`);
      // Let the first answers land and the charts draw before measuring the steady state.
      await page.waitForTimeout(5000);
      results.push(await measure(page, view, SECONDS));
    }
    console.log(
      JSON.stringify({
        bench: 'dashboard-frames',
        servers: SERVERS,
        speed: SPEED,
        browser: browser.version(),
        viewport: '1440x900',
        views: results,
      }),
    );
    for (const r of results) expect(r.frames).toBeGreaterThan(0);
  } finally {
    await browser.close();
    await serve.stop();
  }
});
