import { IPC_EVENT_CHANNEL, IPC_RPC_CHANNEL, type IpcEnvelope, type PreloadApi } from '@shared/contract/ipc';

// Only '@shared/contract/ipc' (constants and types): the rest of the contract pulls in zod, and a
// sandboxed preload must carry everything it uses in one small bundle.

/** The parts of Electron's ipcRenderer the preload uses; index.ts passes the real one. */
export interface PreloadIpcRenderer {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export interface PreloadContextBridge {
  exposeInMainWorld(apiKey: string, api: unknown): void;
}

/** The page reaches the core as `window.api`, and through nothing else. */
export const PRELOAD_API_KEY = 'api';

export function exposeApi(contextBridge: PreloadContextBridge, ipcRenderer: PreloadIpcRenderer): void {
  contextBridge.exposeInMainWorld(PRELOAD_API_KEY, createPreloadApi(ipcRenderer));
}

/**
 * Two functions and no more: a page that is compromised can call the API (which the main
 * process validates anyway) but never touch ipcRenderer, other channels, or the raw IPC event
 * (whose `sender` would hand it ipcRenderer back).
 */
export function createPreloadApi(ipcRenderer: PreloadIpcRenderer): PreloadApi {
  return {
    async rpc(method: string, input: unknown): Promise<IpcEnvelope> {
      if (typeof method !== 'string') return failure('unknown_method', 'The method must be a string');
      try {
        return (await ipcRenderer.invoke(IPC_RPC_CHANNEL, method, input)) as IpcEnvelope;
      } catch (error) {
        // No handler (the app is quitting) or an input that cannot be cloned: still an envelope,
        // so the page's transport has a single error path.
        return failure('unavailable', `The IPC call failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    },

    onEvent(name: string, cb: (payload: unknown) => void): () => void {
      if (typeof name !== 'string' || typeof cb !== 'function') {
        throw new TypeError('onEvent(name, cb) needs an event name and a callback');
      }
      const listener = (_event: unknown, message: unknown): void => {
        if (!isMessageNamed(message, name)) return;
        try {
          cb(message.payload);
        } catch (error) {
          // One failing subscriber must not keep the event from the others.
          console.error(`a listener for ${name} failed:`, error);
        }
      };
      ipcRenderer.on(IPC_EVENT_CHANNEL, listener);
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        ipcRenderer.removeListener(IPC_EVENT_CHANNEL, listener);
      };
    },
  };
}

function isMessageNamed(message: unknown, name: string): message is { name: string; payload: unknown } {
  return typeof message === 'object' && message !== null && (message as { name?: unknown }).name === name;
}

function failure(code: 'unknown_method' | 'unavailable', message: string): IpcEnvelope {
  return { ok: false, error: { code, message } };
}
