import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appMenuTemplate, MENU_VIEWS } from './app-menu';
import { FakeMenu } from './testing/fake-electron';
import { startTestDesktop, type TestDesktop } from './testing/test-desktop';

let desktop: TestDesktop | undefined;
afterEach(async () => {
  await desktop?.stop();
  desktop = undefined;
});

function menu(platform: NodeJS.Platform, development: boolean) {
  const calls: string[] = [];
  const built = new FakeMenu(
    appMenuTemplate({ platform, development, openRoute: (r) => calls.push(r), quit: () => calls.push('quit') }),
  );
  return { built, calls };
}

function roles(m: FakeMenu): string[] {
  return m.items.flatMap((i) => [...(i.options.role ? [i.options.role] : []), ...(i.submenu ? roles(i.submenu) : [])]);
}

describe('the application menu', () => {
  it('lists the same views as the sidebar (routes.ts), in the same order', () => {
    const source = readFileSync(join(__dirname, '..', '..', 'renderer', 'src', 'routing', 'routes.ts'), 'utf8');
    const routes = [...source.matchAll(/\{ id: '([^']+)', label: '([^']+)'/g)].map((m) => ({ id: m[1], label: m[2] }));
    expect(routes.length).toBeGreaterThan(0);
    expect(MENU_VIEWS).toEqual(routes);
  });

  it('maps CmdOrCtrl+1..8 to the sidebar views, in order', () => {
    const { built, calls } = menu('linux', false);
    for (const [index, route] of MENU_VIEWS.slice(0, 8).entries()) {
      expect(built.find(route.label).accelerator).toBe(`CmdOrCtrl+${index + 1}`);
      built.click(route.label);
      expect(calls.at(-1)).toBe(`/${route.id}`);
    }
    expect(built.find('Settings').accelerator).toBe('CmdOrCtrl+,');
    const accelerators = built.template
      .flatMap((i) => (Array.isArray(i.submenu) ? i.submenu : []))
      .map((i) => i.accelerator)
      .filter(Boolean);
    expect(new Set(accelerators).size).toBe(accelerators.length);
  });

  it('quits with CmdOrCtrl+Q, on every platform', () => {
    for (const platform of ['linux', 'win32', 'darwin'] as const) {
      const { built, calls } = menu(platform, false);
      expect(built.find('Quit').accelerator).toBe('CmdOrCtrl+Q');
      built.click('Quit');
      expect(calls).toEqual(['quit']);
    }
  });

  it('has the developer tools only in development; reload always', () => {
    expect(roles(menu('linux', false).built)).not.toContain('toggleDevTools');
    expect(roles(menu('linux', true).built)).toContain('toggleDevTools');
    expect(roles(menu('linux', false).built)).toContain('reload');
  });

  it('is installed by the app; a view shortcut shows that view in the window', async () => {
    desktop = await startTestDesktop({ beforeStart: (fake) => (fake.app.isPackaged = true) });
    const appMenu = desktop.fake.applicationMenu;
    expect(appMenu).toBeInstanceOf(FakeMenu);
    expect(roles(appMenu!)).not.toContain('toggleDevTools');
    const [window] = desktop.fake.windows;
    window!.focused = false;
    appMenu!.click('Heatmap');
    expect(window!.focused).toBe(true);
    expect(window!.loaded?.hash).toBe('/heatmap');
  });
});
