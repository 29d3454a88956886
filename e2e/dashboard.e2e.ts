import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { API_VERSION, PROFILES, SERVER_STATES } from '@shared/contract';
import { launchBrowser, screenshot, screenshotView, startServe, watchPage, type ServeProcess } from './harness';

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
      // The page itself never scrolls sideways: the table scrolls inside its panel. Polled: the
      // charts shrink to the new width on their ResizeObserver's callback, a frame or more later.
      await expect
        .poll(() =>
          page.locator('html').evaluate((node: unknown) => {
            const html = node as ElementLike;
            return html.scrollWidth - html.clientWidth;
          }),
        )
        .toBeLessThanOrEqual(0);
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

  it('ranks the servers in trouble on the overview once a scenario starts, with figures and forecasts', async () => {
    // A memory leak on ppdb001 whose incident comes in two hours of fleet time (24 s at 300x): the
    // model should see it coming and the overview should put it at the top. The risk stays up
    // through the incident, long enough for the heatmap and detail tests that follow.
    await rpc('demo.run', { server: 'ppdb001', scenario: 'memory_leak', precursorHours: 2 });
    await expect
      .poll(
        async () => {
          const answer = (await rpc('fleet.servers', {})) as { servers: { name: string; risk: number | null }[] };
          return answer.servers.find((s) => s.name === 'ppdb001')?.risk ?? 0;
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toBeGreaterThanOrEqual(0.3);

    await page.getByTestId('nav-overview').click();
    const top = page.getByTestId('overview-top-table');
    await top.waitFor({ state: 'visible' });
    // Ten rows, highest risk first, ppdb001 among them with a failure mode and a sparkline.
    const rows = top.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(10);
    const risks = await rows.evaluateAll((trs: unknown[]) =>
      (trs as ElementLike[]).map((tr) => Number(tr.dataset['risk'])),
    );
    expect(risks).toEqual([...risks].sort((a, b) => b - a));
    await expect.poll(() => page.getByTestId('overview-top-ppdb001').count(), { timeout: 15_000 }).toBe(1);
    const row = page.getByTestId('overview-top-ppdb001');
    await expect.poll(() => row.locator('canvas').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await row.getByTestId('overview-top-ttt').innerText()).toMatch(/^(now|in .+|> 8 h|—)/);

    // Health counts add up to the fleet, the histogram to the scored servers, and one is at risk.
    await expect
      .poll(async () => Number(await page.getByTestId('overview-at-risk').innerText()), { timeout: 15_000 })
      .toBeGreaterThan(0);
    const counts = await Promise.all(
      ['healthy', 'warning', 'critical', 'stale', 'unknown'].map(async (h) =>
        Number(await page.getByTestId(`overview-health-${h}`).innerText()),
      ),
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(20);
    const bins = (await page.getByTestId('overview-histogram-chart').getAttribute('data-bins'))!.split(',').map(Number);
    expect(bins).toHaveLength(10);
    expect(bins.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(await page.getByTestId('overview-incident-probability').innerText()).toMatch(/^(<1|>99|\d+) %$/);
    expect(await page.getByTestId('overview-freshness').innerText()).toBe('Live');
    expect(await page.getByTestId('overview-provider').innerText()).toMatch(/CPU/);
    expect(await page.getByTestId('overview-stale-data').count()).toBe(0);
    await screenshotView(page, 'overview-live');
  });

  it('maps every server on the heatmap, one block per profile, coloured by the one rule', async () => {
    await page.getByTestId('nav-heatmap').click();
    const map = page.getByTestId('heatmap');
    await map.waitFor({ state: 'visible' });
    const cells = map.locator('[data-cell]');
    await expect.poll(() => cells.count()).toBe(20);
    const read = await cells.evaluateAll((nodes: unknown[]) =>
      (nodes as (ElementLike & { getAttribute(n: string): string | null })[]).map((n) => ({
        name: n.dataset['cell']!,
        health: n.dataset['health']!,
        label: n.getAttribute('aria-label') ?? '',
      })),
    );
    const answer = (await rpc('fleet.servers', {})) as { servers: { name: string; profile: string }[] };
    expect(new Set(read.map((c) => c.name))).toEqual(new Set(answer.servers.map((s) => s.name)));
    expect(await map.locator('section').count()).toBe(new Set(answer.servers.map((s) => s.profile)).size);
    for (const cell of read) {
      expect(['healthy', 'warning', 'critical', 'stale', 'unknown']).toContain(cell.health);
      const risk = /risk (\d+|<1) %/.exec(cell.label)?.[1];
      if (cell.health === 'stale') expect(cell.label).toMatch(/not reporting/);
      if (risk === undefined) continue;
      const pct = risk === '<1' ? 0 : Number(risk);
      // 0.3 and 0.6, on the rounded percentage the label shows.
      if (cell.health === 'healthy') expect(pct).toBeLessThanOrEqual(30);
      if (cell.health === 'warning') expect(pct >= 30 && pct <= 60).toBe(true);
      if (cell.health === 'critical') expect(pct).toBeGreaterThanOrEqual(60);
    }
    expect(read.find((c) => c.name === 'ppdb001')?.health).toMatch(/warning|critical/);

    // Hovering a cell shows who it is.
    await page.getByTestId('heat-cell-ppdb001').hover();
    const tooltip = page.getByTestId('heatmap-tooltip');
    await tooltip.waitFor({ state: 'visible' });
    expect(await tooltip.innerText()).toMatch(/ppdb001[\s\S]*Database[\s\S]*Risk[\s\S]*Failure mode[\s\S]*Last seen/);
    await screenshotView(page, 'heatmap-live');
    await page.mouse.move(0, 0);
  });

  it('moves through the heatmap with the keyboard and opens a server with Enter', async () => {
    await page.getByTestId('heatmap-order-name').click();
    // Tab from the last control before the map lands on its first cell (one tab stop for the map).
    await page.getByTestId('heatmap-order-risk').focus();
    await page.keyboard.press('Tab');
    const focused = () =>
      page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { dataset?: Record<string, string> } | null } })
            .document.activeElement?.dataset?.['index'] ?? null,
      );
    expect(await focused()).toBe('0');
    await page.keyboard.press('ArrowRight');
    expect(await focused()).toBe('1');
    await page.keyboard.press('ArrowLeft');
    expect(await focused()).toBe('0');
    await page.keyboard.press('End');
    expect(await focused()).toBe('19');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    const down = Number(await focused());
    expect(down).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('heatmap-tooltip').count()).toBe(1);
    await screenshot(page, 'heatmap-keyboard');
    const name = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { activeElement: { dataset?: Record<string, string> } | null } }).document
          .activeElement?.dataset?.['cell'] ?? '',
    );
    await page.keyboard.press('Enter');
    await page.getByTestId('server-detail').waitFor({ state: 'visible' });
    expect(page.url()).toContain(`#/servers/${name}`);
    expect(await page.getByTestId('server-detail').getAttribute('data-server')).toBe(name);
  });

  it("opens a server's detail from its heatmap cell: history, forecast bands, thresholds, risk and why", async () => {
    await page.getByTestId('nav-heatmap').click();
    await page.getByTestId('heat-cell-ppdb001').click();
    await page.getByTestId('server-detail').waitFor({ state: 'visible' });
    expect(page.url()).toContain('#/servers/ppdb001');
    expect(await page.getByTestId('view-servers').locator('h1').innerText()).toBe('ppdb001');
    // Every target metric: 24 h of 5-minute history and the forecast (joined to the last value).
    const charts = page.locator('[data-testid^="detail-metric-"]');
    await expect.poll(() => charts.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
    await expect
      .poll(
        async () =>
          (
            await charts.evaluateAll((nodes: unknown[]) =>
              (nodes as ElementLike[]).map((n) => [Number(n.dataset['points']), Number(n.dataset['forecast'])]),
            )
          ).every(([points, forecast]) => points! >= 200 && forecast! >= 2),
        { timeout: 15_000 },
      )
      .toBe(true);
    // The chart draws on the frame after its data arrives.
    await expect.poll(() => page.getByTestId('detail-metric-memory_percent').locator('canvas').count()).toBe(1);
    expect(await page.getByTestId('detail-risk').innerText()).toMatch(/^(<1|\d+) %$/);
    expect(await page.getByTestId('detail-failure-mode').innerText()).toMatch(
      /^(none|memory|disk|cpu|network|dependency|hardware)$/,
    );
    await expect
      .poll(async () => Number(await page.getByTestId('detail-risk-chart').getAttribute('data-points')), {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    expect(Number(await page.getByTestId('detail-failure-chart').getAttribute('data-modes'))).toBeGreaterThan(1);
    // The explanation, or in plain words why there is none.
    const explain = page.getByTestId('detail-explain');
    await expect
      .poll(
        async () =>
          (await explain.getByTestId('detail-drivers').count()) +
          (await explain.getByTestId('detail-explain-unavailable').count()),
        {
          timeout: 15_000,
        },
      )
      .toBe(1);
    if ((await explain.getByTestId('detail-explain-unavailable').count()) === 1) {
      expect(await explain.getByTestId('detail-explain-unavailable').innerText()).toMatch(/^No explanation: \S.{10,}/);
    } else {
      expect(Number(await explain.getByTestId('detail-importance').getAttribute('data-variables'))).toBeGreaterThan(0);
      expect(Number(await explain.getByTestId('detail-attention').getAttribute('data-steps'))).toBeGreaterThan(0);
    }
    await screenshotView(page, 'server-detail');
  });

  it('links each row of the servers table to its detail, and back', async () => {
    await page.getByTestId('detail-back').click();
    await page.getByTestId('servers-table').waitFor({ state: 'visible' });
    await page.getByTestId('servers-row-ppweb001').getByTestId('servers-link').click();
    await page.getByTestId('server-detail').waitFor({ state: 'visible' });
    expect(await page.getByTestId('server-detail').getAttribute('data-server')).toBe('ppweb001');
    // A web server depends on a database (the simulator's topology): its risk counts the
    // database's, and the detail says how much, linking to it.
    const upstream = page.getByTestId('detail-upstream');
    await upstream.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await upstream.innerText()).toMatch(/^Upstream ppdb\d{3} (<1|\d+) % → this server (<1|\d+) % alone, (<1|\d+) % with it$/);
    await screenshotView(page, 'server-detail-upstream');
    await upstream.getByRole('link').click();
    await expect.poll(() => page.getByTestId('server-detail').getAttribute('data-server')).toMatch(/^ppdb\d{3}$/);
    expect(await page.getByTestId('detail-upstream').count()).toBe(0);
  });

  it('draws the heatmap and the detail in the light theme with the colour-blind palette', async () => {
    await rpc('settings.update', { theme: 'light', riskPalette: 'colorblind' });
    try {
      await expect.poll(() => page.locator('html').getAttribute('data-palette')).toBe('colorblind');
      await page.getByTestId('nav-heatmap').click();
      await page.getByTestId('heatmap').waitFor({ state: 'visible' });
      // The palette reaches the cells: a healthy cell is Okabe-Ito blue, not green.
      const healthy = page.locator('[data-health="healthy"]').first();
      const shadow = await healthy.evaluate(
        (n: unknown) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { boxShadow: string } }).getComputedStyle(n)
            .boxShadow,
      );
      expect(shadow).toMatch(/rgb\(0, 114, 178\)/);
      await screenshotView(page, 'heatmap-light-colorblind');
      await page.goto(`${serve.url}/#/servers/ppdb001`);
      await page.getByTestId('detail-metric-memory_percent').waitFor({ state: 'visible' });
      await screenshotView(page, 'server-detail-light');
      await page.getByTestId('nav-overview').click();
      await page.getByTestId('overview-top-table').waitFor({ state: 'visible' });
      await screenshotView(page, 'overview-light-colorblind');
      // Down to 1024 px the page never scrolls sideways.
      await page.setViewportSize({ width: 1024, height: 768 });
      for (const hash of ['#/overview', '#/heatmap', '#/servers/ppdb001']) {
        await page.goto(`${serve.url}/${hash}`);
        await page.waitForTimeout(1500);
        // The page and its scrolling <main> both: a view wider than <main> would scroll inside it.
        for (const selector of ['html', 'main']) {
          const overflow = await page.locator(selector).evaluate((node: unknown) => {
            const element = node as ElementLike;
            return element.scrollWidth - element.clientWidth;
          });
          expect(overflow, `${hash} ${selector}`).toBeLessThanOrEqual(0);
        }
      }
      await screenshotView(page, 'server-detail-1024-light');
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
      await rpc('settings.update', { theme: 'dark', riskPalette: 'standard' });
    }
  });

  it('logged no console error, CSP violation or uncaught exception', () => {
    expect(watched.problems).toEqual([]);
  });
});

describe('a server that does not exist', () => {
  it('says so plainly on its detail page', async () => {
    const p = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await p.goto(`${serve.url}/#/servers/no-such-server`);
      const notFound = p.getByTestId('detail-not-found');
      await notFound.waitFor({ state: 'visible' });
      expect(await notFound.innerText()).toMatch(/No server named “no-such-server”/);
      expect(await p.getByTestId('server-detail').count()).toBe(0);
      await screenshot(p, 'server-not-found');
    } finally {
      await p.close();
    }
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
