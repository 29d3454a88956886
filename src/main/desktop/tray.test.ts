import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '@shared/domain/alerts';
import { AlertSchema } from '@shared/domain/alerts';
import { createAlertTray, alertSummary } from './tray';
import { discPng } from './tray-icon';
import { openAlert } from './testing/alerts';
import { FakeElectron, type FakeMenu } from './testing/fake-electron';
import { quitAndWait, settle, startTestDesktop, type TestDesktop } from './testing/test-desktop';

let desktop: TestDesktop | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await desktop?.stop();
  desktop = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tftmp-tray-'));
  dirs.push(dir);
  return dir;
}

function menuOf(fake: FakeElectron): FakeMenu {
  const menu = fake.trays[0]?.contextMenu;
  if (!menu) throw new Error('the tray has no menu');
  return menu;
}

/** Makes the real core's alerts.active answer `alerts` (the model is what would open them). */
function serveAlerts(d: TestDesktop, alerts: Alert[]): void {
  d.runtime.core.handlers['alerts.active'] = () => ({ fleetTime: '2026-01-01T00:00:00.000Z', alerts });
}

function changed(d: TestDesktop): void {
  d.runtime.core.events.emit('alerts.changed', {
    time: '2026-01-01T00:00:00.000Z',
    opened: 1,
    updated: 0,
    resolved: 0,
    acknowledged: 0,
    active: { warning: 0, critical: 0 },
  });
}

describe('alertSummary', () => {
  it('counts by severity', () => {
    const alerts = [
      openAlert({ server: 'a', severity: 'critical' }),
      openAlert({ server: 'b', severity: 'critical' }),
      openAlert({ server: 'c', severity: 'warning' }),
      openAlert({ server: 'd', severity: 'warning' }),
      openAlert({ server: 'e', severity: 'warning' }),
    ];
    expect(alertSummary(alerts)).toBe('2 critical, 3 warning');
    expect(alertSummary(alerts.slice(2))).toBe('3 warning');
    expect(alertSummary(alerts.slice(0, 1))).toBe('1 critical');
    expect(alertSummary([])).toBe('No open alerts');
  });

  it('is fed alerts that match the contract', () => {
    expect(() => AlertSchema.parse(openAlert({ server: 'a', severity: 'critical' }))).not.toThrow();
  });
});

describe('the tray icon', () => {
  it('is a valid RGBA PNG of the right size', () => {
    const png = discPng('critical', 16);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(16);
    expect(png.readUInt32BE(20)).toBe(16);
    const idatLength = png.readUInt32BE(33);
    expect(png.subarray(37, 41).toString('ascii')).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    expect(raw.length).toBe((16 * 4 + 1) * 16);
    // The centre pixel is opaque red, the corner transparent.
    const centre = 8 * 65 + 1 + 8 * 4;
    expect([...raw.subarray(centre, centre + 4)]).toEqual([0xf8, 0x51, 0x49, 255]);
    expect(raw[1 + 3]).toBe(0);
  });

  it('shows the counts, colours by the worst severity, and lists the top alerts', () => {
    const fake = new FakeElectron(tempDir());
    const opened: string[] = [];
    const tray = createAlertTray({
      electron: fake.api,
      iconDir: join(fake.app.getPath('userData'), 'tray'),
      openDashboard: () => opened.push('dashboard'),
      openServer: (name) => opened.push(name),
      openAlerts: () => opened.push('alerts'),
      quit: () => opened.push('quit'),
      maxAlerts: 2,
    });
    const [icon] = fake.trays;
    expect(icon!.toolTip).toMatch(/No open alerts$/);
    expect(icon!.image).toMatch(/tray-ok\.png$/);
    expect(icon!.imageBytes.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(menuOf(fake).labels()).toEqual(['Open dashboard', '', 'No open alerts', 'No open alerts', '', 'Quit']);

    tray.update([
      openAlert({ server: 'db-01', severity: 'critical', failureMode: 'disk full', risk: 0.72 }),
      openAlert({ server: 'db-02', severity: 'warning' }),
      openAlert({ server: 'web-03', severity: 'warning' }),
    ]);
    expect(icon!.toolTip).toMatch(/: 1 critical, 2 warning$/);
    expect(icon!.title).toBe('1 critical, 2 warning');
    expect(icon!.image).toMatch(/tray-critical\.png$/);
    const menu = menuOf(fake);
    expect(menu.labels()).toEqual([
      'Open dashboard',
      '',
      '1 critical, 2 warning',
      'CRITICAL db-01: disk full (72%)',
      'WARNING db-02: memory leak (40%)',
      '…and 1 more',
      '',
      'Quit',
    ]);
    menu.click('CRITICAL db-01: disk full (72%)');
    menu.click('…and 1 more');
    menu.click('Open dashboard');
    menu.click('1 critical, 2 warning'); // disabled: nothing
    menu.click('Quit');
    expect(opened).toEqual(['db-01', 'alerts', 'dashboard', 'quit']);

    tray.update([openAlert({ server: 'db-02', severity: 'warning' })]);
    expect(icon!.image).toMatch(/tray-warning\.png$/);
    tray.dispose();
    expect(icon!.isDestroyed()).toBe(true);
    expect(() => tray.update([])).not.toThrow();
  });
});

describe('the tray in the app', () => {
  it('follows alerts.changed and opens a server in the window', async () => {
    desktop = await startTestDesktop();
    const d = desktop;
    const [icon] = d.fake.trays;
    expect(d.fake.trays).toHaveLength(1);
    expect(icon!.toolTip).toMatch(/No open alerts$/);

    serveAlerts(d, [
      openAlert({ server: 'db-01', severity: 'critical' }),
      openAlert({ server: 'db 02', severity: 'critical' }),
      openAlert({ server: 'web-03', severity: 'warning' }),
    ]);
    changed(d);
    await settle();
    expect(icon!.toolTip).toMatch(/2 critical, 1 warning$/);

    const [window] = d.fake.windows;
    window!.minimized = true;
    window!.focused = false;
    menuOf(d.fake).click('CRITICAL db 02: memory leak (72%)');
    expect(window!.focused).toBe(true);
    expect(window!.isMinimized()).toBe(false);
    expect(window!.loaded).toEqual({ kind: 'file', target: join(d.mainDir, '..', 'renderer', 'index.html'), hash: '/servers/db%2002' });
    await settle();
    expect(window!.webContents.getURL()).toMatch(/index\.html#\/servers\/db%2002$/);
    expect(d.fake.windows).toHaveLength(1);
  });

  it('opens a window on the server when none is open (macOS)', async () => {
    desktop = await startTestDesktop({ platform: 'darwin' });
    const d = desktop;
    serveAlerts(d, [openAlert({ server: 'db-01', severity: 'warning' })]);
    await d.runtime.refreshAlerts();
    d.fake.windows[0]!.close();
    menuOf(d.fake).click('WARNING db-01: memory leak (40%)');
    expect(d.fake.windows).toHaveLength(2);
    expect(d.fake.windows[1]!.loaded?.hash).toBe('/servers/db-01');
  });

  it('quits from its menu, and is gone with its listener afterwards', async () => {
    desktop = await startTestDesktop();
    const d = desktop;
    const before = d.runtime.core.events.listenerCount();
    const icon = d.fake.trays[0]!;
    menuOf(d.fake).click('Quit');
    await quitAndWait(d.fake);
    expect(icon.isDestroyed()).toBe(true);
    // The IPC bridge's listener and the alert watch's.
    expect(d.runtime.core.events.listenerCount()).toBe(before - 2);
  });

  it('keeps the last state when alerts cannot be read', async () => {
    desktop = await startTestDesktop();
    const d = desktop;
    serveAlerts(d, [openAlert({ server: 'db-01', severity: 'warning' })]);
    changed(d);
    await settle();
    d.runtime.core.handlers['alerts.active'] = () => {
      throw new Error('store closed');
    };
    changed(d);
    await settle();
    expect(d.fake.trays[0]!.toolTip).toMatch(/1 warning$/);
    expect(d.logger.records.some((r) => r.message === 'could not read the open alerts')).toBe(true);
  });

  it('is not created when turned off', async () => {
    desktop = await startTestDesktop({ alertTray: false });
    expect(desktop.fake.trays).toEqual([]);
    expect(existsSync(join(desktop.userData, 'tray'))).toBe(false);
    expect(desktop.fake.notifications).toEqual([]);
  });
});
