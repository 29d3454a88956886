import { ApiError, type ConnectionState, type Transport } from '@shared/contract';
import type { PreloadApi } from '@shared/contract/ipc';
import { decodeEvent } from './decode-event';

/** Anything shaped like the preload's `window.api`. */
export function isPreloadApi(value: unknown): value is PreloadApi {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PreloadApi).rpc === 'function' &&
    typeof (value as PreloadApi).onEvent === 'function'
  );
}

/**
 * The Electron transport, over the preload's `window.api`. The main process is the same
 * application, so the link is open from the start and stays open until the window closes.
 * `onConnectionChange` reports the current state at once, like the HTTP transport.
 */
export function createIpcTransport(bridge: PreloadApi): Transport {
  let state: ConnectionState = 'open';
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  const unsubscribers = new Set<() => void>();

  return {
    kind: 'ipc',

    async call(method, input) {
      if (state === 'closed') throw new ApiError('unavailable', 'The client is closed');
      let envelope: unknown;
      try {
        envelope = await bridge.rpc(method, input ?? {});
      } catch (error) {
        // Only the IPC plumbing itself rejects (the main process answers errors as envelopes).
        throw new ApiError('unavailable', `The app core did not answer ${method}: ${messageOf(error)}`);
      }
      if (typeof envelope !== 'object' || envelope === null || typeof (envelope as { ok?: unknown }).ok !== 'boolean') {
        throw new ApiError('internal', `Malformed answer to ${method}`);
      }
      const e = envelope as { ok: boolean; value?: unknown; error?: unknown };
      if (e.ok) return e.value;
      throw ApiError.fromBody(e.error, `${method} failed`);
    },

    subscribe(name, listener) {
      const off = bridge.onEvent(name, (payload) => {
        const message = decodeEvent(name, payload);
        if (message) listener(message.payload as Parameters<typeof listener>[0]);
      });
      let done = false;
      const unsubscribe = () => {
        if (done) return;
        done = true;
        unsubscribers.delete(unsubscribe);
        off();
      };
      unsubscribers.add(unsubscribe);
      return unsubscribe;
    },

    onConnectionChange(listener) {
      connectionListeners.add(listener);
      listener(state);
      return () => connectionListeners.delete(listener);
    },

    close() {
      if (state === 'closed') return;
      state = 'closed';
      for (const unsubscribe of [...unsubscribers]) unsubscribe();
      for (const listener of [...connectionListeners]) listener(state);
      connectionListeners.clear();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
