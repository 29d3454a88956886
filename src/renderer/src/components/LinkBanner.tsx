import { useConnection } from '../api/use-connection';
import { formatAgo, formatTimestamp } from '../format';
import { Icon } from './Icon';

/**
 * Says, above every view, when what it shows may be out of date: an operator must never take
 * frozen figures for live ones. Brief reconnects ('connecting') do not raise it.
 */
export function LinkBanner() {
  const info = useConnection();
  if (info.status !== 'closed' && info.status !== 'stale') return null;
  const since =
    info.lastHeartbeatAt === null
      ? null
      : `${formatTimestamp(new Date(info.lastHeartbeatAt).toISOString())} (${formatAgo(info.sinceHeartbeatMs ?? 0)})`;
  return (
    <div className="link-banner" role="status" data-testid="link-banner" data-state={info.status}>
      <Icon name="alert-triangle" />
      <p>
        {info.status === 'closed' ? (
          <>
            <strong>The core cannot be reached.</strong>{' '}
            {info.everOpened ? 'What you see may be out of date' : 'Nothing has been loaded yet'}
            {since ? `; the last heartbeat came at ${since}` : ''}. Retrying automatically.
          </>
        ) : (
          <>
            <strong>The core has gone quiet.</strong> The link is open but no heartbeat arrived
            {since ? ` since ${since}` : ''}; figures may be out of date.
          </>
        )}
      </p>
    </div>
  );
}
