import { createContext, useContext } from 'react';
import type { ApiClient } from '@shared/contract';
import type { ConnectionMonitor } from './connection-monitor';

export interface ApiContextValue {
  client: ApiClient;
  connection: ConnectionMonitor;
}

/** Provided once at the root (main.tsx); tests and stories can provide their own client. */
export const ApiContext = createContext<ApiContextValue | null>(null);

export function useApiContext(): ApiContextValue {
  const value = useContext(ApiContext);
  if (!value) throw new Error('useApi() needs an <ApiContext.Provider> above it');
  return value;
}

/** The typed client: `useApi().call('settings.update', { theme: 'light' })`. */
export function useApi(): ApiClient {
  return useApiContext().client;
}
