import type { Alert } from '@shared/domain/alerts';
import type { Logger } from '../core/util/logger';
import type { DesktopNotification, DesktopNotificationClass } from './electron-api';

export interface AlertNotifierOptions {
  Notification: DesktopNotificationClass;
  openServer(name: string): void;
  logger: Logger;
}

export interface AlertNotifier {
  /** Takes a snapshot of the open alerts; notifies for each critical alert it has not seen before. */
  update(alerts: readonly Alert[]): void;
}

/**
 * Native notifications for NEW critical alerts only. The first snapshot (the alerts already open
 * when the app starts) is taken as known: the tray shows those. After that an alert id is
 * notified at most once, when it first appears and is critical; an update of a known alert (its
 * risk, or a warning that escalates) does not notify. Clicking a notification shows the window on
 * that server.
 */
export function createAlertNotifier(options: AlertNotifierOptions): AlertNotifier {
  const { Notification, logger } = options;
  let known: Set<number> | undefined;
  // Electron drops a notification's click handler when the object is garbage collected: hold each
  // until it is clicked or closed.
  const live = new Set<DesktopNotification>();
  let warnedUnsupported = false;

  const notify = (alert: Alert): void => {
    if (!Notification.isSupported()) {
      if (!warnedUnsupported) logger.warn('native notifications are not supported here');
      warnedUnsupported = true;
      return;
    }
    const notification = new Notification({
      title: `Critical: ${alert.server}`,
      body: `${alert.failureMode}, risk ${Math.round(alert.risk * 100)}%`,
      urgency: 'critical',
    });
    live.add(notification);
    notification.on('click', () => options.openServer(alert.server));
    notification.on('close', () => live.delete(notification));
    notification.show();
  };

  return {
    update: (alerts) => {
      const current = new Set(alerts.map((a) => a.id));
      if (known) {
        for (const alert of alerts) {
          if (!known.has(alert.id) && alert.severity === 'critical') notify(alert);
        }
      }
      // Ids are never reused (a resolved alert never reopens), so only open ones need remembering.
      known = current;
    },
  };
}
