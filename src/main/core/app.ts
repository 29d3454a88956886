import { mkdirSync } from 'node:fs';
import { API_VERSION, EventBus, type CoreApi, type Handlers } from '@shared/contract';
import type { FleetStatus, Health } from '@shared/domain';
import { APP_INFO } from './app-info';
import { SettingsStore } from './settings/settings-store';
import type { Logger } from './util/logger';

export interface CoreConfig {
  /** Where the core keeps its files (settings, store, models): Electron's userData, or the daemon's --data-dir. */
  dataDir: string;
  runtime: Health['runtime'];
  logger: Logger;
  /** How often `health.updated` is pushed; 0 disables the heartbeat (tests that drive time). */
  heartbeatMs?: number;
  /** Wall clock; injectable so tests can pin it. */
  now?: () => Date;
}

/** The composition root: every service, wired once, behind the contract's handlers. */
export interface Core extends CoreApi {
  readonly config: Readonly<CoreConfig>;
  close(): Promise<void>;
}

export const DEFAULT_HEARTBEAT_MS = 5_000;

export function createCore(config: CoreConfig): Core {
  const now = config.now ?? (() => new Date());
  const startedAt = now();
  mkdirSync(config.dataDir, { recursive: true });

  const events = new EventBus();
  const settings = new SettingsStore(config.dataDir, config.logger);

  const health = (): Health => ({
    status: 'ok',
    app: { name: APP_INFO.name, version: APP_INFO.version },
    apiVersion: API_VERSION,
    runtime: config.runtime,
    startedAt: startedAt.toISOString(),
    uptimeSeconds: Math.max(0, (now().getTime() - startedAt.getTime()) / 1000),
    model: null,
    problems: [],
  });

  // No source is attached yet: the store and the fleet simulator plug in here.
  const fleetStatus = (): FleetStatus => ({
    serversTotal: 0,
    serversReporting: 0,
    lastSampleAt: null,
    sources: [],
  });

  const handlers: Handlers = {
    'system.health': () => health(),
    'fleet.status': () => fleetStatus(),
    'settings.get': () => settings.get(),
    'settings.update': (patch) => {
      const next = settings.update(patch);
      events.emit('settings.changed', next);
      return next;
    },
  };

  const heartbeatMs = config.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const heartbeat = heartbeatMs > 0 ? setInterval(() => events.emit('health.updated', health()), heartbeatMs) : undefined;
  heartbeat?.unref();

  let closed = false;
  return {
    config,
    handlers,
    events,
    close: () => {
      if (!closed) {
        closed = true;
        if (heartbeat) clearInterval(heartbeat);
      }
      return Promise.resolve();
    },
  };
}
