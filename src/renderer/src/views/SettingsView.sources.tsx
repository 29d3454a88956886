import { useEffect, useState, type FormEvent } from 'react';
import type { ApiError } from '@shared/contract';
import { INTEGRATION_KINDS, type Delivery, type IntegrationKind, type SourceTestResult } from '@shared/domain';
import { useApi } from '../api/use-api';
import { useQuery } from '../api/use-query';
import { ErrorPanel } from '../components/ErrorPanel';
import { Panel } from '../components/Panel';
import { deliveryLine, integrationInput, KIND_LABELS, sourceHealthLine, type IntegrationForm } from './SettingsView.sources.model';
import './SettingsView.css';

/** Health and retries change without an event: the lists are asked again this often. */
const REFRESH_MS = 5_000;

function useRefresh(refetch: () => void): void {
  useEffect(() => {
    const timer = setInterval(refetch, REFRESH_MS);
    return () => clearInterval(timer);
  }, [refetch]);
}

/** Prometheus sources: health, a form to add or change one (token never shown), a dry test. */
export function SourcesPanel() {
  const client = useApi();
  const list = useQuery('sources.list', {}, { refetchOn: ['fleet.updated'], throttleMs: 2_000 });
  useRefresh(list.refetch);
  const [url, setUrl] = useState('');
  const [token, setToken] = useState('');
  const { busy, error, run } = useAction(() => list.refetch());
  const [tested, setTested] = useState<SourceTestResult | null>(null);
  const input = () => ({ url: url.trim(), ...(token ? { token } : {}) });
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    run(async () => {
      await client.call('sources.configure', input());
      setToken('');
    });
  };

  const sources = list.data?.sources ?? [];
  return (
    <Panel title="Metric sources" testId="settings-sources" className="settings-wide">
      {list.error && !list.data && <ErrorPanel title="The sources could not be listed" error={list.error} onRetry={list.refetch} />}
      {error && <ErrorPanel title="The source was not changed" error={error} />}
      {sources.length === 0 && list.data && <p className="muted">No Prometheus source: the fleet comes from the simulator and imported files.</p>}
      {sources.length > 0 && (
        <table className="settings-table" data-testid="sources-table">
          <thead>
            <tr>
              <th>Source</th>
              <th>URL</th>
              <th>Token</th>
              <th>Health</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {sources.map((s) => (
              <tr key={s.id} data-state={s.health.state}>
                <td>{s.id}</td>
                <td className="mono">{s.url}</td>
                <td>{s.tokenSet ? 'set' : 'none'}</td>
                <td className={`source-${s.health.state}`}>{sourceHealthLine(s.health)}</td>
                <td>
                  <button type="button" disabled={busy} onClick={() => run(() => client.call('sources.remove', { id: s.id }))}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="settings-form" onSubmit={submit}>
        <label>
          Prometheus URL
          <input type="url" required placeholder="http://prometheus:9090" value={url} onChange={(e) => setUrl(e.target.value)} data-testid="source-url" />
        </label>
        <label>
          Bearer token
          <input
            type="password"
            autoComplete="off"
            placeholder={sources.some((s) => s.id === 'prometheus' && s.tokenSet) ? 'stored (leave empty to keep)' : 'optional'}
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </label>
        <div className="settings-buttons">
          <button type="button" disabled={busy || !url} onClick={() => run(async () => setTested(await client.call('sources.test', input())))}>
            Test
          </button>
          <button type="submit" disabled={busy || !url}>
            Save and start
          </button>
        </div>
      </form>
      {tested && (
        <div className="settings-test" data-testid="source-test">
          <p className={tested.ok ? 'ok' : 'bad'}>
            {tested.ok ? `Would ingest ${tested.servers.length} servers (${tested.series} series)` : 'Nothing would be ingested'} at {tested.time.slice(11, 16)} UTC, in{' '}
            {Math.round(tested.durationMs)} ms.
          </p>
          <ul>
            {tested.servers.slice(0, 20).map((s) => (
              <li key={s.server}>
                <strong>{s.server}</strong> ({s.profile}, {s.instance}):{' '}
                {Object.entries(s.metrics)
                  .map(([k, v]) => `${k} ${v === null ? 'NaN/Inf' : Number(v.toFixed(2))}`)
                  .join(', ')}
              </li>
            ))}
            {tested.problems.map((p, i) => (
              <li key={`p${i}`} className="bad">
                {[p.metric, p.instance].filter(Boolean).join(' ')}: {p.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
    </Panel>
  );
}

const EMPTY_FORM: IntegrationForm = { kind: 'alertmanager', id: '', url: '', routingKey: '', minSeverity: 'warning' };

/** Alert receivers, the "send test alert" button and the delivery log. */
export function IntegrationsPanel() {
  const client = useApi();
  const list = useQuery('integrations.list', {}, { refetchOn: ['alerts.changed'], throttleMs: 1_000 });
  const log = useQuery('integrations.log', { limit: 50 }, { refetchOn: ['alerts.changed'], throttleMs: 1_000 });
  useRefresh(list.refetch);
  useRefresh(log.refetch);
  const [form, setForm] = useState<IntegrationForm>(EMPTY_FORM);
  const { busy, error, run } = useAction(() => {
    list.refetch();
    log.refetch();
  });
  const [lastTest, setLastTest] = useState<Delivery | null>(null);
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    run(async () => {
      await client.call('integrations.configure', integrationInput(form));
      setForm(EMPTY_FORM);
    });
  };
  const secretUrl = form.kind === 'webhook' || form.kind === 'slack';
  const integrations = list.data?.integrations ?? [];
  return (
    <Panel title="Alert integrations" testId="settings-integrations" className="settings-wide">
      {list.error && !list.data && <ErrorPanel title="The integrations could not be listed" error={list.error} onRetry={list.refetch} />}
      {error && <ErrorPanel title="The integration call failed" error={error} />}
      {integrations.length === 0 && list.data && <p className="muted">No receiver: alerts show here and in the Alerts view only.</p>}
      {integrations.length > 0 && (
        <table className="settings-table" data-testid="integrations-table">
          <thead>
            <tr>
              <th>Receiver</th>
              <th>Target</th>
              <th>Sends</th>
              <th>Queue</th>
              <th>Last error</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {integrations.map((i) => (
              <tr key={i.id}>
                <td>
                  {i.id} <span className="muted">({KIND_LABELS[i.kind]})</span>
                </td>
                <td className="mono">
                  {i.target}
                  {i.secretSet && i.kind !== 'alertmanager' ? ' (secret stored)' : ''}
                </td>
                <td>{i.enabled ? (i.minSeverity === 'critical' ? 'critical only' : 'all alerts') : 'disabled'}</td>
                <td>
                  {i.pending} pending, {i.delivered} sent, {i.failed} failed
                </td>
                <td className="bad">{i.lastError ?? ''}</td>
                <td className="settings-buttons">
                  <button type="button" disabled={busy} data-testid={`integration-test-${i.id}`} onClick={() => run(async () => setLastTest(await client.call('integrations.test', { id: i.id })))}>
                    Send test alert
                  </button>
                  <button type="button" disabled={busy} onClick={() => run(() => client.call('integrations.remove', { id: i.id }))}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {lastTest && (
        <p className={lastTest.state === 'delivered' ? 'ok' : 'bad'} data-testid="integration-test-result">
          Test to {lastTest.integrationId}: {deliveryLine(lastTest)}
          {lastTest.error ? ` (${lastTest.error})` : ''}
        </p>
      )}
      <form className="settings-form" onSubmit={submit}>
        <label>
          Kind
          <select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value as IntegrationKind })}>
            {INTEGRATION_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input required pattern="[a-z0-9][a-z0-9_\-]{0,39}" placeholder="oncall" value={form.id} onChange={(e) => setForm({ ...form, id: e.target.value })} />
        </label>
        <label>
          {form.kind === 'alertmanager' ? 'Alertmanager URL' : form.kind === 'pagerduty' ? 'Events API URL (optional)' : `${KIND_LABELS[form.kind]} URL`}
          <input
            type={secretUrl ? 'password' : 'url'}
            autoComplete="off"
            required={form.kind === 'alertmanager'}
            placeholder={form.kind === 'alertmanager' ? 'http://alertmanager:9093' : secretUrl ? 'secret; leave empty to keep the stored one' : 'https://events.pagerduty.com/v2/enqueue'}
            value={form.url}
            onChange={(e) => setForm({ ...form, url: e.target.value })}
          />
        </label>
        {form.kind === 'pagerduty' && (
          <label>
            Routing key
            <input type="password" autoComplete="off" placeholder="leave empty to keep the stored one" value={form.routingKey} onChange={(e) => setForm({ ...form, routingKey: e.target.value })} />
          </label>
        )}
        <label>
          Send
          <select value={form.minSeverity} onChange={(e) => setForm({ ...form, minSeverity: e.target.value as 'warning' | 'critical' })}>
            <option value="warning">every alert</option>
            <option value="critical">critical alerts only</option>
          </select>
        </label>
        <div className="settings-buttons">
          <button type="submit" disabled={busy}>
            Save
          </button>
        </div>
      </form>
      <h3 className="settings-subtitle">Delivery log</h3>
      {log.data && log.data.deliveries.length === 0 && <p className="muted">Nothing sent yet.</p>}
      <ul className="delivery-log" data-testid="delivery-log">
        {(log.data?.deliveries ?? []).map((d) => (
          <li key={d.id} data-state={d.state}>
            <span className="mono">{(d.deliveredAt ?? d.lastAttemptAt ?? d.createdAt).slice(0, 19).replace('T', ' ')}</span> {d.integrationId}: {deliveryLine(d)}
            {d.error && d.state !== 'delivered' ? <span className="bad"> ({d.error})</span> : null}
          </li>
        ))}
      </ul>
    </Panel>
  );
}

/** One mutation at a time: busy while it runs, its error kept, then `after` (refetch what it changed). */
function useAction(after: () => void): { busy: boolean; error: ApiError | null; run: (action: () => Promise<unknown>) => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = (action: () => Promise<unknown>): void => {
    setBusy(true);
    setError(null);
    action()
      .catch((e: unknown) => setError(e as ApiError))
      .finally(() => {
        setBusy(false);
        after();
      });
  };
  return { busy, error, run };
}
