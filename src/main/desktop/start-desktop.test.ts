import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryLogger } from '../core/util/logger';
import { devSqliteBinding, startDesktop } from './start-desktop';
import { FakeElectron, FakeEvent } from './testing/fake-electron';
import { quitAndWait, settle, startTestDesktop, type TestDesktop } from './testing/test-desktop';

let desktop: TestDesktop | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await desktop?.stop();
  desktop = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tftmp-desktop-'));
  dirs.push(dir);
  return dir;
}

describe('single instance', () => {
  it('quits without a window, a core or an IPC handler when another instance holds the lock', async () => {
    const fake = new FakeElectron(tempDir());
    fake.app.lockAvailable = false;
    const handle = startDesktop(fake.api, { mainDir: '/app/out/main', env: {}, logger: createMemoryLogger() });
    fake.app.ready();
    await expect(handle.ready).resolves.toBeUndefined();
    await settle();
    expect(fake.app.quitCalls).toBe(1);
    expect(fake.windows).toEqual([]);
    expect(fake.ipcMain.registrations).toEqual([]);
    expect(fake.app.listenerCount('web-contents-created')).toBe(0);
    expect(existsSync(join(fake.app.getPath('userData'), 'settings.json'))).toBe(false);
  });

  it('brings the existing window back when a second instance starts', async () => {
    desktop = await startTestDesktop();
    const [window] = desktop.fake.windows;
    window!.minimized = true;
    window!.focused = false;
    desktop.fake.app.emit('second-instance', new FakeEvent(), ['--x'], '/', {});
    expect(window!.isMinimized()).toBe(false);
    expect(window!.focused).toBe(true);
    expect(desktop.fake.windows).toHaveLength(1);
  });

  it('does not bring the window up for a refused `--headless` launch', async () => {
    desktop = await startTestDesktop();
    const [window] = desktop.fake.windows;
    window!.focused = false;
    desktop.fake.app.emit('second-instance', new FakeEvent(), ['/opt/app', '--headless', '--port', '8000'], '/', {});
    expect(window!.focused).toBe(false);
  });
});

describe('the window', () => {
  it('loads the built index.html next to the main bundle', async () => {
    desktop = await startTestDesktop();
    const [window] = desktop.fake.windows;
    const indexHtml = join(desktop.mainDir, '..', 'renderer', 'index.html');
    expect(window!.loaded).toEqual({ kind: 'file', target: indexHtml });
    expect(desktop.runtime.renderer.url).toBe(pathToFileURL(indexHtml).href);
  });

  it('loads the dev server when electron-vite dev says so', async () => {
    desktop = await startTestDesktop({ env: { ELECTRON_RENDERER_URL: 'http://localhost:5173' } });
    expect(desktop.fake.windows[0]!.loaded).toEqual({ kind: 'url', target: 'http://localhost:5173/' });
  });

  it('ignores the dev server variable in a packaged app', async () => {
    desktop = await startTestDesktop({
      env: { ELECTRON_RENDERER_URL: 'https://evil.example' },
      beforeStart: (fake) => (fake.app.isPackaged = true),
    });
    expect(desktop.fake.windows[0]!.loaded?.kind).toBe('file');
  });

  it('is shown only once it has painted', async () => {
    const fake = new FakeElectron(tempDir());
    const handle = startDesktop(fake.api, {
      mainDir: '/app/out/main',
      env: {},
      logger: createMemoryLogger(),
      heartbeatMs: 0,
    });
    fake.app.ready();
    await handle.ready;
    const [window] = fake.windows;
    // Created, loading, not painted yet.
    expect(window!.shown).toBe(false);
    await settle();
    expect(window!.shown).toBe(true);
    await quitAndWait(fake);
  });
});

describe('platform lifecycle', () => {
  it('quits when the last window closes on Windows and Linux', async () => {
    for (const platform of ['linux', 'win32'] as const) {
      const d = await startTestDesktop({ platform });
      const close = vi.spyOn(d.runtime.core, 'close');
      d.fake.windows[0]!.close();
      await vi.waitFor(() => expect(d.fake.app.quitted).toBe(true));
      expect(close).toHaveBeenCalledTimes(1);
      await d.stop();
    }
  });

  it('stays open without windows on macOS and reopens one on activate', async () => {
    desktop = await startTestDesktop({ platform: 'darwin' });
    const { fake } = desktop;
    fake.windows[0]!.close();
    expect(fake.app.quitCalls).toBe(0);
    fake.app.emit('activate', new FakeEvent(), false);
    expect(fake.windows).toHaveLength(2);
    // Activating with a window open does not stack another one.
    fake.app.emit('activate', new FakeEvent(), true);
    expect(fake.windows).toHaveLength(2);
  });

  it('closes the core before the process exits, once', async () => {
    desktop = await startTestDesktop();
    const { fake, runtime } = desktop;
    let closed = false;
    const close = vi.spyOn(runtime.core, 'close').mockImplementation(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      closed = true;
    });
    fake.app.quit();
    // Vetoed until the core is closed; a second quit while closing changes nothing.
    expect(fake.app.quitted).toBe(false);
    fake.app.quit();
    await vi.waitFor(() => expect(fake.app.quitted).toBe(true));
    expect(closed).toBe(true);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('quits even when the core hangs on close', async () => {
    desktop = await startTestDesktop({ closeTimeoutMs: 20 });
    vi.spyOn(desktop.runtime.core, 'close').mockImplementation(() => new Promise(() => undefined));
    await quitAndWait(desktop.fake, 2_000);
    expect(desktop.logger.records).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'the core did not close cleanly' }),
    );
  });
});

describe('startup', () => {
  it('shows an error and exits when the core cannot start', async () => {
    const dir = tempDir();
    const userData = join(dir, 'not-a-folder');
    writeFileSync(userData, 'a file where the data folder should be');
    const fake = new FakeElectron(userData);
    const handle = startDesktop(fake.api, { mainDir: '/app/out/main', env: {}, logger: createMemoryLogger() });
    fake.app.ready();
    await expect(handle.ready).resolves.toBeUndefined();
    expect(fake.errorBoxes).toHaveLength(1);
    expect(fake.errorBoxes[0]!.title).toContain('could not start');
    expect(fake.app.exitCodes).toEqual([1]);
    expect(fake.windows).toEqual([]);
  });

  it('writes its log as JSON lines under userData/logs by default', async () => {
    const userData = tempDir();
    const fake = new FakeElectron(userData);
    const handle = startDesktop(fake.api, { mainDir: '/app/out/main', env: {}, heartbeatMs: 0 });
    fake.app.ready();
    await handle.ready;
    await quitAndWait(fake);
    const lines = readFileSync(join(userData, 'logs', 'main.log'), 'utf8')
      .trim()
      .split('\n');
    const records = lines.map((line) => JSON.parse(line) as { level: string; message: string; time: string });
    expect(records.map((r) => r.message)).toEqual(expect.arrayContaining(['desktop started', 'stopped']));
    for (const record of records) expect(Number.isNaN(Date.parse(record.time))).toBe(false);
  });
});

describe('devSqliteBinding', () => {
  it('points at the Electron-ABI build under node_modules/.cache only when it exists', () => {
    const root = mkdtempSync(join(tmpdir(), 'tftmp-abi-'));
    try {
      const mainDir = join(root, 'out', 'main');
      expect(devSqliteBinding(mainDir)).toBeUndefined();
      mkdirSync(join(root, 'node_modules', '.cache', 'electron-abi'), { recursive: true });
      writeFileSync(join(root, 'node_modules', '.cache', 'electron-abi', 'better_sqlite3.node'), '');
      expect(devSqliteBinding(mainDir)).toBe(join(root, 'node_modules', '.cache', 'electron-abi', 'better_sqlite3.node'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
