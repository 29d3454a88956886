import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot, startServe, watchPage, type ServeProcess } from './harness';

const VIEWS = ['overview', 'heatmap', 'servers', 'trends', 'alerts', 'demo', 'training', 'models', 'settings'] as const;

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let watched: { problems: string[] };

beforeAll(async () => {
  serve = await startServe();
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
    expect(await page.getByTestId('health-api-version').innerText()).toContain('1.0.0');
    expect(await page.getByTestId('overview-servers-total').innerText()).toMatch(/\d/);
  });

  it('applies a settings change live and persists it in the core', async () => {
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('settings-theme-light').check();
    await expect.poll(() => page.locator('html').getAttribute('data-theme')).toBe('light');
    await expect.poll(() => page.getByTestId('settings-status').innerText()).toMatch(/saved/i);
    await screenshot(page, 'settings-light');
    const response = await fetch(`${serve.url}/api/rpc/settings.get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await response.json()).toMatchObject({ theme: 'light' });

    // Another window (or the desktop app) changes it: this page follows through settings.changed.
    await fetch(`${serve.url}/api/rpc/settings.update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"theme":"dark"}',
    });
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
