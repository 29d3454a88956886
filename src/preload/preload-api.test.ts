import { describe, expect, it, vi } from 'vitest';
import { IPC_EVENT_CHANNEL, IPC_RPC_CHANNEL, type IpcEnvelope, type PreloadApi } from '@shared/contract/ipc';
import { exposeApi } from './preload-api';
import { FakeContextBridge, FakeIpcRenderer } from './testing/fake-electron-renderer';

function expose(route?: (channel: string, args: unknown[]) => Promise<unknown>): {
  bridge: FakeContextBridge;
  ipc: FakeIpcRenderer;
  api: PreloadApi;
} {
  const bridge = new FakeContextBridge();
  const ipc = new FakeIpcRenderer(route);
  exposeApi(bridge, ipc);
  return { bridge, ipc, api: bridge.exposed.get('api') as PreloadApi };
}

describe('the preload', () => {
  it('exposes exactly one key, api, holding exactly rpc and onEvent', () => {
    const { bridge, api } = expose();
    expect([...bridge.exposed.keys()]).toEqual(['api']);
    expect(Object.keys(api as object).sort()).toEqual(['onEvent', 'rpc']);
    expect(Object.getOwnPropertyNames(api).sort()).toEqual(['onEvent', 'rpc']);
    expect(Object.getPrototypeOf(api)).toBe(Object.prototype);
    for (const value of Object.values(api as object)) expect(value).toBeTypeOf('function');
  });

  it('subscribes to nothing until the page asks', () => {
    const { ipc } = expose();
    expect(ipc.listenerCount(IPC_EVENT_CHANNEL)).toBe(0);
    expect(ipc.invocations).toEqual([]);
  });
});

describe('rpc', () => {
  it('invokes the one RPC channel with the method and input and returns the envelope', async () => {
    const envelope: IpcEnvelope = { ok: true, value: { status: 'ok' } };
    const route = vi.fn(() => Promise.resolve(envelope));
    const { ipc, api } = expose(route);
    await expect(api.rpc('system.health', { a: 1 })).resolves.toEqual(envelope);
    expect(ipc.invocations).toEqual([{ channel: IPC_RPC_CHANNEL, args: ['system.health', { a: 1 }] }]);
  });

  it('refuses a method that is not a string without calling the main process', async () => {
    const { ipc, api } = expose(() => Promise.resolve({ ok: true, value: null }));
    for (const method of [42, null, undefined, {}, ['system.health']]) {
      await expect(api.rpc(method as string, {})).resolves.toMatchObject({
        ok: false,
        error: { code: 'unknown_method' },
      });
    }
    expect(ipc.invocations).toEqual([]);
  });

  it('turns a failed invoke into an envelope, never a rejection', async () => {
    const { api } = expose();
    await expect(api.rpc('system.health', {})).resolves.toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });
});

describe('onEvent', () => {
  it('delivers only the named event, only the payload, to one listener per subscription', () => {
    const { ipc, api } = expose();
    const health = vi.fn();
    const settings = vi.fn();
    api.onEvent('health.updated', health);
    api.onEvent('settings.changed', settings);
    expect(ipc.listenerCount(IPC_EVENT_CHANNEL)).toBe(2);

    ipc.deliver(IPC_EVENT_CHANNEL, { name: 'health.updated', payload: { status: 'ok' } });
    ipc.deliver(IPC_EVENT_CHANNEL, { name: 'settings.changed', payload: { theme: 'dark' } });
    ipc.deliver(IPC_EVENT_CHANNEL, { name: 'other', payload: 1 });
    ipc.deliver(IPC_EVENT_CHANNEL, 'garbage');
    ipc.deliver(IPC_EVENT_CHANNEL, null);
    ipc.deliver('some-other-channel', { name: 'health.updated', payload: 'wrong channel' });

    expect(health.mock.calls).toEqual([[{ status: 'ok' }]]);
    expect(settings.mock.calls).toEqual([[{ theme: 'dark' }]]);
  });

  it('never hands the raw IPC event (and through it ipcRenderer) to the page', () => {
    const { ipc, api } = expose();
    const seen: unknown[][] = [];
    api.onEvent('health.updated', (...args: unknown[]) => seen.push(args));
    ipc.deliver(IPC_EVENT_CHANNEL, { name: 'health.updated', payload: { status: 'ok' } });
    expect(seen).toEqual([[{ status: 'ok' }]]);
    expect(JSON.stringify(seen)).not.toContain('sender');
  });

  it('unsubscribes, and unsubscribing twice is harmless', () => {
    const { ipc, api } = expose();
    const a = vi.fn();
    const b = vi.fn();
    const offA = api.onEvent('health.updated', a);
    api.onEvent('health.updated', b);
    offA();
    offA();
    expect(ipc.listenerCount(IPC_EVENT_CHANNEL)).toBe(1);
    ipc.deliver(IPC_EVENT_CHANNEL, { name: 'health.updated', payload: 1 });
    expect(a).not.toHaveBeenCalled();
    expect(b).toHaveBeenCalledTimes(1);
  });

  it('keeps delivering to the others when one callback throws', () => {
    const { ipc, api } = expose();
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const after = vi.fn();
    api.onEvent('health.updated', () => {
      throw new Error('boom');
    });
    api.onEvent('health.updated', after);
    ipc.deliver(IPC_EVENT_CHANNEL, { name: 'health.updated', payload: 1 });
    expect(after).toHaveBeenCalledWith(1);
    expect(error).toHaveBeenCalled();
    error.mockRestore();
  });

  it('rejects a call without a name or a callback', () => {
    const { ipc, api } = expose();
    expect(() => api.onEvent(1 as unknown as string, () => undefined)).toThrow(TypeError);
    expect(() => api.onEvent('health.updated', 'x' as unknown as () => void)).toThrow(TypeError);
    expect(ipc.listenerCount(IPC_EVENT_CHANNEL)).toBe(0);
  });
});
