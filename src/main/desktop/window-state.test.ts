import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryLogger } from '../core/util/logger';
import { FakeElectron } from './testing/fake-electron';
import { startTestDesktop, type TestDesktop } from './testing/test-desktop';
import { loadWindowState, saveWindowState, trackWindowState, WINDOW_STATE_FILE } from './window-state';

let desktop: TestDesktop | undefined;
const dirs: string[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await desktop?.stop();
  desktop = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tftmp-winstate-'));
  dirs.push(dir);
  return dir;
}

const DISPLAYS = [
  { workArea: { x: 0, y: 0, width: 1920, height: 1040 } },
  { workArea: { x: 1920, y: 0, width: 2560, height: 1400 } },
];
const MIN = { width: 960, height: 600 };

describe('loadWindowState', () => {
  it('restores bounds that fit a display, on any display', () => {
    const file = join(tempDir(), 'w.json');
    saveWindowState(file, { bounds: { x: 2000, y: 50, width: 1200, height: 800 }, maximized: true });
    expect(loadWindowState(file, DISPLAYS, MIN)).toEqual({
      bounds: { x: 2000, y: 50, width: 1200, height: 800 },
      maximized: true,
    });
  });

  it('ignores bounds off every display, too small, missing, or corrupt', () => {
    const dir = tempDir();
    const file = join(dir, 'w.json');
    const logger = createMemoryLogger();
    expect(loadWindowState(file, DISPLAYS, MIN, logger)).toBeUndefined();
    expect(logger.records).toEqual([]); // a first start is not a warning
    saveWindowState(file, { bounds: { x: 2000, y: 50, width: 1200, height: 800 }, maximized: false });
    expect(loadWindowState(file, DISPLAYS.slice(0, 1), MIN)).toBeUndefined(); // that monitor is gone
    saveWindowState(file, { bounds: { x: 1000, y: 50, width: 1200, height: 800 }, maximized: false });
    expect(loadWindowState(file, DISPLAYS, MIN)).toBeUndefined(); // straddles two
    saveWindowState(file, { bounds: { x: 0, y: 0, width: 300, height: 200 }, maximized: false });
    expect(loadWindowState(file, DISPLAYS, MIN)).toBeUndefined();
    writeFileSync(file, '{"bounds": {"x": 0, "y": 0, "width": "wide"');
    expect(loadWindowState(file, DISPLAYS, MIN, logger)).toBeUndefined();
    expect(logger.records.map((r) => r.message)).toEqual(['window state ignored']);
    writeFileSync(file, '{"bounds": {"x": 0, "y": 0, "width": "wide", "height": 900}}');
    expect(loadWindowState(file, DISPLAYS, MIN)).toBeUndefined();
    writeFileSync(file, 'null');
    expect(loadWindowState(file, DISPLAYS, MIN)).toBeUndefined();
  });
});

describe('trackWindowState', () => {
  it('saves once after a burst of moves, at once on close, and leaves no temp file', () => {
    vi.useFakeTimers();
    const dir = tempDir();
    const file = join(dir, 'w.json');
    const fake = new FakeElectron(dir);
    new fake.api.BrowserWindow({ width: 1000, height: 700, x: 10, y: 10 });
    const window = fake.windows[0]!;
    trackWindowState(window, file, { debounceMs: 500, logger: createMemoryLogger() });
    for (let i = 1; i <= 20; i += 1) window.setBounds({ x: 10 + i, y: 10 + i });
    vi.advanceTimersByTime(499);
    expect(existsSync(file)).toBe(false);
    vi.advanceTimersByTime(1);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      bounds: { x: 30, y: 30, width: 1000, height: 700 },
      maximized: false,
    });
    window.setBounds({ width: 1100 });
    window.close(); // before the debounce: still saved
    expect(JSON.parse(readFileSync(file, 'utf8')).bounds.width).toBe(1100);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    vi.advanceTimersByTime(1000);
  });

  it('keeps the normal bounds of a maximized window', () => {
    vi.useFakeTimers();
    const dir = tempDir();
    const file = join(dir, 'w.json');
    const fake = new FakeElectron(dir);
    const window = new fake.api.BrowserWindow({ width: 1000, height: 700, x: 10, y: 10 });
    trackWindowState(window, file, { debounceMs: 100, logger: createMemoryLogger() });
    window.maximize();
    vi.advanceTimersByTime(100);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      bounds: { x: 10, y: 10, width: 1000, height: 700 },
      maximized: true,
    });
  });
});

describe('the window in the app', () => {
  it('opens at the default size, centred, and saves where it is moved in userData', async () => {
    desktop = await startTestDesktop({ windowStateDebounceMs: 10 });
    const window = desktop.fake.windows[0]!;
    expect(window.getBounds()).toEqual({ x: 240, y: 70, width: 1440, height: 900 });
    window.setBounds({ x: 100, y: 50, width: 1200, height: 800 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(JSON.parse(readFileSync(join(desktop.userData, WINDOW_STATE_FILE), 'utf8'))).toEqual({
      bounds: { x: 100, y: 50, width: 1200, height: 800 },
      maximized: false,
    });
  });

  it('reopens where it was left, maximized if it was', async () => {
    desktop = await startTestDesktop({
      beforeStart: (fake) =>
        saveWindowState(join(fake.app.getPath('userData'), WINDOW_STATE_FILE), {
          bounds: { x: 100, y: 50, width: 1200, height: 800 },
          maximized: true,
        }),
    });
    const window = desktop.fake.windows[0]!;
    expect(window.getNormalBounds()).toEqual({ x: 100, y: 50, width: 1200, height: 800 });
    expect(window.isMaximized()).toBe(true);
    expect(window.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true });
  });

  it('falls back to the default when the saved display is gone', async () => {
    desktop = await startTestDesktop({
      beforeStart: (fake) => {
        fake.displays = [{ workArea: { x: 0, y: 0, width: 1280, height: 800 } }];
        saveWindowState(join(fake.app.getPath('userData'), WINDOW_STATE_FILE), {
          bounds: { x: 2000, y: 50, width: 1200, height: 800 },
          maximized: false,
        });
      },
    });
    const window = desktop.fake.windows[0]!;
    expect(window.options.x).toBeUndefined();
    expect(window.getBounds()).toEqual({ x: -80, y: -50, width: 1440, height: 900 });
  });
});
