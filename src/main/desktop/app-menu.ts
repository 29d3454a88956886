import type { MenuItemConstructorOptions } from 'electron';
import { APP_INFO } from '../core/app-info';
import type { DesktopMenuStatic } from './electron-api';

/**
 * The sidebar's views in its order: a copy of src/renderer/src/routing/routes.ts (the main process
 * may not import renderer code); app-menu.test.ts reads that file and fails when they differ.
 */
export const MENU_VIEWS: readonly { id: string; label: string }[] = [
  { id: 'overview', label: 'Fleet overview' },
  { id: 'heatmap', label: 'Heatmap' },
  { id: 'servers', label: 'Servers' },
  { id: 'trends', label: 'Trends' },
  { id: 'alerts', label: 'Alerts' },
  { id: 'demo', label: 'Demo' },
  { id: 'training', label: 'Training' },
  { id: 'models', label: 'Models' },
  { id: 'settings', label: 'Settings' },
];

export interface AppMenuOptions {
  platform: NodeJS.Platform;
  /** Development (not packaged): adds the developer tools. */
  development: boolean;
  /** Shows the window on a hash route (`/heatmap`). */
  openRoute(route: string): void;
  quit(): void;
}

/**
 * The application menu. View: CmdOrCtrl+1..8 open the sidebar's first eight views in its order,
 * Settings is CmdOrCtrl+, (the platform convention); Reload; the developer tools only in
 * development. File (or the app menu on macOS): Quit, CmdOrCtrl+Q. Edit keeps copy and paste
 * working in the page on macOS, where shortcuts only exist as menu items.
 */
export function appMenuTemplate(options: AppMenuOptions): MenuItemConstructorOptions[] {
  const mac = options.platform === 'darwin';
  const quit: MenuItemConstructorOptions = { label: 'Quit', accelerator: 'CmdOrCtrl+Q', click: () => options.quit() };
  const views: MenuItemConstructorOptions[] = MENU_VIEWS.map((route, index) => ({
    label: route.label,
    ...(index < 8 ? { accelerator: `CmdOrCtrl+${index + 1}` } : route.id === 'settings' ? { accelerator: 'CmdOrCtrl+,' } : {}),
    click: () => options.openRoute(`/${route.id}`),
  }));
  return [
    ...(mac
      ? [{ label: APP_INFO.name, submenu: [{ role: 'about' }, { type: 'separator' }, { role: 'hide' }, { role: 'unhide' }, { type: 'separator' }, quit] } satisfies MenuItemConstructorOptions]
      : [{ label: 'File', submenu: [quit] } satisfies MenuItemConstructorOptions]),
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        ...views,
        { type: 'separator' },
        { role: 'reload' },
        ...(options.development ? [{ role: 'toggleDevTools' } satisfies MenuItemConstructorOptions] : []),
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
  ];
}

export function installAppMenu(Menu: DesktopMenuStatic, options: AppMenuOptions): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate(appMenuTemplate(options)));
}
