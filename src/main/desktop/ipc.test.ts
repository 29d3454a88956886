import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, HealthSchema } from '@shared/domain';
import { EventBus, IPC_EVENT_CHANNEL, IPC_RPC_CHANNEL, type CoreApi, type IpcEnvelope } from '@shared/contract';
import { createMemoryLogger } from '../core/util/logger';
import { registerIpc } from './ipc';
import type { RendererLocation } from './renderer-location';
import { FakeElectron, FakeEvent, FakeFrame, FakeSession, FakeWebContents } from './testing/fake-electron';
import { quitAndWait, settle, startTestDesktop, type TestDesktop } from './testing/test-desktop';

let desktop: TestDesktop | undefined;
afterEach(async () => {
  await desktop?.stop();
  desktop = undefined;
});

/** Calls `channel` the way ipcRenderer.invoke would, from `frame` of `contents`. */
async function call(
  d: TestDesktop,
  channel: string,
  frame: FakeFrame | null,
  contents: FakeWebContents,
  ...args: unknown[]
): Promise<IpcEnvelope> {
  return (await d.fake.ipcMain.invoke(channel, d.fake.invokeEvent(frame, contents), ...args)) as IpcEnvelope;
}

function ownFrame(d: TestDesktop): FakeFrame {
  return d.fake.webContents[0]!.mainFrame;
}

describe('IPC entries', () => {
  it('are exactly the one RPC channel', async () => {
    desktop = await startTestDesktop();
    expect(desktop.fake.ipcMain.registrations).toEqual([IPC_RPC_CHANNEL]);
    expect([...desktop.fake.ipcMain.handlers.keys()]).toEqual([IPC_RPC_CHANNEL]);
  });

  it('each refuse a sender that is not our main frame on our page', async () => {
    desktop = await startTestDesktop();
    const d = desktop;
    const contents = d.fake.webContents[0]!;
    const own = ownFrame(d);
    const strangerContents = new FakeWebContents(new FakeSession());
    strangerContents.mainFrame.url = own.url;
    const senders: [string, FakeFrame | null, FakeWebContents][] = [
      ['no frame', null, contents],
      ['foreign URL', new FakeFrame('https://evil.example/'), contents],
      ['file next to ours', new FakeFrame(own.url.replace('index.html', 'evil.html')), contents],
      ['subframe on our page', new FakeFrame(own.url, own), contents],
      ['subframe on a foreign page', new FakeFrame('https://evil.example/', own), contents],
      ['our page in a web contents that is not our window', strangerContents.mainFrame, strangerContents],
    ];
    for (const channel of d.fake.ipcMain.handlers.keys()) {
      for (const [label, frame, sender] of senders) {
        const reply = await call(d, channel, frame, sender, 'system.health', {});
        expect(reply, `${channel}: ${label}`).toEqual({
          ok: false,
          error: { code: 'forbidden', message: expect.any(String) },
        });
      }
      expect(d.logger.records.filter((r) => r.message === 'refused an IPC call')).toHaveLength(senders.length);
    }
  });

  it('answer our page through dispatch with the real core', async () => {
    desktop = await startTestDesktop();
    const reply = await call(
      desktop,
      IPC_RPC_CHANNEL,
      ownFrame(desktop),
      desktop.fake.webContents[0]!,
      'system.health',
      {},
    );
    expect(reply.ok).toBe(true);
    const health = HealthSchema.parse((reply as { value: unknown }).value);
    expect(health).toMatchObject({ status: 'ok', runtime: 'desktop' });
    // The same answer the core gives in-process, bar the clock.
    const direct = await desktop.runtime.core.handlers['system.health']({}, { transport: 'in-process' });
    expect({ ...health, uptimeSeconds: 0 }).toEqual({ ...direct, uptimeSeconds: 0 });
  });

  it('accept a hash route on our page', async () => {
    desktop = await startTestDesktop();
    const frame = new FakeFrame(`${ownFrame(desktop).url}#/alerts`);
    const reply = await call(desktop, IPC_RPC_CHANNEL, frame, desktop.fake.webContents[0]!, 'fleet.status', undefined);
    expect(reply).toMatchObject({ ok: true, value: { serversTotal: 0 } });
  });

  it('map unknown methods, non-strings and bad input to typed errors', async () => {
    desktop = await startTestDesktop();
    const d = desktop;
    const c = d.fake.webContents[0]!;
    const ask = (method: unknown, input: unknown) => call(d, IPC_RPC_CHANNEL, ownFrame(d), c, method, input);
    for (const method of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'system.nope', '']) {
      expect(await ask(method, {}), method).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    }
    for (const method of [42, null, undefined, { length: 1000 }, ['system.health']]) {
      expect(await ask(method, {})).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    }
    const bad = await ask('settings.update', { theme: 'purple', extra: 1 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect((bad as { error: { issues?: unknown[] } }).error.issues?.length).toBeGreaterThan(0);
    expect(await ask('system.health', 'not an object')).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });
});

describe('events', () => {
  it('reach every window on the event channel, as the contract sends them', async () => {
    desktop = await startTestDesktop({ platform: 'darwin' });
    desktop.fake.app.emit('second-instance', new FakeEvent(), ['/opt/app'], '/', {});
    const [first] = desktop.fake.windows;
    first!.close();
    desktop.fake.app.emit('activate');
    await settle();
    const live = desktop.fake.webContents.filter((c) => !c.isDestroyed());
    expect(live).toHaveLength(1);
    for (const c of desktop.fake.webContents) c.sent.length = 0;

    const health = await desktop.runtime.core.handlers['system.health']({}, { transport: 'in-process' });
    desktop.runtime.core.events.emit('health.updated', health);
    for (const c of live)
      expect(c.sent).toEqual([{ channel: IPC_EVENT_CHANNEL, args: [{ name: 'health.updated', payload: health }] }]);
    expect(first!.webContents.sent).toEqual([]);
  });

  it('carry the effect of a call: settings.update emits settings.changed to the page', async () => {
    desktop = await startTestDesktop();
    const c = desktop.fake.webContents[0]!;
    c.sent.length = 0;
    const reply = await call(desktop, IPC_RPC_CHANNEL, ownFrame(desktop), c, 'settings.update', { theme: 'light' });
    expect(reply).toMatchObject({ ok: true, value: { theme: 'light' } });
    expect(c.sent).toEqual([
      {
        channel: IPC_EVENT_CHANNEL,
        args: [{ name: 'settings.changed', payload: expect.objectContaining({ theme: 'light' }) }],
      },
    ]);
  });

  it('start with the current health as soon as a page has loaded', async () => {
    desktop = await startTestDesktop();
    const c = desktop.fake.webContents[0]!;
    const first = c.sent[0];
    expect(first?.channel).toBe(IPC_EVENT_CHANNEL);
    expect(first?.args[0]).toMatchObject({ name: 'health.updated', payload: { status: 'ok', runtime: 'desktop' } });
    c.sent.length = 0;
    c.finishLoad(c.getURL()); // a reload
    await settle();
    expect(c.sent.map((s) => (s.args[0] as { name: string }).name)).toEqual(['health.updated']);
  });

  it('are not sent to a page that is not ours', async () => {
    desktop = await startTestDesktop();
    const c = desktop.fake.webContents[0]!;
    c.mainFrame.url = 'https://evil.example/';
    c.sent.length = 0;
    desktop.runtime.core.events.emit('settings.changed', DEFAULT_SETTINGS);
    expect(c.sent).toEqual([]);
  });

  it('stop, with the handler, when the app quits', async () => {
    // Without the tray, whose own alerts.changed listener also goes (tray.test.ts checks that one).
    desktop = await startTestDesktop({ alertTray: false });
    const { fake, runtime } = desktop;
    const before = runtime.core.events.listenerCount();
    expect(before).toBeGreaterThan(0);
    await quitAndWait(fake);
    expect(fake.ipcMain.handlers.size).toBe(0);
    expect(runtime.core.events.listenerCount()).toBe(before - 1);
  });
});

describe('registerIpc on its own', () => {
  const renderer: RendererLocation = {
    kind: 'dev-server',
    url: 'http://localhost:5173/',
    origin: 'http://localhost:5173',
  };

  it('turns a handler bug into an internal error, logged with its cause', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tftmp-ipc-'));
    try {
      const fake = new FakeElectron(dir);
      const contents = new FakeWebContents(fake.defaultSession);
      contents.mainFrame.url = 'http://localhost:5173/';
      const failing = () => {
        throw new Error('secret detail');
      };
      const core: CoreApi = {
        events: new EventBus(),
        handlers: {
          'system.health': failing,
          'fleet.status': failing,
          'fleet.servers': failing,
          'predictions.current': failing,
          'predictions.server': failing,
          'predictions.history': failing,
          'predictions.explain': failing,
          'metrics.history': failing,
          'trends.fleet': failing,
          'alerts.list': failing,
          'alerts.active': failing,
          'alerts.acknowledge': failing,
          'demo.state': failing,
          'demo.run': failing,
          'demo.control': failing,
          'demo.reset': failing,
          'settings.get': failing,
          'settings.update': failing,
          'sources.list': failing,
          'sources.configure': failing,
          'sources.test': failing,
          'sources.remove': failing,
          'integrations.list': failing,
          'integrations.configure': failing,
          'integrations.remove': failing,
          'integrations.test': failing,
          'integrations.log': failing,
          'model.list': failing,
          'model.activate': failing,
          'model.delete': failing,
          'model.import': failing,
          'model.export': failing,
          'model.check': failing,
          'model.train': failing,
          'model.cancel': failing,
          'model.jobs': failing,
          'import.upload': failing,
          'import.check': failing,
          'import.commit': failing,
          'import.discard': failing,
        },
      };
      const logger = createMemoryLogger();
      const bridge = registerIpc({ ipcMain: fake.ipcMain, core, renderer, appWebContents: () => [contents], logger });
      const reply = (await fake.ipcMain.invoke(
        IPC_RPC_CHANNEL,
        fake.invokeEvent(contents.mainFrame, contents),
        'fleet.status',
        {},
      )) as IpcEnvelope;
      expect(reply).toEqual({ ok: false, error: { code: 'internal', message: 'Internal error in fleet.status' } });
      expect(JSON.stringify(reply)).not.toContain('secret detail');
      expect(logger.records).toContainEqual(expect.objectContaining({ level: 'error', message: 'API handler failed' }));

      // A dev-server page may use any path on its origin; another port is another origin.
      const other = new FakeFrame('http://localhost:5174/');
      expect(
        await fake.ipcMain.invoke(IPC_RPC_CHANNEL, fake.invokeEvent(other, contents), 'fleet.status', {}),
      ).toMatchObject({ error: { code: 'forbidden' } });

      bridge.dispose();
      bridge.dispose();
      expect(fake.ipcMain.handlers.size).toBe(0);
      expect(core.events.listenerCount()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
