import type { MenuItemConstructorOptions } from 'electron';
import type { Alert } from '@shared/domain/alerts';
import { APP_INFO } from '../core/app-info';
import type { DesktopElectron, DesktopTray } from './electron-api';
import { writeTrayIcons, type TrayLevel } from './tray-icon';

export interface AlertTrayOptions {
  electron: Pick<DesktopElectron, 'Tray' | 'Menu'>;
  /** Where the generated icons are written (`<userData>/tray`). */
  iconDir: string;
  openDashboard(): void;
  openServer(name: string): void;
  /** "…and N more": the alerts view. */
  openAlerts(): void;
  quit(): void;
  /** How many alerts the menu lists (default 5, the most severe first). */
  maxAlerts?: number;
}

export interface AlertTray {
  readonly tray: DesktopTray;
  /** Shows this snapshot of the open alerts (icon, tooltip, title, menu). */
  update(alerts: readonly Alert[]): void;
  dispose(): void;
}

/** "2 critical, 3 warning"; "1 warning"; "No open alerts". */
export function alertSummary(alerts: readonly Alert[]): string {
  const critical = alerts.filter((a) => a.severity === 'critical').length;
  const warning = alerts.length - critical;
  const parts = [critical > 0 ? `${critical} critical` : '', warning > 0 ? `${warning} warning` : ''].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'No open alerts';
}

export function trayLevel(alerts: readonly Alert[]): TrayLevel {
  if (alerts.some((a) => a.severity === 'critical')) return 'critical';
  return alerts.length > 0 ? 'warning' : 'ok';
}

/** One menu line per alert: "CRITICAL db-01: disk full (72%)". */
export function alertLabel(alert: Alert): string {
  return `${alert.severity.toUpperCase()} ${alert.server}: ${alert.failureMode} (${Math.round(alert.risk * 100)}%)`;
}

/**
 * The tray icon: its colour is the worst open severity, its tooltip (and, on macOS, its title)
 * the counts, and its menu opens the dashboard, one of the top alerts' servers, or quits.
 */
export function createAlertTray(options: AlertTrayOptions): AlertTray {
  const { Tray, Menu } = options.electron;
  const icons = writeTrayIcons(options.iconDir);
  const maxAlerts = options.maxAlerts ?? 5;
  const tray = new Tray(icons.ok);
  // Windows and some Linux trays: a left click opens the dashboard (the menu is on the right click).
  tray.on('click', () => options.openDashboard());
  let level: TrayLevel = 'ok';

  const update = (alerts: readonly Alert[]): void => {
    if (tray.isDestroyed()) return;
    const summary = alertSummary(alerts);
    const nextLevel = trayLevel(alerts);
    if (nextLevel !== level) {
      level = nextLevel;
      tray.setImage(icons[level]);
    }
    tray.setToolTip(`${APP_INFO.name}: ${summary}`);
    tray.setTitle(alerts.length > 0 ? summary : '');
    const top = alerts.slice(0, maxAlerts);
    const alertItems: MenuItemConstructorOptions[] =
      top.length === 0
        ? [{ label: 'No open alerts', enabled: false }]
        : top.map((alert) => ({ label: alertLabel(alert), click: () => options.openServer(alert.server) }));
    if (alerts.length > top.length) {
      alertItems.push({ label: `…and ${alerts.length - top.length} more`, click: () => options.openAlerts() });
    }
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Open dashboard', click: () => options.openDashboard() },
        { type: 'separator' },
        { label: summary, enabled: false },
        ...alertItems,
        { type: 'separator' },
        { label: 'Quit', click: () => options.quit() },
      ]),
    );
  };

  update([]);
  return {
    tray,
    update,
    dispose: () => {
      if (!tray.isDestroyed()) tray.destroy();
    },
  };
}
