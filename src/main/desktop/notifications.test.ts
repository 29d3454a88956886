import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '@shared/domain/alerts';
import { createMemoryLogger } from '../core/util/logger';
import { watchAlerts, type AlertSource } from './alert-watch';
import { createAlertNotifier } from './notifications';
import { openAlert } from './testing/alerts';
import { FakeElectron } from './testing/fake-electron';
import { settle, startTestDesktop, type TestDesktop } from './testing/test-desktop';

let desktop: TestDesktop | undefined;
afterEach(async () => {
  await desktop?.stop();
  desktop = undefined;
});

function notifierOn(fake: FakeElectron) {
  const opened: string[] = [];
  const logger = createMemoryLogger();
  const notifier = createAlertNotifier({ Notification: fake.api.Notification, openServer: (n) => opened.push(n), logger });
  return { notifier, opened, logger };
}

describe('alert notifications', () => {
  it('notify once per new critical alert, not for what was open at start, updates or warnings', () => {
    const fake = new FakeElectron('/nowhere');
    const { notifier, opened } = notifierOn(fake);
    const atStart = openAlert({ server: 'old', severity: 'critical' });
    const warning = openAlert({ server: 'w', severity: 'warning' });
    notifier.update([atStart, warning]);
    expect(fake.notifications).toEqual([]);

    const fresh = openAlert({ server: 'db-01', severity: 'critical', failureMode: 'disk full', risk: 0.81 });
    notifier.update([fresh, atStart, warning]);
    expect(fake.notifications).toHaveLength(1);
    const [n] = fake.notifications;
    expect(n!.shown).toBe(true);
    expect(n!.options).toEqual({ title: 'Critical: db-01', body: 'disk full, risk 81%', urgency: 'critical' });

    // The same id again, with a new risk; the warning escalating: updates, no notification.
    notifier.update([{ ...fresh, risk: 0.9 }, atStart, { ...warning, severity: 'critical' }]);
    expect(fake.notifications).toHaveLength(1);

    // A new warning: none; a new critical: one more.
    notifier.update([openAlert({ server: 'x', severity: 'warning' }), openAlert({ server: 'y', severity: 'critical' })]);
    expect(fake.notifications.map((x) => x.options.title)).toEqual(['Critical: db-01', 'Critical: y']);

    n!.click();
    expect(opened).toEqual(['db-01']);
  });

  it('stay silent, with one warning logged, where the OS has no notifications', () => {
    const fake = new FakeElectron('/nowhere');
    fake.notificationsSupported = false;
    const { notifier, logger } = notifierOn(fake);
    notifier.update([]);
    notifier.update([openAlert({ server: 'a', severity: 'critical' })]);
    notifier.update([openAlert({ server: 'b', severity: 'critical' })]);
    expect(fake.notifications).toEqual([]);
    expect(logger.records.filter((r) => r.level === 'warn')).toHaveLength(1);
  });
});

describe('watchAlerts', () => {
  it('never hands over an older snapshot after a newer one', async () => {
    const resolvers: ((alerts: Alert[]) => void)[] = [];
    let listener: (() => void) | undefined;
    const source: AlertSource = {
      active: () => new Promise((resolve) => resolvers.push(resolve)),
      onChanged: (l) => {
        listener = l;
        return () => (listener = undefined);
      },
    };
    const seen: string[][] = [];
    const watch = watchAlerts(source, createMemoryLogger(), [(alerts) => seen.push(alerts.map((a) => a.server))]);
    listener!();
    listener!();
    resolvers[1]!([openAlert({ server: 'newer', severity: 'warning' })]);
    await settle();
    resolvers[0]!([openAlert({ server: 'older', severity: 'warning' })]);
    await settle();
    expect(seen).toEqual([['newer']]);
    watch.dispose();
    expect(listener).toBeUndefined();
  });
});

describe('notifications in the app', () => {
  it('notify for a critical alert opened while running; a click shows that server', async () => {
    desktop = await startTestDesktop();
    const d = desktop;
    const existing = openAlert({ server: 'db-00', severity: 'critical' });
    d.runtime.core.handlers['alerts.active'] = () => ({ fleetTime: '2026-01-01T00:00:00.000Z', alerts: [existing] });
    await d.runtime.refreshAlerts();
    // The app started with no alerts: db-00 is new.
    expect(d.fake.notifications.map((n) => n.options.title)).toEqual(['Critical: db-00']);

    const fresh = openAlert({ server: 'db-01', severity: 'critical' });
    d.runtime.core.handlers['alerts.active'] = () => ({ fleetTime: '2026-01-01T00:00:00.000Z', alerts: [fresh, existing] });
    d.runtime.core.events.emit('alerts.changed', {
      time: '2026-01-01T00:00:00.000Z',
      opened: 1,
      updated: 0,
      resolved: 0,
      acknowledged: 0,
      active: { warning: 0, critical: 2 },
    });
    await settle();
    expect(d.fake.notifications.map((n) => n.options.title)).toEqual(['Critical: db-00', 'Critical: db-01']);

    const [window] = d.fake.windows;
    window!.focused = false;
    d.fake.notifications[1]!.click();
    expect(window!.focused).toBe(true);
    expect(window!.loaded?.hash).toBe('/servers/db-01');
  });
});
