import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '@shared/contract';
import { IntegrationInputSchema, type Alert, type IntegrationInput } from '@shared/domain';
import { createMemoryLogger } from '../util/logger';
import { IntegrationManager, INTEGRATIONS_FILE } from './integration-manager';
import { freePort, missingBinaries, startRealStack, type RealStack } from '../sources/prometheus/testing/real-prometheus';

/**
 * Alert integrations against a real Alertmanager (Debian's prometheus-alertmanager on a loopback
 * port) and node:http receivers that record every request. The alerts come from a real EventBus
 * and an alert book the test controls (the predictor's part is tested in fleet/).
 */
const skipAm = missingBinaries(['alertmanager']);
if (skipAm) console.warn(`integrations.real.test: ${skipAm}`);

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A receiver on a loopback port: records what it gets, answers `status()` (200 by default). */
async function startReceiver(port = 0, status: (n: number) => number = () => 200): Promise<{ url: string; got: Received[]; server: Server; port: number; close: () => Promise<void> }> {
  const got: Received[] = [];
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const code = status(++requests);
      const text = Buffer.concat(chunks).toString('utf8');
      // Only a request it accepts counts as received.
      if (code < 300) got.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text) as unknown });
      res.writeHead(code, { 'content-type': 'application/json' }).end(code < 300 ? '{"status":"success"}' : '{"message":"nope"}');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const actual = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    got,
    server,
    port: actual,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 7,
    server: 'ppdb001',
    profile: 'database',
    severity: 'critical',
    state: 'open',
    risk: 0.72,
    peakRisk: 0.8,
    failureMode: 'memory',
    timeToThreshold: { metric: 'memory_percent', threshold: 95, at: '2026-01-05T14:05:00.000Z' },
    startedAt: '2026-01-05T09:00:00.000Z',
    endedAt: null,
    updatedAt: '2026-01-05T09:10:00.000Z',
    acknowledged: null,
    ...over,
  };
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tftmp-integrations-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setup(name: string, backoffMs = 50): { manager: IntegrationManager; events: EventBus; open: Alert[]; logger: ReturnType<typeof createMemoryLogger>; dataDir: string; configure: (i: IntegrationInput) => ReturnType<IntegrationManager['configure']> } {
  const dataDir = join(dir, name);
  const events = new EventBus();
  const open: Alert[] = [];
  const logger = createMemoryLogger();
  const manager = new IntegrationManager({ dataDir, events, logger, activeAlerts: () => [...open], backoffMs, maxBackoffMs: 400 });
  cleanups.push(() => manager.close());
  return { manager, events, open, logger, dataDir, configure: (i) => manager.configure(IntegrationInputSchema.parse(i)) };
}

const changed = (events: EventBus): void =>
  events.emit('alerts.changed', { time: new Date().toISOString(), opened: 1, updated: 0, resolved: 0, acknowledged: 0, active: { warning: 0, critical: 1 } });

describe.skipIf(skipAm !== null)('Alertmanager (real)', () => {
  let stack: RealStack;
  beforeAll(async () => {
    stack = await startRealStack({ nodeExporter: false, prometheus: false, alertmanager: true });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  async function amAlerts(server: string): Promise<{ labels: Record<string, string>; annotations: Record<string, string>; status: { state: string } }[]> {
    const response = await fetch(`${stack.alertmanagerUrl}/api/v2/alerts?filter=${encodeURIComponent(`server="${server}"`)}`);
    return (await response.json()) as never;
  }

  it('fires with server/profile/failure_mode/severity labels and risk annotations, relabels on a severity change, resolves', async () => {
    const { manager, events, open, configure, dataDir } = setup('am');
    configure({ kind: 'alertmanager', id: 'am', url: stack.alertmanagerUrl! });
    open.push(alert());
    changed(events);
    await manager.idle();
    await waitFor(async () => (await amAlerts('ppdb001')).length === 1);
    const [fired] = await amAlerts('ppdb001');
    expect(fired!.labels).toEqual({
      alertname: 'TFTMPIncidentRisk',
      server: 'ppdb001',
      profile: 'database',
      failure_mode: 'memory',
      severity: 'critical',
      source: 'tftmp',
    });
    expect(fired!.annotations).toMatchObject({ risk: '0.720', peak_risk: '0.800', time_to_threshold: '2026-01-05T14:05:00.000Z', threshold_metric: 'memory_percent' });
    expect(fired!.status.state).toBe('active');

    // Critical -> warning: Alertmanager keys alerts by labels, so the critical one resolves and a warning one fires.
    open[0] = alert({ severity: 'warning', risk: 0.4 });
    changed(events);
    await manager.idle();
    await waitFor(async () => {
      const now = await amAlerts('ppdb001');
      return now.length === 1 && now[0]!.labels.severity === 'warning';
    });

    open.length = 0;
    changed(events);
    await manager.idle();
    await waitFor(async () => (await amAlerts('ppdb001')).length === 0);
    const log = manager.log('am');
    expect(log.map((d) => [d.event, d.state, d.attempts, d.httpStatus])).toEqual([
      ['resolved', 'delivered', 1, 200],
      ['firing', 'delivered', 1, 200],
      ['firing', 'delivered', 1, 200],
    ]);
    expect(manager.list()[0]).toMatchObject({ id: 'am', kind: 'alertmanager', pending: 0, delivered: 3, failed: 0, target: stack.alertmanagerUrl });
    expect(statSync(join(dataDir, INTEGRATIONS_FILE)).mode & 0o777).toBe(0o600);
  });

  it('sends a test alert Alertmanager shows with test="true"', async () => {
    const { manager, configure } = setup('am-test');
    configure({ kind: 'alertmanager', id: 'am', url: stack.alertmanagerUrl! });
    const delivery = await manager.test('am');
    expect(delivery).toMatchObject({ event: 'test', state: 'delivered', attempts: 1, httpStatus: 200 });
    await waitFor(async () => (await amAlerts('tftmp-test')).some((a) => a.labels.test === 'true'));
  });
});

describe('webhook, Slack and PagerDuty receivers (node:http)', () => {
  it('queues while the receiver is down, retries with backoff, delivers once when it is back; the URL token never shows', async () => {
    const port = await freePort();
    const SECRET = 'tok-abc123-secret';
    const { manager, events, open, logger, configure } = setup('down-up');
    const info = configure({ kind: 'webhook', id: 'hook', url: `http://127.0.0.1:${port}/hook?token=${SECRET}` });
    expect(info).toMatchObject({ target: `http://127.0.0.1:${port}/…`, secretSet: true });
    open.push(alert());
    changed(events);
    await waitFor(() => (manager.log('hook')[0]?.attempts ?? 0) >= 3);
    const waiting = manager.log('hook')[0]!;
    expect(waiting).toMatchObject({ state: 'retrying', event: 'firing', alertId: 7, httpStatus: null });
    expect(waiting.error).toMatch(/connection failed \(ECONNREFUSED\)/);
    expect(manager.list()[0]!.pending).toBe(1);

    const receiver = await startReceiver(port);
    cleanups.push(() => receiver.close());
    await waitFor(() => manager.log('hook')[0]!.state === 'delivered');
    await manager.idle();
    expect(receiver.got).toHaveLength(1);
    expect(receiver.got[0]!.path).toBe(`/hook?token=${SECRET}`);
    expect(receiver.got[0]!.headers['idempotency-key']).toBe(waiting.id);
    expect(receiver.got[0]!.body).toMatchObject({ version: 1, event: 'firing', deliveryId: waiting.id, alert: { id: 7, server: 'ppdb001' } });

    // The same open alerts again: nothing new is sent.
    changed(events);
    await manager.idle();
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.got).toHaveLength(1);

    open.length = 0;
    changed(events);
    await waitFor(() => receiver.got.length === 2);
    expect(receiver.got[1]!.body).toMatchObject({ event: 'resolved', alert: { id: 7 } });
    const everything = JSON.stringify([manager.list(), manager.log(), logger.records]);
    expect(everything).not.toContain(SECRET);
  });

  it('keeps the queue across a restart: nothing lost, nothing sent twice', async () => {
    const port = await freePort();
    const first = setup('restart');
    first.configure({ kind: 'webhook', id: 'hook', url: `http://127.0.0.1:${port}/hook` });
    first.open.push(alert());
    changed(first.events);
    await waitFor(() => (first.manager.log('hook')[0]?.attempts ?? 0) >= 1);
    await first.manager.close();

    const receiver = await startReceiver(port);
    cleanups.push(() => receiver.close());
    const events = new EventBus();
    const second = new IntegrationManager({ dataDir: first.dataDir, events, logger: createMemoryLogger(), activeAlerts: () => [alert()], backoffMs: 50, maxBackoffMs: 400 });
    cleanups.push(() => second.close());
    await waitFor(() => receiver.got.length === 1);
    changed(events);
    await second.idle();
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.got).toHaveLength(1);
    expect(second.log('hook')[0]).toMatchObject({ state: 'delivered', event: 'firing' });
    expect(second.log('hook')[0]!.attempts).toBeGreaterThanOrEqual(2);
  });

  it('PagerDuty: trigger and resolve share a dedup_key per alert id; a 500 is retried with the same key; the routing key never shows', async () => {
    const receiver = await startReceiver(0, (n) => (n === 1 ? 500 : 202));
    cleanups.push(() => receiver.close());
    const KEY = 'R0UTINGKEY0123456789abcdef';
    const { manager, events, open, logger, configure } = setup('pd');
    const info = configure({ kind: 'pagerduty', id: 'pd', routingKey: KEY, url: `${receiver.url}/v2/enqueue` });
    expect(info.secretSet).toBe(true);
    open.push(alert({ id: 42 }));
    changed(events);
    await waitFor(() => receiver.got.length === 1);
    expect(receiver.got[0]!.body).toMatchObject({
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: 'tftmp-alert-42',
      payload: { source: 'ppdb001', severity: 'critical', component: 'database', class: 'memory' },
    });
    expect(manager.log('pd')[0]).toMatchObject({ state: 'delivered', attempts: 2, httpStatus: 202 });
    open.length = 0;
    changed(events);
    await waitFor(() => receiver.got.length === 2);
    expect(receiver.got[1]!.body).toEqual({ routing_key: KEY, event_action: 'resolve', dedup_key: 'tftmp-alert-42' });
    // Changing settings without the key keeps it.
    expect(configure({ kind: 'pagerduty', id: 'pd', minSeverity: 'critical', url: `${receiver.url}/v2/enqueue` }).secretSet).toBe(true);
    expect(JSON.stringify([manager.list(), manager.log(), logger.records])).not.toContain(KEY);
  });

  it('Slack: a readable line; a warning alert is not sent to a critical-only receiver until it escalates', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const { manager, events, open, configure } = setup('slack');
    configure({ kind: 'slack', id: 'slack', url: `${receiver.url}/services/T000/B000/XXXX`, minSeverity: 'critical' });
    open.push(alert({ severity: 'warning', risk: 0.35 }));
    changed(events);
    await manager.idle();
    expect(receiver.got).toHaveLength(0);
    open[0] = alert();
    changed(events);
    await waitFor(() => receiver.got.length === 1);
    expect((receiver.got[0]!.body as { text: string }).text).toBe(
      ':red_circle: CRITICAL: ppdb001 (database) 72% risk of an incident within 8 h, failure mode memory; memory_percent reaches 95 at 2026-01-05T14:05:00.000Z',
    );
  });

  it('a test alert to a receiver that refuses it (4xx) fails at once with the reason, and is not retried', async () => {
    const receiver = await startReceiver(0, () => 400);
    cleanups.push(() => receiver.close());
    const { manager, configure } = setup('bad');
    configure({ kind: 'webhook', id: 'hook', url: `${receiver.url}/hook` });
    const delivery = await manager.test('hook');
    expect(delivery).toMatchObject({ state: 'failed', attempts: 1, httpStatus: 400, error: 'HTTP 400: {"message":"nope"}' });
    await new Promise((r) => setTimeout(r, 200));
    expect(manager.log('hook')).toHaveLength(1);
    expect(manager.list()[0]).toMatchObject({ pending: 0, failed: 1 });
    await expect(manager.test('nope')).rejects.toThrow('No integration with id "nope"');
    expect(() => configure({ kind: 'slack', id: 'new-slack' })).toThrow('url: required for a new slack integration');
    expect(() => configure({ kind: 'slack', id: 'hook', url: receiver.url })).toThrow(/is a webhook integration/);
    expect(readFileSync(join(dir, 'bad', INTEGRATIONS_FILE), 'utf8')).toContain('/hook');
  });
});
