import type { Alert } from '@shared/domain/alerts';
import type { CoreApi } from '@shared/contract';
import type { Logger } from '../core/util/logger';

/** Where the tray and the notifications get the open alerts from (the core; a fake in unit tests). */
export interface AlertSource {
  /** Open alerts, critical first (the core's `alerts.active`). */
  active(): Promise<Alert[]>;
  /** Calls `listener` on every `alerts.changed`; returns the unsubscribe. */
  onChanged(listener: () => void): () => void;
}

export function coreAlertSource(core: CoreApi): AlertSource {
  return {
    active: async () => (await core.handlers['alerts.active']({}, { transport: 'in-process' })).alerts,
    onChanged: (listener) => core.events.on('alerts.changed', () => listener()),
  };
}

export interface AlertWatch {
  /** Reads the open alerts now and hands them to every consumer; resolves when they have them. */
  refresh(): Promise<void>;
  dispose(): void;
}

/**
 * Reads the open alerts once at start and again on each `alerts.changed`, and hands each snapshot
 * to the consumers, in order: a slow read that a later one overtook is dropped, so the tray never
 * goes back to an older state. A failing read is logged and the last snapshot stays.
 */
export function watchAlerts(source: AlertSource, logger: Logger, consumers: ((alerts: Alert[]) => void)[]): AlertWatch {
  let disposed = false;
  let requested = 0;
  let delivered = 0;
  const refresh = async (): Promise<void> => {
    const ticket = ++requested;
    let alerts: Alert[];
    try {
      alerts = await source.active();
    } catch (error) {
      logger.warn('could not read the open alerts', { error });
      return;
    }
    if (disposed || ticket < delivered) return;
    delivered = ticket;
    for (const consumer of consumers) {
      try {
        consumer(alerts);
      } catch (error) {
        logger.warn('an alert consumer failed', { error });
      }
    }
  };
  const unsubscribe = source.onChanged(() => void refresh());
  return {
    refresh,
    dispose: () => {
      disposed = true;
      unsubscribe();
    },
  };
}
