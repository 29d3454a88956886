import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { missingBinaries, startRealStack, type RealStack } from '../src/main/core/sources/prometheus/testing/real-prometheus';
import { launchBrowser, screenshot, startServe, watchPage, type ServeProcess, rpcCall } from './harness';

/*
 * Issue 9 end to end: the built daemon started with `--prometheus URL` next to a real Prometheus
 * and node_exporter, a real Alertmanager and a local webhook receiver. The Settings view
 * configures a receiver and sends a test alert; a predicted incident (the demo's memory leak)
 * reaches Alertmanager and the webhook through the predictor's alerts.
 */
const skip = missingBinaries(['prometheus', 'nodeExporter', 'alertmanager']);
if (skip) console.warn(`sources-integrations.e2e: ${skip}`);

let stack: RealStack;
let serve: ServeProcess;
let browser: Browser;
let page: Page;
let watched: { problems: string[] };
let hook: Server;
let hookUrl = '';
const received: { headers: IncomingHttpHeaders; body: { event: string; deliveryId: string; alert: { id: number; server: string } } }[] = [];

function rpc<T = unknown>(method: string, body: unknown = {}): Promise<T> {
  return rpcCall<T>(serve.url, method, body);
}

describe.skipIf(skip !== null)('sources and integrations, served by the daemon', () => {
  beforeAll(async () => {
    stack = await startRealStack({ alertmanager: true });
    hook = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(text) as (typeof received)[number]['body'] });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook?token=e2e-secret`;
    serve = await startServe(['--servers', '12', '--speed', '300', '--prometheus', stack.prometheusUrl!]);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    watched = watchPage(page);
    await page.goto(serve.url, { waitUntil: 'load' });
    await page.locator('[data-testid="connection-indicator"][data-state="open"]').waitFor({ timeout: 15_000 });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await new Promise((r) => (hook ? hook.close(r) : r(undefined)));
    await stack?.stop();
  });

  it('shows the --prometheus source, configures Alertmanager from the page and sends a test alert', async () => {
    const { sources } = await rpc<{ sources: { id: string; url: string; health: { state: string } }[] }>('sources.list');
    expect(sources).toEqual([expect.objectContaining({ id: 'prometheus', url: stack.prometheusUrl })]);
    await expect.poll(async () => (await rpc<{ sources: { health: { state: string } }[] }>('sources.list')).sources[0]!.health.state, { timeout: 20_000 }).toBe('running');
    const status = await rpc<{ sources: { kind: string }[] }>('fleet.status');
    expect(status.sources.map((s) => s.kind).sort()).toEqual(['prometheus', 'simulator']);

    await page.getByTestId('nav-settings').click();
    await page.getByTestId('sources-table').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.getByTestId('sources-table').innerText()).toContain(stack.prometheusUrl!);

    const panel = page.getByTestId('settings-integrations');
    await panel.locator('select').first().selectOption('alertmanager');
    await panel.getByPlaceholder('oncall').fill('am');
    await panel.getByPlaceholder('http://alertmanager:9093').fill(stack.alertmanagerUrl!);
    await panel.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('integration-test-am').waitFor({ state: 'visible', timeout: 10_000 });
    await page.getByTestId('integration-test-am').click();
    await expect.poll(() => page.getByTestId('integration-test-result').innerText(), { timeout: 15_000 }).toMatch(/test alert: delivered/);
    await expect.poll(() => page.getByTestId('delivery-log').innerText(), { timeout: 10_000 }).toMatch(/am: test alert: delivered/);
    const am = await (await fetch(`${stack.alertmanagerUrl}/api/v2/alerts?filter=${encodeURIComponent('test="true"')}`)).json();
    expect(am).toHaveLength(1);
    await screenshot(page, 'settings-sources-integrations');
    expect(watched.problems).toEqual([]);
  }, 60_000);

  it('sends a predicted incident to Alertmanager and a webhook, once each', async () => {
    await rpc('integrations.configure', { kind: 'webhook', id: 'hook', url: hookUrl });
    await rpc('demo.run', { server: 'ppdb001', scenario: 'memory_leak', precursorHours: 3 });
    await rpc('demo.control', { speed: 900 });
    await expect.poll(() => received.filter((r) => r.body.event === 'firing' && r.body.alert.server === 'ppdb001').length, { timeout: 60_000, interval: 500 }).toBeGreaterThan(0);
    await rpc('demo.control', { speed: 60 });
    const firing = received.find((r) => r.body.event === 'firing' && r.body.alert.server === 'ppdb001')!;
    expect(firing.headers['idempotency-key']).toBe(firing.body.deliveryId);
    // Each delivery arrived once.
    const keys = received.map((r) => r.body.deliveryId);
    expect(new Set(keys).size).toBe(keys.length);
    await expect
      .poll(async () => {
        const alerts = (await (await fetch(`${stack.alertmanagerUrl}/api/v2/alerts?filter=${encodeURIComponent('server="ppdb001"')}`)).json()) as { labels: Record<string, string> }[];
        return alerts.map((a) => a.labels.alertname);
      }, { timeout: 15_000 })
      .toContain('TFTMPIncidentRisk');
    const log = await rpc<{ deliveries: { integrationId: string; event: string; state: string; server: string | null }[] }>('integrations.log', { limit: 100 });
    expect(log.deliveries).toContainEqual(expect.objectContaining({ integrationId: 'hook', event: 'firing', state: 'delivered', server: 'ppdb001' }));
    expect(JSON.stringify(await rpc('integrations.list'))).not.toContain('e2e-secret');
  }, 90_000);
});
