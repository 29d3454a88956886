import { createApiClient, type ApiClient, type Transport } from '@shared/contract';
import { createHttpTransport } from './http-transport';
import { createIpcTransport, isPreloadApi } from './ipc-transport';

/**
 * The dashboard's one client. Inside the Electron window the preload exposes `window.api` and
 * calls go over IPC; served by the daemon to a browser, they go over HTTP + WebSocket to the
 * page's own origin. Views only ever see the ApiClient.
 */
export function createClient(): ApiClient {
  const bridge = (globalThis as { api?: unknown }).api;
  if (isPreloadApi(bridge)) return createApiClient(createIpcTransport(bridge));

  const { protocol, host } = window.location;
  const transport = createHttpTransport({
    rpcBase: '',
    wsUrl: `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}/ws`,
  });
  // Coming back online or to the tab is the moment to retry, not when the backoff says.
  window.addEventListener('online', () => transport.retryNow());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') transport.retryNow();
  });
  return createApiClient(transport);
}

/** For tooltips and diagnostics only: views must not behave differently per transport. */
export function describeTransport(kind: Transport['kind']): string {
  switch (kind) {
    case 'ipc':
      return 'Electron IPC (desktop app)';
    case 'http':
      return 'HTTP + WebSocket (daemon)';
    case 'in-process':
      return 'in-process (tests)';
  }
}
