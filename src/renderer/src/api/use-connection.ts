import { useSyncExternalStore } from 'react';
import { useNow } from '../hooks/use-now';
import { currentUptimeSeconds, linkStatus, type ConnectionSnapshot, type LinkStatus } from './connection-monitor';
import { useApiContext } from './use-api';

export interface ConnectionInfo extends ConnectionSnapshot {
  /** The transport's state, turned 'stale' when an open link has gone quiet. */
  status: LinkStatus;
  /** Milliseconds since the last heartbeat; null before the first. */
  sinceHeartbeatMs: number | null;
  /** The core's uptime, extrapolated between heartbeats while the link is open; null before any health arrived. */
  uptimeSeconds: number | null;
}

/** The link to the core, re-evaluated every second so 'stale' and the uptime stay current. */
export function useConnection(): ConnectionInfo {
  const { connection } = useApiContext();
  const snapshot = useSyncExternalStore(connection.subscribe, connection.getSnapshot);
  const now = useNow(1000);
  const status = linkStatus(snapshot, now);
  return {
    ...snapshot,
    status,
    sinceHeartbeatMs: snapshot.lastHeartbeatAt === null ? null : Math.max(0, now - snapshot.lastHeartbeatAt),
    // Only a live link may tick the uptime on: a silent core may well have stopped.
    uptimeSeconds: status === 'open' ? currentUptimeSeconds(snapshot, now) : (snapshot.health?.uptimeSeconds ?? null),
  };
}
