import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { API_VERSION, PROFILES, SERVER_STATES } from '@shared/contract';
import { launchBrowser, screenshot, startServe, watchPage, type ServeProcess } from './harness';

const VIEWS = ['overview', 'heatmap', 'servers', 'trends', 'alerts', 'demo', 'training', 'models', 'settings'] as const;

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let watched: { problems: string[] };

/** What these tests touch of a DOM element (the e2e code compiles without the DOM library). */
interface ElementLike {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  scrollWidth: number;
  clientWidth: number;
  querySelector(selector: string): ElementLike | null;
  querySelectorAll(selector: string): Iterable<ElementLike>;
}

/** The rows of the servers table as the page shows them, read in one go (the table is live). */
async function readRows(p: Page) {
  return p.getByTestId('servers-table').evaluate((node: unknown) =>
    [...(node as ElementLike).querySelectorAll('tbody tr[data-row]')].map((row) => ({
      name: row.querySelector('th')?.textContent ?? '',
      profile: row.querySelector('[data-profile]')?.dataset['profile'] ?? '',
      state: row.querySelector('[data-state]')?.dataset['state'] ?? null,
      cpu: row.querySelector('[data-metric="cpu_percent"]')?.textContent ?? '',
      risk: row.querySelector('[data-testid="servers-risk"]')?.textContent ?? '',
      riskValue: row.querySelector('[data-testid="servers-risk"]')?.dataset['risk'] ?? null,
      failureMode: row.querySelector('[data-testid="servers-failure-mode"]')?.dataset['failureMode'] ?? null,
      metrics: [...row.querySelectorAll('[data-metric]')].map((cell) => cell.textContent).join(' '),
      lastSeen: row.querySelector('[data-testid="servers-last-seen"]')?.textContent ?? '',
    })),
  );
}

async function rpc(method: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${serve.url}/api/rpc/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return response.json();
}

beforeAll(async () => {
  // The simulated fleet (20 servers, 24 h backfilled) at 300x: a new 5-minute step every second.
  serve = await startServe(['--speed', '300']);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  watched = watchPage(page);
  await page.goto(serve.url, { waitUntil: 'load' });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('the dashboard in Chromium, served by the daemon', () => {
  it('connects to the live event stream over HTTP/WebSocket', async () => {
    const indicator = page.getByTestId('connection-indicator');
    await expect.poll(() => indicator.getAttribute('data-state'), { timeout: 15_000 }).toBe('open');
    expect(await indicator.getAttribute('data-transport')).toBe('http');
  });

  it.each(VIEWS)('renders the %s view from the navigation, and screenshots it', async (view) => {
    await page.getByTestId(`nav-${view}`).click();
    await page.getByTestId(`view-${view}`).waitFor({ state: 'visible' });
    expect(await page.getByTestId(`nav-${view}`).getAttribute('aria-current')).toBe('page');
    expect(page.url()).toContain(`#/${view}`);
    // No view is a bare "TODO": each says what will appear there.
    const text = await page.getByTestId(`view-${view}`).innerText();
    expect(text).not.toMatch(/\bTODO\b/i);
    expect(text.length).toBeGreaterThan(80);
    await screenshot(page, `view-${view}`);
  });

  it('shows the daemon health and the fleet figures on the overview', async () => {
    await page.getByTestId('nav-overview').click();
    await expect.poll(() => page.getByTestId('health-runtime').innerText()).toMatch(/daemon/i);
    expect(await page.getByTestId('health-api-version').innerText()).toContain(API_VERSION);
    await expect.poll(() => page.getByTestId('overview-servers-total').innerText()).toBe('20');
    expect(await page.getByTestId('overview-empty-fleet').count()).toBe(0);
    expect(await page.getByTestId('source-state-simulator').innerText()).toMatch(/running/i);
    expect(await page.getByTestId('source-detail-simulator').innerText()).toMatch(/\S/);
    // The fleet clock runs 300x ahead of this one: the page says so, with the speed.
    await expect
      .poll(() => page.getByTestId('overview-fleet-clock').innerText(), { timeout: 15_000 })
      .toMatch(/Fleet clock .*\d\d:\d\d[\s\S]*300×/);
  });

  it('lists the live fleet on the Servers view: 20 servers with profiles and states', async () => {
    await page.getByTestId('nav-servers').click();
    await page.getByTestId('servers-table').waitFor({ state: 'visible' });
    await expect.poll(() => page.locator('[data-testid^="servers-row-"]').count()).toBe(20);
    expect(await page.getByTestId('servers-count').innerText()).toMatch(/^20 servers · \d+ reporting/);
    const rows = await readRows(page);
    expect(new Set(rows.map((r) => r.name)).size).toBe(20);
    for (const row of rows) {
      expect(PROFILES).toContain(row.profile);
      expect(SERVER_STATES).toContain(row.state);
      expect(row.cpu).toMatch(/^\d+(\.\d)?$/);
      expect(row.lastSeen).toMatch(/just now|min ago|h ago|d ago/);
    }
    expect(new Set(rows.map((r) => r.profile)).size).toBeGreaterThan(3);
    expect(await page.getByTestId('empty-servers').count()).toBe(0);
  });

  it("shows each server's risk from the bundled model, with its failure mode, and sorts by it", async () => {
    // The first prediction cycle follows the model load and the backfill: a few seconds at most.
    await expect
      .poll(async () => (await readRows(page)).filter((r) => /^(\d+|<1) %$/.test(r.risk)).length, { timeout: 30_000 })
      .toBe(20);
    const rows = await readRows(page);
    for (const row of rows) {
      const risk = Number(row.riskValue);
      expect(risk).toBeGreaterThanOrEqual(0);
      expect(risk).toBeLessThanOrEqual(1);
      expect(row.failureMode).toMatch(/^(none|memory|disk|cpu|network|dependency|hardware)$/);
    }
    const header = page.getByTestId('servers-sort-risk');
    await header.locator('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    const risks = (await readRows(page)).map((r) => Number(r.riskValue));
    expect(risks).toEqual([...risks].sort((a, b) => b - a));
    await screenshot(page, 'servers-risk');
    await page.getByTestId('servers-sort-name').locator('button').click();

    // The model is named on the overview, with the count of servers at risk.
    await page.getByTestId('nav-overview').click();
    await expect.poll(() => page.getByTestId('overview-model').innerText(), { timeout: 15_000 }).not.toMatch(/None|…/);
    expect(await page.getByTestId('overview-at-risk').innerText()).toMatch(/^\d+$/);
    expect(await page.getByTestId('health-provider').innerText()).toMatch(/CPU/);
    await page.getByTestId('nav-servers').click();
    await page.getByTestId('servers-table').waitFor({ state: 'visible' });
  });

  it('narrows the rows with the filter box and the profile chips', async () => {
    await page.getByTestId('servers-filter').fill('ppdb');
    await expect.poll(async () => (await readRows(page)).map((r) => r.name)).toEqual(['ppdb001', 'ppdb002', 'ppdb003']);
    expect(await page.getByTestId('servers-count').innerText()).toMatch(/^3 of 20 servers/);

    // The filter matches profiles too.
    await page.getByTestId('servers-filter').fill('web api');
    await expect.poll(async () => new Set((await readRows(page)).map((r) => r.profile))).toEqual(new Set(['web_api']));

    await page.getByTestId('servers-filter').fill('no-such-server');
    await page.getByTestId('servers-no-match').waitFor({ state: 'visible' });

    await page.getByTestId('servers-filter').fill('');
    await page.getByTestId('servers-profile-ml_compute').click();
    expect(await page.getByTestId('servers-profile-ml_compute').getAttribute('aria-pressed')).toBe('true');
    const ml = await readRows(page);
    expect(ml.length).toBeGreaterThan(0);
    expect(ml.length).toBeLessThan(20);
    expect(ml.every((r) => r.profile === 'ml_compute')).toBe(true);
    await page.getByTestId('servers-profile-all').click();
    await expect.poll(() => page.locator('[data-testid^="servers-row-"]').count()).toBe(20);
  });

  it('sorts by CPU, highest first, then lowest first', async () => {
    const header = page.getByTestId('servers-sort-cpu_percent');
    const cpus = async () => (await readRows(page)).map((r) => Number(r.cpu)).filter(Number.isFinite);
    await header.locator('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    expect(await page.getByTestId('servers-sort-name').getAttribute('aria-sort')).toBeNull();
    const down = await cpus();
    expect(down.length).toBe(20);
    expect(down).toEqual([...down].sort((a, b) => b - a));
    await header.locator('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    const up = await cpus();
    expect(up).toEqual([...up].sort((a, b) => a - b));
    await page.getByTestId('servers-sort-name').locator('button').click();
    expect(await page.getByTestId('servers-sort-name').getAttribute('aria-sort')).toBe('ascending');
  });

  it('follows fleet.updated: the table moves on with the fleet clock, and is screenshotted', async () => {
    const table = page.getByTestId('servers-table');
    const before = { fleetTime: await table.getAttribute('data-fleet-time'), rows: await readRows(page) };
    // At 300x a new step (and fleet.updated) comes every second. The table also refetches after
    // each prediction cycle (predictions.updated), which moves the fleet time without new samples:
    // wait for the figures themselves to move.
    const metrics = async () => (await readRows(page)).map((r) => r.metrics);
    await expect.poll(metrics, { timeout: 10_000 }).not.toEqual(before.rows.map((r) => r.metrics));
    const after = await readRows(page);
    const advancedMs = Date.parse((await table.getAttribute('data-fleet-time'))!) - Date.parse(before.fleetTime!);
    expect(advancedMs).toBeGreaterThan(60_000);
    expect(after.map((r) => r.name)).toEqual(before.rows.map((r) => r.name));
    expect(after.map((r) => r.metrics)).not.toEqual(before.rows.map((r) => r.metrics));
    await screenshot(page, 'servers-live');
  });

  it('fits the servers table at 1024 px in the light theme', async () => {
    await rpc('settings.update', { theme: 'light' });
    await expect.poll(() => page.locator('html').getAttribute('data-theme')).toBe('light');
    await page.setViewportSize({ width: 1024, height: 768 });
    try {
      // The page itself never scrolls sideways: the table scrolls inside its panel.
      const overflow = await page.locator('html').evaluate((node: unknown) => {
        const html = node as ElementLike;
        return html.scrollWidth - html.clientWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      await screenshot(page, 'servers-1024-light');
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
      await rpc('settings.update', { theme: 'dark' });
      await expect.poll(() => page.locator('html').getAttribute('data-theme')).toBe('dark');
    }
  });

  it('applies a settings change live and persists it in the core', async () => {
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('settings-theme-light').check();
    await expect.poll(() => page.locator('html').getAttribute('data-theme')).toBe('light');
    await expect.poll(() => page.getByTestId('settings-status').innerText()).toMatch(/saved/i);
    await screenshot(page, 'settings-light');
    expect(await rpc('settings.get', {})).toMatchObject({ theme: 'light' });

    // Another window (or the desktop app) changes it: this page follows through settings.changed.
    await rpc('settings.update', { theme: 'dark' });
    await expect.poll(() => page.locator('html').getAttribute('data-theme')).toBe('dark');
  });

  it('deep-links to a view and falls back to the overview for an unknown route', async () => {
    await page.goto(`${serve.url}/#/alerts`);
    await page.getByTestId('view-alerts').waitFor({ state: 'visible' });
    await page.goto(`${serve.url}/#/no-such-view`);
    await page.getByTestId('view-overview').waitFor({ state: 'visible' });
  });

  it('logged no console error, CSP violation or uncaught exception', () => {
    expect(watched.problems).toEqual([]);
  });
});

describe('when the daemon goes away', () => {
  it('shows the link as down, then recovers when a daemon is back on the same port', async () => {
    const own = await startServe();
    const p = await browser.newPage();
    try {
      await p.goto(own.url);
      const indicator = p.getByTestId('connection-indicator');
      await expect.poll(() => indicator.getAttribute('data-state'), { timeout: 15_000 }).toBe('open');
      const port = new URL(own.url).port;
      await own.stop();
      await expect.poll(() => indicator.getAttribute('data-state'), { timeout: 20_000 }).not.toBe('open');
      await screenshot(p, 'link-down');
      const again = await startServe(['--port', port]);
      try {
        await expect.poll(() => indicator.getAttribute('data-state'), { timeout: 30_000 }).toBe('open');
      } finally {
        await again.stop();
      }
    } finally {
      await p.close();
    }
  });
});
