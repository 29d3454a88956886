import { describe, expect, it, vi } from 'vitest';
import { ApiError, type ConnectionState } from '@shared/contract';
import type { IpcEnvelope, PreloadApi } from '@shared/contract/ipc';
import { sampleHealth } from '../test-support/fakes';
import { createIpcTransport, isPreloadApi } from './ipc-transport';

/** A preload bridge whose answers the test chooses and whose events it emits. */
function fakeBridge(answer: (method: string, input: unknown) => Promise<IpcEnvelope>) {
  const handlers = new Map<string, Set<(payload: unknown) => void>>();
  const rpc = vi.fn(answer);
  const bridge: PreloadApi = {
    rpc,
    onEvent(name, cb) {
      const set = handlers.get(name) ?? new Set();
      handlers.set(name, set);
      set.add(cb);
      return () => set.delete(cb);
    },
  };
  const emit = (name: string, payload: unknown) => handlers.get(name)?.forEach((cb) => cb(payload));
  const count = (name: string) => handlers.get(name)?.size ?? 0;
  return { bridge, rpc, emit, count };
}

const ok = (value: unknown) => Promise.resolve<IpcEnvelope>({ ok: true, value });

describe('ipc transport', () => {
  it('unwraps an ok envelope', async () => {
    const { bridge, rpc } = fakeBridge(() => ok({ theme: 'dark', riskPalette: 'standard' }));
    const transport = createIpcTransport(bridge);
    await expect(transport.call('settings.get', {})).resolves.toEqual({ theme: 'dark', riskPalette: 'standard' });
    expect(rpc).toHaveBeenCalledWith('settings.get', {});
  });

  it('throws the envelope error as an ApiError, issues included', async () => {
    const { bridge } = fakeBridge(() =>
      Promise.resolve<IpcEnvelope>({
        ok: false,
        error: {
          code: 'invalid_input',
          message: 'Invalid input for settings.update',
          issues: [{ path: 'theme', message: 'bad' }],
        },
      }),
    );
    const error = await createIpcTransport(bridge)
      .call('settings.update', { theme: 'dark' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid_input');
    expect((error as ApiError).issues).toEqual([{ path: 'theme', message: 'bad' }]);
  });

  it('rejects a malformed envelope as internal and a failed invoke as unavailable', async () => {
    const malformed = fakeBridge(() => Promise.resolve('surprise' as unknown as IpcEnvelope));
    const e1 = await createIpcTransport(malformed.bridge)
      .call('system.health', {})
      .catch((e: unknown) => e);
    expect((e1 as ApiError).code).toBe('internal');

    const broken = fakeBridge(() => Promise.reject(new Error('No handler registered for tftmp:rpc')));
    const e2 = await createIpcTransport(broken.bridge)
      .call('system.health', {})
      .catch((e: unknown) => e);
    expect((e2 as ApiError).code).toBe('unavailable');
    expect((e2 as ApiError).message).toContain('No handler registered');
  });

  it('is open from the start and closed after close()', () => {
    const transport = createIpcTransport(fakeBridge(() => ok(null)).bridge);
    const states: ConnectionState[] = [];
    transport.onConnectionChange((s) => states.push(s));
    transport.close();
    expect(states).toEqual(['open', 'closed']);
  });

  it('delivers valid events, drops invalid ones, and unsubscribes from the bridge', () => {
    const { bridge, emit, count } = fakeBridge(() => ok(null));
    const transport = createIpcTransport(bridge);
    const seen: number[] = [];
    const off = transport.subscribe('health.updated', (h) => seen.push(h.uptimeSeconds));
    emit('health.updated', sampleHealth({ uptimeSeconds: 1 }));
    emit('health.updated', { nonsense: true });
    emit('health.updated', sampleHealth({ uptimeSeconds: 2 }));
    expect(seen).toEqual([1, 2]);
    expect(count('health.updated')).toBe(1);
    off();
    expect(count('health.updated')).toBe(0);

    transport.subscribe('settings.changed', () => {});
    transport.close();
    expect(count('settings.changed')).toBe(0);
  });

  it('recognises a preload bridge', () => {
    expect(isPreloadApi(fakeBridge(() => ok(null)).bridge)).toBe(true);
    expect(isPreloadApi(undefined)).toBe(false);
    expect(isPreloadApi({ rpc: () => {} })).toBe(false);
  });
});
