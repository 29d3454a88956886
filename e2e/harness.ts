import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

export const ROOT = resolve(__dirname, '..');
export const CLI = join(ROOT, 'out', 'main', 'cli.js');
export const SCREENSHOTS = join(ROOT, 'e2e', 'screenshots');

/** Debian's Chromium; CHROMIUM_PATH overrides (a developer's own Chrome, say). */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** The flags that work on these machines: no GPU, no sandbox as root, nothing phoning home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export interface ServeProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<number | null>;
}

/**
 * Starts the daemon exactly as `npm run serve` does after its build step, on a free port and a
 * fresh data folder, and waits for the line that announces its URL.
 */
export async function startServe(args: string[] = [], timeoutMs = 20_000): Promise<ServeProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run test:e2e does)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'tftmp-e2e-'));
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = (): void => {
      const match = /listening on (http:\/\/\S+?)\/?\s/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${output}`));
    });
  });

  return {
    url,
    dataDir,
    child,
    output: () => output,
    stop: async () => {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = child.exitCode ?? (await exited);
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** Collects what a page complains about: console errors (CSP violations among them) and uncaught exceptions. */
export function watchPage(page: Page): { problems: string[] } {
  const problems: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return { problems };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * The whole view, not just the window: the app scrolls inside <main>, which a full-page
 * screenshot does not see, so the window is made as tall as the view for the shot.
 */
export async function screenshotView(page: Page, name: string): Promise<string> {
  const viewport = page.viewportSize() ?? { width: 1440, height: 900 };
  const height = await page.evaluate(
    () =>
      ((
        globalThis as unknown as { document: { querySelector(s: string): { scrollHeight: number } | null } }
      ).document.querySelector('main')?.scrollHeight ?? 0) + 64,
  );
  await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, Math.min(height, 4000)) });
  try {
    // Charts resize with their boxes on the next frame.
    await page.waitForTimeout(400);
    return await screenshot(page, name);
  } finally {
    await page.setViewportSize(viewport);
  }
}

/** Calls a contract method over the daemon's JSON-RPC route; an error answer throws with its body. */
export async function rpcCall<T = unknown>(baseUrl: string, method: string, body: unknown = {}): Promise<T> {
  const response = await fetch(`${baseUrl}/api/rpc/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as T;
  if (!response.ok) throw new Error(`${method}: ${JSON.stringify(json)}`);
  return json;
}
