import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { METRIC_NAMES, STEP_MS } from '@shared/contract';
import type { FleetServers } from '@shared/domain';
import { allocateColumns } from '../src/main/core/metrics/columns';
import { formatCsv } from '../src/main/core/metrics/io';
import { launchBrowser, screenshot, startServe, watchPage, type ServeProcess } from './harness';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let watched: { problems: string[] };
let dir: string;

const SERVER = 'e2e-import01';

async function rpc<T>(method: string, body: unknown): Promise<T> {
  const response = await fetch(`${serve.url}/api/rpc/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await response.json()) as T;
}

/** Two hours of one server, up to the last 5-minute mark (so it reports), written by the project's own CSV writer. */
function writeCsv(path: string): number {
  const steps = 24;
  const end = Math.floor(Date.now() / STEP_MS) * STEP_MS - STEP_MS;
  const columns = allocateColumns(steps);
  for (let i = 0; i < steps; i++) {
    columns.server[i] = SERVER;
    columns.timestamp[i] = end - (steps - 1 - i) * STEP_MS;
    columns.state[i] = 'healthy';
    for (const name of METRIC_NAMES) {
      const column = columns.metrics[name];
      column.values[i] =
        name === 'cpu_percent' ? 20 + i : name === 'error_rate' ? 0.001 : name === 'load_average' ? 1.5 : 10;
      column.present[i] = 1;
    }
  }
  writeFileSync(path, formatCsv(columns));
  return steps;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tftmp-import-e2e-'));
  serve = await startServe(['--servers', '3']);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  watched = watchPage(page);
  await page.goto(`${serve.url}/#/settings`, { waitUntil: 'load' });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('importing a file from the dashboard', () => {
  it('chooses a CSV file, shows the check report, imports it, and the server appears in the Servers view', async () => {
    const path = join(dir, 'imported.csv');
    const rows = writeCsv(path);
    await page.getByTestId('settings-import').waitFor({ state: 'visible' });
    await page.getByTestId('import-input').setInputFiles(path);

    const item = page.getByTestId('import-item');
    await expect.poll(() => item.getAttribute('data-phase'), { timeout: 20_000 }).toBe('checked');
    expect(await item.getByTestId('import-figure-rows').innerText()).toBe(String(rows));
    expect(await item.getByTestId('import-figure-will-store').innerText()).toBe(String(rows));
    expect(await item.getByTestId('import-figure-servers').innerText()).toBe('1 (1 new, 0 existing)');
    expect(await item.getByTestId('import-report').innerText()).toContain(SERVER);
    // The check wrote nothing.
    expect((await rpc<FleetServers>('fleet.servers', {})).servers.map((s) => s.name)).not.toContain(SERVER);
    await screenshot(page, 'import-checked');

    await item.getByTestId('import-commit').click();
    await expect.poll(() => item.getAttribute('data-phase'), { timeout: 20_000 }).toBe('imported');
    expect(await item.getByTestId('import-figure-stored').innerText()).toBe(String(rows));
    expect((await rpc<FleetServers>('fleet.servers', {})).servers.map((s) => s.name)).toContain(SERVER);

    await item.getByTestId('import-servers-link').click();
    await page.getByTestId('view-servers').waitFor({ state: 'visible' });
    const row = page.getByTestId(`servers-row-${SERVER}`);
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    // It reports: its newest CPU value (the file's last row) is in the table.
    await expect
      .poll(() => row.locator('[data-metric="cpu_percent"]').innerText(), { timeout: 15_000 })
      .toMatch(/^43(\.0)?$/);
    await screenshot(page, 'import-servers');
    expect(watched.problems).toEqual([]);
  });

  it('refuses a bad file with its line and field, and writes nothing', async () => {
    await page.goto(`${serve.url}/#/settings`, { waitUntil: 'load' });
    const path = join(dir, 'bad.csv');
    writeFileSync(path, 'timestamp,server,cpu_percent\n2025-01-01T00:00:00Z,e2e-bad01,abc\n');
    await page.getByTestId('import-input').setInputFiles(path);
    const item = page.getByTestId('import-item').last();
    await expect.poll(() => item.getAttribute('data-phase'), { timeout: 20_000 }).toBe('failed');
    expect(await item.getByTestId('api-error').innerText()).toContain('bad.csv line 2, field cpu_percent');
    await item.getByTestId('import-discard').click();
    expect((await rpc<FleetServers>('fleet.servers', {})).servers.map((s) => s.name)).not.toContain('e2e-bad01');
  });
});
