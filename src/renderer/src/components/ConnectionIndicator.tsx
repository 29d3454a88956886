import { useId } from 'react';
import { describeTransport } from '../api/client';
import { STALE_AFTER_MS } from '../api/connection-monitor';
import { useConnection, type ConnectionInfo } from '../api/use-connection';
import { formatAgo, formatDuration, formatTimestamp } from '../format';

function label(info: ConnectionInfo): string {
  switch (info.status) {
    case 'open':
      return 'Connected';
    case 'stale':
      return 'Stale';
    case 'connecting':
      return info.everOpened ? 'Reconnecting…' : 'Connecting…';
    case 'closed':
      return 'Disconnected';
  }
}

function detail(info: ConnectionInfo): string | null {
  switch (info.status) {
    case 'open': {
      if (!info.health) return null;
      const uptime = info.uptimeSeconds === null ? '' : ` · up ${formatDuration(info.uptimeSeconds)}`;
      return `v${info.health.app.version}${uptime}`;
    }
    case 'stale':
      return info.sinceHeartbeatMs === null
        ? 'no heartbeat yet'
        : `no heartbeat for ${formatDuration(info.sinceHeartbeatMs / 1000)}`;
    case 'connecting':
      return null;
    case 'closed':
      return info.transport === 'http' ? 'retrying' : null;
  }
}

/**
 * The link to the core, fed by the live event stream: green while heartbeats arrive, amber
 * while (re)connecting or silent, red when the core cannot be reached. The transport is a
 * diagnostic, so it lives in the tooltip (hover or keyboard focus).
 */
export function ConnectionIndicator() {
  const info = useConnection();
  const tooltipId = useId();
  const meta = detail(info);
  const health = info.health;

  return (
    <div
      className="conn"
      data-testid="connection-indicator"
      data-state={info.status}
      data-transport={info.transport}
      tabIndex={0}
      aria-describedby={tooltipId}
    >
      <span className="conn-dot" aria-hidden="true" />
      <span className="conn-label" role="status" data-testid="connection-label">
        {label(info)}
      </span>
      {meta && (
        <span className="conn-meta" data-testid="connection-meta">
          {meta}
        </span>
      )}
      <div className="tooltip" role="tooltip" id={tooltipId} data-testid="connection-tooltip">
        <dl className="kv kv-compact">
          <dt>Transport</dt>
          <dd>{describeTransport(info.transport)}</dd>
          <dt>Last heartbeat</dt>
          <dd>{info.sinceHeartbeatMs === null ? 'none yet' : formatAgo(info.sinceHeartbeatMs)}</dd>
          {health && (
            <>
              <dt>Core</dt>
              <dd>
                {health.app.name} {health.app.version} ({health.runtime})
              </dd>
              <dt>API</dt>
              <dd>{health.apiVersion}</dd>
              <dt>Started</dt>
              <dd>{formatTimestamp(health.startedAt)}</dd>
            </>
          )}
        </dl>
        <p className="tooltip-note">Stale after {STALE_AFTER_MS / 1000} s without a heartbeat.</p>
      </div>
    </div>
  );
}
