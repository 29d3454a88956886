import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot, startServe, watchPage, type ServeProcess, rpcCall } from './harness';

/*
 * The Trends and Alerts views against the real daemon: a simulated fleet, the bundled model, a
 * memory leak forced through the demo API so that an alert opens for sure.
 */

const LEAKING = 'ppdb001';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let watched: { problems: string[] };

interface ElementLike {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  querySelector(selector: string): ElementLike | null;
  querySelectorAll(selector: string): Iterable<ElementLike>;
  getAttribute(name: string): string | null;
}

interface AlertLike {
  id: number;
  server: string;
  severity: string;
  state: string;
  risk: number;
  acknowledged: { by: string; at: string } | null;
}

function rpc<T = unknown>(method: string, body: unknown = {}): Promise<T> {
  return rpcCall<T>(serve.url, method, body);
}

/** The alert rows as the page shows them. */
async function readAlertRows(p: Page) {
  return p.getByTestId('alerts-table').evaluate((node: unknown) =>
    [...(node as ElementLike).querySelectorAll('tbody tr')].map((row) => ({
      id: Number(row.dataset['alertId']),
      server: row.dataset['server'] ?? '',
      severity: row.dataset['severity'] ?? '',
      state: row.dataset['state'] ?? '',
      risk: Number(row.querySelector('[data-testid="alerts-risk"]')?.dataset['risk']),
      href: row.querySelector('a')?.getAttribute('href') ?? '',
      acked: row.querySelector('[data-testid="alerts-acked"]')?.textContent ?? null,
    })),
  );
}

beforeAll(async () => {
  serve = await startServe(['--servers', '12', '--speed', '300']);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  watched = watchPage(page);
  await page.goto(serve.url, { waitUntil: 'load' });
  await page.locator('[data-testid="connection-indicator"][data-state="open"]').waitFor({ timeout: 15_000 });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('trends and alerts, served by the daemon', () => {
  it('lists a predicted incident as an alert, links its server, and acknowledges it in the page', async () => {
    // A memory leak with a 3 h precursor, fast: the risk crosses the warning level and an alert opens.
    await rpc('demo.run', { server: LEAKING, scenario: 'memory_leak', precursorHours: 3 });
    await rpc('demo.control', { speed: 900 });
    await expect
      .poll(
        async () =>
          (await rpc<{ alerts: AlertLike[] }>('alerts.list', { state: 'open', server: LEAKING })).alerts.length,
        { timeout: 40_000, interval: 500 },
      )
      .toBeGreaterThan(0);
    await rpc('demo.control', { speed: 60 });

    await page.getByTestId('nav-alerts').click();
    await page.getByTestId('alerts-table').waitFor({ state: 'visible', timeout: 15_000 });
    const rows = await readAlertRows(page);
    const row = rows.find((r) => r.server === LEAKING && r.state === 'open');
    expect(row, JSON.stringify(rows)).toBeDefined();
    expect(row!.href).toBe(`#/servers/${LEAKING}`);
    expect(row!.risk).toBeGreaterThanOrEqual(0.3);
    expect(row!.acked).toBeNull();
    expect(await page.getByTestId('alerts-count').innerText()).toMatch(/\d+ shown · \d+ active/);

    // Acknowledge as a named person, from the page.
    await page.getByTestId('alerts-ack-by').fill('e2e-sre');
    const rowLocator = page.locator(`[data-testid="alerts-row"][data-alert-id="${row!.id}"]`);
    await screenshot(page, 'alerts-before-ack');
    await rowLocator.getByTestId('alerts-ack').click();
    await expect.poll(() => rowLocator.getByTestId('alerts-acked').count(), { timeout: 10_000 }).toBe(1);
    expect(await rowLocator.getByTestId('alerts-acked').innerText()).toMatch(/e2e-sre/);
    const stored = (await rpc<{ alerts: AlertLike[] }>('alerts.list', { server: LEAKING })).alerts.find(
      (a) => a.id === row!.id,
    );
    expect(stored?.acknowledged?.by).toBe('e2e-sre');
    await screenshot(page, 'alerts-acknowledged');
  }, 90_000);

  it('filters by severity, server and state, and sorts by risk', async () => {
    const all = await readAlertRows(page);
    expect(all.length).toBeGreaterThan(0);

    await page.getByTestId('alerts-server').fill(LEAKING.slice(0, 4).toUpperCase());
    await expect.poll(async () => (await readAlertRows(page)).every((r) => r.server.startsWith('ppdb'))).toBe(true);
    await page.getByTestId('alerts-server').fill('no-such-server');
    await page.getByTestId('alerts-no-match').waitFor({ state: 'visible' });
    await page.getByTestId('alerts-server').fill('');

    await page.getByTestId('alerts-severity').selectOption('warning');
    await expect
      .poll(async () => {
        if ((await page.getByTestId('alerts-no-match').count()) > 0) return true;
        return (await readAlertRows(page)).every((r) => r.severity === 'warning');
      })
      .toBe(true);
    await page.getByTestId('alerts-severity').selectOption('all');

    await page.getByTestId('alerts-state-open').click();
    expect(await page.getByTestId('alerts-state-open').getAttribute('aria-pressed')).toBe('true');
    await expect.poll(async () => (await readAlertRows(page)).every((r) => r.state === 'open')).toBe(true);

    await page.getByTestId('alerts-sort').selectOption('risk');
    const risks = (await readAlertRows(page)).map((r) => r.risk);
    expect(risks).toEqual([...risks].sort((a, b) => b - a));

    await page.getByTestId('alerts-clear').click();
    expect(await page.getByTestId('alerts-state-all').getAttribute('aria-pressed')).toBe('true');
    await screenshot(page, 'alerts-sorted');
  });

  it('draws the fleet trends with data: risk, confidence, metrics, alerts opened', async () => {
    await page.getByTestId('nav-trends').click();
    for (const chart of ['trends-risk', 'trends-confidence', 'trends-metrics', 'trends-alerts']) {
      await page.getByTestId(`${chart}-chart`).waitFor({ state: 'visible', timeout: 20_000 });
      const canvas = await page.getByTestId(`${chart}-chart`).locator('canvas').first().boundingBox();
      expect(canvas!.height).toBeGreaterThan(150);
    }
    // The alert opened above is counted.
    await expect
      .poll(async () => Number((await page.getByTestId('trends-alerts-total').innerText()).match(/\d+/)?.[0]), {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    expect(await page.getByTestId('trends-range-24h').getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('trends-span').innerText()).toMatch(/\d+ buckets of/);
    await screenshot(page, 'trends-24h');

    // Live: a later prediction cycle moves the range on (refreshes at most every 5 s).
    const before = await page.getByTestId('trends-span').innerText();
    await expect
      .poll(() => page.getByTestId('trends-span').innerText(), { timeout: 20_000, interval: 500 })
      .not.toBe(before);

    // The metric picker and the time range.
    await page.getByTestId('trends-metric').selectOption('memory_percent');
    await page.getByTestId('trends-metrics-chart').waitFor({ state: 'visible' });
    expect(await page.getByTestId('trends-metrics-chart').locator('[role="img"]').getAttribute('aria-label')).toMatch(
      /^memory_percent across the fleet/,
    );
    await page.getByTestId('trends-range-6h').click();
    await expect
      .poll(() => page.getByTestId('trends-span').innerText(), { timeout: 10_000 })
      .toMatch(/buckets of 5 min|buckets of/);
    await page.getByTestId('trends-risk-chart').waitFor({ state: 'visible', timeout: 10_000 });
    await screenshot(page, 'trends-6h');
    await page.getByTestId('trends-range-7d').click();
    await page.getByTestId('trends-risk-chart').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.getByTestId('trends-range-7d').getAttribute('aria-pressed')).toBe('true');
    await screenshot(page, 'trends-7d');
  });

  it('reads well in the light theme', async () => {
    await rpc('settings.update', { theme: 'light' });
    await expect.poll(() => page.locator('html').getAttribute('data-theme')).toBe('light');
    await page.getByTestId('trends-range-24h').click();
    await page.getByTestId('trends-risk-chart').waitFor({ state: 'visible', timeout: 10_000 });
    await screenshot(page, 'trends-light');
    await page.getByTestId('nav-alerts').click();
    await page.getByTestId('alerts-table').waitFor({ state: 'visible', timeout: 10_000 });
    await screenshot(page, 'alerts-light');
    await page.getByTestId('nav-demo').click();
    await page.getByTestId('demo-stage').waitFor({ state: 'visible', timeout: 10_000 });
    await screenshot(page, 'demo-light');
    await rpc('settings.update', { theme: 'dark' });
    expect(watched.problems).toEqual([]);
  });
});
