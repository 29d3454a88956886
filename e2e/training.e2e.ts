import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshotView, startServe, watchPage, type ServeProcess, rpcCall } from './harness';

/*
 * The training wizard and the Models view against the real daemon (`serve`, the bundled training
 * worker, the bundled model): start a small training from the wizard, watch its progress, cancel
 * it; run another to the end, activate it, and see the app (and the predictions) switch to it.
 */

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let watched: { problems: string[] };

function rpc<T = unknown>(method: string, body: unknown = {}): Promise<T> {
  return rpcCall<T>(serve.url, method, body);
}

interface ListLike {
  active: string | null;
  models: { id: string; version: string | null; active: boolean }[];
}

beforeAll(async () => {
  serve = await startServe(['--servers', '6', '--speed', '1']);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  watched = watchPage(page);
  await page.goto(`${serve.url}/#/training`, { waitUntil: 'load' });
  await page.locator('[data-testid="connection-indicator"][data-state="open"]').waitFor({ timeout: 15_000 });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

async function fill(testId: string, value: string): Promise<void> {
  await page.getByTestId(testId).fill(value);
}

describe('training from the app, served by the daemon', () => {
  it('checks the data, starts a run, shows live progress, and cancels it without leaving a model', { timeout: 120_000 }, async () => {
    await page.getByTestId('view-training').waitFor();
    await fill('training-servers', '4');
    await fill('training-days', '3');
    await fill('training-epochs', '40');
    await fill('training-maxWindowsPerEpoch', '64');
    // Nothing starts before the data check passes.
    expect(await page.getByTestId('training-start').isDisabled()).toBe(true);
    await page.getByTestId('training-check').click();
    const check = page.getByTestId('training-check-result');
    await check.waitFor();
    expect(await check.getAttribute('data-ok')).toBe('true');
    expect(await page.getByTestId('check-servers').textContent()).toBe('4');
    await page.getByTestId('training-start').click();

    await page.locator('[data-testid="training-state"][data-state="training"]').waitFor({ timeout: 60_000 });
    await expect.poll(async () => page.getByTestId('training-backend').textContent(), { timeout: 60_000 }).not.toBe('—');
    await expect.poll(async () => Number((await page.getByTestId('training-rate').textContent())?.replace(/,/g, '')), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(async () => page.getByTestId('training-eta').textContent(), { timeout: 30_000 }).not.toBe('—');

    // Leaving the view and coming back shows the same running job: it lives in the core.
    await page.goto(`${serve.url}/#/models`);
    await page.getByTestId('view-models').waitFor();
    await page.goto(`${serve.url}/#/training`);
    await page.locator('[data-testid="training-state"][data-state="training"]').waitFor({ timeout: 15_000 });
    await screenshotView(page, 'training-running');

    await page.getByTestId('training-cancel').click();
    await page.locator('[data-testid="training-state"][data-state="cancelled"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('training-detail').textContent()).toMatch(/no model was written/);
    const list = await rpc<ListLike>('model.list');
    expect(list.models.map((m) => m.id)).toEqual(['bundled']);
  });

  it('finishes a run, shows its evaluation next to the active model, activates it, and the app switches to it', { timeout: 240_000 }, async () => {
    const before = await rpc<ListLike>('model.list');
    const bundledVersion = before.models.find((m) => m.id === 'bundled')!.version!;
    await fill('training-servers', '4');
    await fill('training-days', '3');
    await fill('training-epochs', '2');
    await fill('training-maxWindowsPerEpoch', '64');
    await page.getByTestId('training-check').click();
    await page.locator('[data-testid="training-check-result"][data-ok="true"]').waitFor();
    const started = Date.now();
    await page.getByTestId('training-start').click();
    await page.locator('[data-testid="training-state"][data-state="finished"]').waitFor({ timeout: 200_000 });
    console.info(`wizard run (4 servers x 3 days, 2 epochs, small, evaluation 8 x 5 days): ${Date.now() - started} ms in the page`);
    const version = (await page.getByTestId('training-new-model').textContent())!.replace(/^tft /, '');
    expect(version).toMatch(/^\d{8}_\d{6}$/);
    await page.getByTestId('training-evaluation').waitFor();
    // The new model's column and the active one's (evaluated on the same fleet) both have figures.
    expect(await page.getByTestId('eval-0-auroc').textContent()).toMatch(/^\d\.\d{3}$|^—$/);
    expect(await page.getByTestId('training-evaluation').textContent()).toContain(`${bundledVersion} (active)`);
    await screenshotView(page, 'training-finished');

    await page.getByTestId('training-activate').click();
    await page.getByTestId('training-activated').waitFor({ timeout: 30_000 });
    await expect.poll(async () => (await page.getByTestId('training-active-model').textContent()) ?? '', { timeout: 15_000 }).toContain(version);

    await page.goto(`${serve.url}/#/models`);
    await expect.poll(async () => (await page.getByTestId('models-active').textContent()) ?? '', { timeout: 15_000 }).toContain(version);
    const activeRow = page.locator('[data-testid="model-row"][data-active="true"]');
    expect(await activeRow.getAttribute('data-model')).toBe(`tft_model_${version}`);
    await screenshotView(page, 'models-after-activation');

    // Predictions switch to it (the next cycle runs on the new model).
    await expect
      .poll(async () => (await rpc<{ model: { version: string } | null }>('predictions.current')).model?.version, { timeout: 30_000 })
      .toBe(version);

    // Roll back to the bundled model from the Models view.
    await page.locator('[data-testid="model-row"][data-model="bundled"] [data-testid="model-activate"]').click();
    await expect.poll(async () => (await page.getByTestId('models-active').textContent()) ?? '', { timeout: 15_000 }).toContain(bundledVersion);

    // Export the new model to a folder, then import the copy back under models/ after deleting it.
    const exportDir = mkdtempSync(join(tmpdir(), 'tftmp-e2e-export-'));
    try {
      await page.getByTestId('models-folder').fill(exportDir);
      await page.locator(`[data-testid="model-row"][data-model="tft_model_${version}"] [data-testid="model-export"]`).click();
      await expect.poll(async () => (await page.getByTestId('models-notice').textContent()) ?? '', { timeout: 15_000 }).toContain(join(exportDir, `tft_model_${version}`));
      page.once('dialog', (dialog) => void dialog.accept());
      await page.locator(`[data-testid="model-row"][data-model="tft_model_${version}"] [data-testid="model-delete"]`).click();
      await page.locator(`[data-testid="model-row"][data-model="tft_model_${version}"]`).waitFor({ state: 'detached', timeout: 15_000 });
      await page.getByTestId('models-folder').fill(join(exportDir, `tft_model_${version}`));
      await page.getByTestId('models-import').click();
      await page.locator(`[data-testid="model-row"][data-model="tft_model_${version}"]`).waitFor({ timeout: 15_000 });
    } finally {
      rmSync(exportDir, { recursive: true, force: true });
    }
    expect(watched.problems).toEqual([]);
  });
});
