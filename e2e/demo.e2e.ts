import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { join } from 'node:path';
import { SCREENSHOTS, launchBrowser, screenshot, startServe, watchPage, type ServeProcess, rpcCall } from './harness';

/*
 * The interactive demo against the real daemon: a small simulated fleet, the bundled model, the
 * dashboard in Chromium. The key test pushes a server into a memory leak and checks, from what
 * the page shows, that its predicted risk reaches the warning level before the incident begins.
 */

const WARNING = 0.3;
const SERVER = 'ppml0001';
const PRECURSOR_HOURS = 4;
/** Fleet seconds per second for the key test: the UI's 300x, then faster through the API so it fits in a minute. */
const TEST_SPEED = 900;

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let watched: { problems: string[] };

/** What these tests touch of a DOM element (the e2e code compiles without the DOM library). */
interface ElementLike {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
}

function rpc<T = unknown>(method: string, body: unknown = {}): Promise<T> {
  return rpcCall<T>(serve.url, method, body);
}

interface DemoStateLike {
  speed: number;
  paused: boolean;
  fleetTime: string;
  servers: { name: string; profile: string }[];
  runs: { server: string; scenario: string; startedAt: string; onsetAt: string | null }[];
}

/** The risk the page shows now, and the window end of the prediction it comes from. */
async function shownRisk(p: Page): Promise<{ risk: number | null; time: string | null; text: string }> {
  return p.getByTestId('demo-risk').evaluate((node: unknown) => {
    const el = node as ElementLike;
    return {
      risk: el.dataset['risk'] === undefined ? null : Number(el.dataset['risk']),
      time: el.dataset['time'] ?? null,
      text: el.textContent ?? '',
    };
  });
}

beforeAll(async () => {
  serve = await startServe(['--servers', '8']);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  watched = watchPage(page);
  page.on('response', (r) => {
    if (r.status() >= 400) console.log('HTTP', r.status(), r.url(), r.request().postData());
  });
  await page.goto(`${serve.url}/#/demo`, { waitUntil: 'load' });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('the interactive demo, served by the daemon', () => {
  it('offers the simulated servers, the six scenarios, and the simulation controls', async () => {
    await page.getByTestId('demo-setup').waitFor({ state: 'visible', timeout: 20_000 });
    const state = await rpc<DemoStateLike>('demo.state');
    expect(state.servers).toHaveLength(8);
    // The server field offers them (a datalist), and starts on the first.
    const offered = await page.locator('[data-testid="demo-setup"] datalist option').count();
    expect(offered).toBe(8);
    expect(await page.getByTestId('demo-server').inputValue()).toBe(state.servers[0]!.name);
    for (const s of ['healthy', 'memory_leak', 'disk_fill', 'cpu_runaway', 'network_saturation', 'cascading_failure']) {
      expect(await page.getByTestId(`demo-scenario-${s}`).isVisible()).toBe(true);
    }
    expect(await page.getByTestId('demo-speed').getAttribute('data-speed')).toBe('1');
    expect(await page.getByTestId('demo-no-run').innerText()).toMatch(/No scenario running/);
    await screenshot(page, 'demo-idle');
  });

  it('works from the keyboard: scenario, speed slider and steps, pause and resume', async () => {
    // Scenario radios: arrows move the choice.
    const leak = page.getByTestId('demo-scenario-memory_leak').locator('input');
    await leak.focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.getByTestId('demo-scenario-disk_fill').locator('input').isChecked()).toBe(true);
    await page.keyboard.press('ArrowUp');
    expect(await leak.isChecked()).toBe(true);

    // The speed slider: one stop up from 1x is 2x, applied to the fleet.
    await page.getByTestId('demo-speed-slider').focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(async () => (await rpc<DemoStateLike>('demo.state')).speed).toBe(2);
    await expect.poll(() => page.getByTestId('demo-speed').getAttribute('data-speed')).toBe('2');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(async () => (await rpc<DemoStateLike>('demo.state')).speed).toBe(1);

    // A speed step with Enter, pause and resume with Space.
    await page.getByTestId('demo-speed-60').focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await rpc<DemoStateLike>('demo.state')).speed).toBe(60);
    await expect.poll(() => page.getByTestId('demo-speed-60').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('demo-pause').focus();
    await page.keyboard.press('Space');
    await expect.poll(async () => (await rpc<DemoStateLike>('demo.state')).paused).toBe(true);
    await expect.poll(() => page.getByTestId('demo-pause').getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('demo-pause').innerText()).toMatch(/Resume/);
    await page.keyboard.press('Space');
    await expect.poll(async () => (await rpc<DemoStateLike>('demo.state')).paused).toBe(false);

    // Reset from the keyboard: back to 1x.
    await page.getByTestId('demo-reset').focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await rpc<DemoStateLike>('demo.state')).speed).toBe(1);
  });

  it(`warns before the incident: a memory leak on ${SERVER} crosses the warning level before its onset`, async () => {
    // Set up and start from the page: server, scenario, precursor.
    await page.getByTestId('demo-server').fill(SERVER);
    expect(await page.getByTestId('demo-server-hint').innerText()).toMatch(/Simulated server, profile ml_compute/);
    await page.getByTestId('demo-scenario-memory_leak').locator('input').check();
    await page.getByTestId('demo-precursor').fill(String(PRECURSOR_HOURS));
    await page.getByTestId('demo-start').click();
    await page.getByTestId('demo-stage').waitFor({ state: 'visible' });
    expect(await page.getByTestId('demo-run-server').innerText()).toBe(SERVER);
    expect(await page.getByTestId('demo-run-scenario').getAttribute('data-scenario')).toBe('memory_leak');
    const onsetAt = await page.getByTestId('demo-onset').getAttribute('data-onset');
    const run = (await rpc<DemoStateLike>('demo.state')).runs[0]!;
    expect(onsetAt).toBe(run.onsetAt);
    expect(Date.parse(onsetAt!) - Date.parse(run.startedAt)).toBe(PRECURSOR_HOURS * 3_600_000);

    // Before: the risk the page shows is under the warning level, the server healthy.
    await expect.poll(async () => (await shownRisk(page)).risk, { timeout: 15_000 }).not.toBeNull();
    const before = await shownRisk(page);
    expect(before.risk!).toBeLessThan(WARNING);

    // The UI's fastest step, then faster through the API (the UI stops at 300x).
    await page.getByTestId('demo-speed-300').click();
    await expect.poll(() => page.getByTestId('demo-speed').getAttribute('data-speed')).toBe('300');
    await rpc('demo.control', { speed: TEST_SPEED });

    // Watch the page: the first risk it shows at or over the warning level.
    const onset = Date.parse(onsetAt!);
    const seen: { risk: number; time: string }[] = [];
    let crossed: { risk: number; time: string; fleetClock: string } | null = null;
    const deadline = Date.now() + 45_000;
    while (!crossed && Date.now() < deadline) {
      const shown = await shownRisk(page);
      if (shown.risk !== null && shown.time && seen.at(-1)?.time !== shown.time) {
        seen.push({ risk: shown.risk, time: shown.time });
      }
      if (shown.risk !== null && shown.time && shown.risk >= WARNING) {
        // The fleet clock right after the page showed it: an upper bound of when it was on screen.
        const { fleetTime } = await rpc<DemoStateLike>('demo.state');
        crossed = { risk: shown.risk, time: shown.time, fleetClock: fleetTime };
        break;
      }
      const last = seen.at(-1);
      if (last && Date.parse(last.time) > onset + 3_600_000) break;
      await page.waitForTimeout(100);
    }
    const hours = (iso: string) => ((Date.parse(iso) - onset) / 3_600_000).toFixed(2);
    console.log(
      `demo e2e: ${SERVER} memory_leak, precursor ${PRECURSOR_HOURS} h, 300x in the UI then ${TEST_SPEED}x; ` +
        `risks shown (hours vs onset): ${seen.map((s) => `${hours(s.time)}h=${s.risk.toFixed(3)}`).join(' ')}`,
    );
    expect(crossed, `the page never showed a risk >= ${WARNING}: ${JSON.stringify(seen)}`).not.toBeNull();
    console.log(
      `demo e2e: warning shown for the prediction on data to ${crossed!.time} (${hours(crossed!.time)} h vs onset), ` +
        `risk ${crossed!.risk.toFixed(3)}, fleet clock then ${crossed!.fleetClock} (${hours(crossed!.fleetClock)} h vs onset ${onsetAt})`,
    );
    // The page showed the warning while the fleet clock was still before the onset.
    expect(Date.parse(crossed!.time)).toBeLessThan(onset);
    expect(Date.parse(crossed!.fleetClock)).toBeLessThan(onset);

    // The page says so itself: the crossing marked, the lead before the incident, the stage.
    await expect.poll(() => page.getByTestId('demo-lead').getAttribute('data-lead-ms')).not.toBeNull();
    const leadMs = Number(await page.getByTestId('demo-lead').getAttribute('data-lead-ms'));
    expect(leadMs).toBeGreaterThan(0);
    expect(await page.getByTestId('demo-lead').innerText()).toMatch(/Warning .* before the incident/);
    expect(['degrading', 'critical']).toContain(await page.getByTestId('demo-state').getAttribute('data-stage'));
    await page.getByTestId('demo-risk-box').scrollIntoViewIfNeeded();
    await screenshot(page, 'demo-warning');

    // Past the onset the simulator puts the server in critical_issue: the page goes critical.
    await expect
      .poll(() => page.getByTestId('demo-state').getAttribute('data-stage'), { timeout: 20_000 })
      .toBe('critical');
    await screenshot(page, 'demo-critical');
    await rpc('demo.control', { speed: 60 });
  }, 90_000);

  it('presents full screen with large type, and Esc leaves it', async () => {
    await page.getByTestId('demo-present').click();
    await expect
      .poll(() => page.getByTestId('demo-stage').getAttribute('data-presenting'))
      .toMatch(/fullscreen|overlay/);
    const mode = await page.getByTestId('demo-stage').getAttribute('data-presenting');
    // The exit button has the focus, the risk is large, the setup is out of sight.
    expect(
      await page
        .getByTestId('demo-present-exit')
        .evaluate(
          (el: unknown) =>
            el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement,
        ),
    ).toBe(true);
    const fontSize = await page
      .getByTestId('demo-risk')
      .evaluate(
        (el: unknown) =>
          (globalThis as unknown as { getComputedStyle: (e: unknown) => { fontSize: string } }).getComputedStyle(el)
            .fontSize,
      );
    expect(parseFloat(fontSize)).toBeGreaterThanOrEqual(80);
    const box = await page.getByTestId('demo-stage').boundingBox();
    expect(box!.width).toBeGreaterThanOrEqual(1400);
    await page.screenshot({ path: join(SCREENSHOTS, 'demo-presentation.png') });
    console.log(`demo e2e: presentation mode used ${mode}`);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('demo-stage').getAttribute('data-presenting')).toBeNull();
    await expect
      .poll(() =>
        page
          .getByTestId('demo-present')
          .evaluate(
            (el: unknown) =>
              el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement,
          ),
      )
      .toBe(true);
  });

  it('falls back to a full-window overlay where full screen is not allowed, and Esc leaves it', async () => {
    const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems = watchPage(p).problems;
    // A browser (or an embedding) that refuses full screen.
    await p.addInitScript(() => {
      const doc = (globalThis as unknown as { Document: { prototype: object } }).Document;
      Object.defineProperty(doc.prototype, 'fullscreenEnabled', { get: () => false });
    });
    await p.goto(`${serve.url}/#/demo`, { waitUntil: 'load' });
    await p.getByTestId('demo-present').click();
    await expect.poll(() => p.getByTestId('demo-stage').getAttribute('data-presenting')).toBe('overlay');
    const box = await p.getByTestId('demo-stage').boundingBox();
    expect(box).toMatchObject({ x: 0, y: 0, width: 1280, height: 800 });
    await p.screenshot({ path: join(SCREENSHOTS, 'demo-presentation-overlay.png') });
    await p.keyboard.press('Escape');
    await expect.poll(() => p.getByTestId('demo-stage').getAttribute('data-presenting')).toBeNull();
    expect(problems).toEqual([]);
    await p.close();
  });

  it('adds a new server to the fleet, its profile inferred from its name or picked', async () => {
    await page.getByTestId('demo-server').fill('web-demo-01');
    expect(await page.getByTestId('demo-server-hint').innerText()).toMatch(
      /New server: it joins the simulated fleet as web_api/,
    );
    await page.getByTestId('demo-profile').selectOption('database');
    expect(await page.getByTestId('demo-server-hint').innerText()).toMatch(/as database/);
    await page.getByTestId('demo-server').fill('bad name!');
    expect(await page.getByTestId('demo-start').isDisabled()).toBe(true);
    await page.getByTestId('demo-server').fill('web-demo-01');
    await page.getByTestId('demo-scenario-disk_fill').locator('input').check();
    await page.getByTestId('demo-start').click();
    // It joins with the next fleet step (at 60x, within 5 s); the page waits for it instead of asking the store too early.
    await page.locator('[data-testid="demo-run-server"]', { hasText: 'web-demo-01' }).waitFor({ timeout: 15_000 });
    const state = await rpc<DemoStateLike>('demo.state');
    expect(state.servers.find((s) => s.name === 'web-demo-01')?.profile).toBe('database');
    expect(state.runs[0]).toMatchObject({ server: 'web-demo-01', scenario: 'disk_fill' });
    await screenshot(page, 'demo-new-server');

    // Reset heals everything and forgets the runs.
    await page.getByTestId('demo-reset').click();
    await page.getByTestId('demo-no-run').waitFor({ state: 'visible' });
    expect((await rpc<DemoStateLike>('demo.state')).runs).toEqual([]);
    expect(watched.problems).toEqual([]);
  });

  it('says plainly when there is no simulator', async () => {
    const bare = await startServe(['--no-simulator']);
    try {
      const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await p.goto(`${bare.url}/#/demo`, { waitUntil: 'load' });
      await p.getByTestId('empty-demo').waitFor({ state: 'visible', timeout: 15_000 });
      expect(await p.getByTestId('empty-demo').innerText()).toMatch(/needs the simulated fleet, and it is off/);
      expect(await p.getByTestId('demo-start').count()).toBe(0);
      await screenshot(p, 'demo-no-simulator');
      await p.close();
    } finally {
      await bare.stop();
    }
  });
});
