import type { ApiClient, ConnectionState } from '@shared/contract';
import type { Health } from '@shared/domain';

/** No `health.updated` for this long on an open link means the core is not talking to us. */
export const STALE_AFTER_MS = 15_000;

/** What the connection indicator shows: the transport's state, plus 'stale'. */
export type LinkStatus = ConnectionState | 'stale';

export interface ConnectionSnapshot {
  readonly transport: ApiClient['transport'];
  readonly state: ConnectionState;
  /** False until the link has been open once: "Connecting…" rather than "Reconnecting…". */
  readonly everOpened: boolean;
  /** When the link last became open (ms since epoch). */
  readonly openedAt: number | null;
  /** The newest health, from a heartbeat or from asking. */
  readonly health: Health | null;
  /** When `health` arrived: uptime is extrapolated from it. */
  readonly healthAt: number | null;
  /** When the last `health.updated` event arrived. */
  readonly lastHeartbeatAt: number | null;
}

/** 'stale' when the link is open but silent: no heartbeat since it opened, for over STALE_AFTER_MS. */
export function linkStatus(snapshot: ConnectionSnapshot, now: number): LinkStatus {
  if (snapshot.state !== 'open') return snapshot.state;
  // After a reconnect the last heartbeat may predate the new link: measure from whichever is newer.
  const since = Math.max(snapshot.lastHeartbeatAt ?? -Infinity, snapshot.openedAt ?? -Infinity);
  if (!Number.isFinite(since)) return 'open';
  return now - since > STALE_AFTER_MS ? 'stale' : 'open';
}

/** The core's uptime now, extrapolated from the last health received. */
export function currentUptimeSeconds(snapshot: ConnectionSnapshot, now: number): number | null {
  if (!snapshot.health || snapshot.healthAt === null) return null;
  return snapshot.health.uptimeSeconds + Math.max(0, now - snapshot.healthAt) / 1000;
}

export interface ConnectionMonitor {
  subscribe: (listener: () => void) => () => void;
  getSnapshot: () => ConnectionSnapshot;
  dispose: () => void;
}

/**
 * Watches one client for the whole life of the page, so no view misses the first heartbeat
 * (the daemon greets with `health.updated` the moment the socket opens, before React mounts).
 * Whenever the link opens it also asks `system.health`, so the indicator has figures at once
 * over IPC too, where there is no greeting.
 */
export function createConnectionMonitor(client: ApiClient, now: () => number = Date.now): ConnectionMonitor {
  const listeners = new Set<() => void>();
  let snapshot: ConnectionSnapshot = {
    transport: client.transport,
    state: 'connecting',
    everOpened: false,
    openedAt: null,
    health: null,
    healthAt: null,
    lastHeartbeatAt: null,
  };
  let disposed = false;

  const update = (patch: Partial<ConnectionSnapshot>): void => {
    if (disposed) return;
    snapshot = { ...snapshot, ...patch };
    for (const listener of [...listeners]) listener();
  };

  const offHealth = client.on('health.updated', (health) => {
    const t = now();
    update({ health, healthAt: t, lastHeartbeatAt: t });
  });
  const offState = client.onConnectionChange((state) => {
    if (state === snapshot.state) return;
    if (state !== 'open') return update({ state });
    update({ state, everOpened: true, openedAt: now() });
    const askedAt = now();
    client.call('system.health', {}).then(
      (health) => {
        // A heartbeat that overtook the answer is newer: keep it.
        if ((snapshot.healthAt ?? -Infinity) <= askedAt) update({ health, healthAt: now() });
      },
      () => {
        // The indicator reflects the link; a failed call shows up in the views that make them.
      },
    );
  });

  return {
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getSnapshot: () => snapshot,
    dispose: () => {
      disposed = true;
      offHealth();
      offState();
      listeners.clear();
    },
  };
}
