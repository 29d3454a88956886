import { useMemo, useState } from 'react';
import { PROFILES, type Profile } from '@shared/contract';
import { useQuery } from '../api/use-query';
import { EmptyState } from '../components/EmptyState';
import { ErrorPanel } from '../components/ErrorPanel';
import { Panel } from '../components/Panel';
import { View } from '../components/View';
import { fleetNow } from '../fleet-clock';
import { formatClock } from '../format';
import { readingOf, useFleetClock } from '../hooks/use-fleet-clock';
import { useNow } from '../hooks/use-now';
import { ServersTable } from './ServersTable';
import {
  DEFAULT_SORT,
  filterServers,
  nextSort,
  PROFILE_LABEL,
  profileCounts,
  sortServers,
  type SortKey,
  type SortOrder,
} from './servers-model';
import { Chip } from '../components/Chip';

export function ServersView() {
  // fleet.updated comes once a second at --speed 300, give or take 30 ms. A window of exactly
  // 1000 ms against that stream lags further behind with every early event (up to a second);
  // one a little shorter keeps the table in step and still caps the rate for faster fleets.
  // predictions.updated follows each fleet step once its prediction cycle is done: risk moves then.
  const servers = useQuery(
    'fleet.servers',
    {},
    { refetchOn: ['fleet.updated', 'predictions.updated'], throttleMs: 900 },
  );
  const [text, setText] = useState('');
  const [profile, setProfile] = useState<Profile | null>(null);
  const [sort, setSort] = useState<SortOrder>(DEFAULT_SORT);
  const data = servers.data;

  // Ages are measured against the answer's own fleetTime (one consistent snapshot), moved on
  // between answers at the estimated speed: a real-time fleet answers once per 5-minute step.
  const answered = readingOf(data?.fleetTime, servers.updatedAt);
  const clock = useFleetClock(answered, false);
  const now = useNow(15_000);
  const fleetNowMs = answered ? fleetNow(answered, clock.rate, now) : now;

  const all = data?.servers;
  const counts = useMemo(() => profileCounts(all ?? []), [all]);
  const reporting = useMemo(() => (all ?? []).reduce((n, s) => n + (s.reporting ? 1 : 0), 0), [all]);
  const rows = useMemo(
    () => sortServers(filterServers(all ?? [], { text, profile }), sort),
    [all, text, profile, sort],
  );
  const total = all?.length ?? 0;
  const filtered = text.trim() !== '' || profile !== null;

  return (
    <View id="servers" title="Servers" subtitle="Every server with its risk and newest metrics, live from the store.">
      {servers.error && (
        <ErrorPanel title="Could not load the servers" error={servers.error} onRetry={servers.refetch} />
      )}

      {data && total === 0 ? (
        <EmptyState
          id="servers"
          icon="servers"
          title="No servers yet"
          needs={
            <span>
              A metric source reporting. <code>npm run serve</code> starts a simulated fleet of 20 servers by default (
              <code>--servers N</code> for more); with <code>--no-simulator</code>, servers appear once metric files are
              imported. Each server gets a profile from its name prefix.
            </span>
          }
        >
          <p>
            Every server with its profile, operating state and newest metrics, tinted where they cross the
            contract&apos;s warning and critical thresholds, updated as samples arrive.
          </p>
        </EmptyState>
      ) : (
        <Panel
          title="Fleet"
          className="servers-panel"
          testId="servers-panel"
          aside={
            <span className="servers-count" data-testid="servers-count" aria-live="polite">
              {data
                ? `${filtered ? `${rows.length} of ` : ''}${total} server${total === 1 ? '' : 's'} · ${reporting} reporting`
                : servers.error
                  ? 'Unavailable'
                  : 'Loading…'}
              {data && (
                <span className="servers-asof" data-testid="servers-fleet-time" title={`Fleet time ${data.fleetTime}`}>
                  {' '}
                  · as of {formatClock(Date.parse(data.fleetTime), now)}
                </span>
              )}
            </span>
          }
        >
          <div className="servers-toolbar">
            <input
              type="search"
              className="input servers-filter"
              placeholder="Filter by name or profile"
              aria-label="Filter servers by name or profile"
              data-testid="servers-filter"
              value={text}
              onChange={(e) => setText(e.target.value)}
              spellCheck={false}
              autoComplete="off"
            />
            <div className="chips" role="group" aria-label="Profile">
              <Chip pressed={profile === null} onClick={() => setProfile(null)} testId="servers-profile-all">
                All
              </Chip>
              {PROFILES.filter((p) => counts.has(p)).map((p) => (
                <Chip
                  key={p}
                  pressed={profile === p}
                  onClick={() => setProfile(profile === p ? null : p)}
                  testId={`servers-profile-${p}`}
                >
                  {PROFILE_LABEL[p]} <span className="chip-count">{counts.get(p)}</span>
                </Chip>
              ))}
            </div>
          </div>

          {data &&
            (rows.length === 0 ? (
              <p className="muted servers-none" data-testid="servers-no-match">
                No server matches {text.trim() ? <>“{text.trim()}”</> : 'this filter'}
                {profile ? ` in ${PROFILE_LABEL[profile]}` : ''}.
              </p>
            ) : (
              <ServersTable
                servers={rows}
                sort={sort}
                onSort={(key: SortKey) => setSort((s) => nextSort(s, key))}
                fleetNowMs={fleetNowMs}
                fleetTime={data.fleetTime}
                viewKey={`${text}\n${profile ?? ''}\n${sort.key} ${sort.direction}`}
              />
            ))}

          <p className="servers-note small">
            Tinted cells are at or over the data contract&apos;s warning or critical threshold (load and network have
            none: they depend on the machine). Risk is the model&apos;s probability of an incident within 8 hours, with
            the most likely failure mode; hover a dash to see why a server has none. Open a server by its name for its
            forecast, its risk over time and why the model predicts it.
          </p>
        </Panel>
      )}
    </View>
  );
}
