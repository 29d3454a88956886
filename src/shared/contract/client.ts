import type { Input, Method, Output } from './api';
import type { EventListener, EventName } from './events';

/** The state of the link between a client and the core, for the connection indicator. */
export type ConnectionState = 'connecting' | 'open' | 'closed';

/**
 * How a client reaches the core. Implementations: Electron IPC (preload), HTTP + WebSocket
 * (daemon), in-process (tests). `call` throws ApiError.
 */
export interface Transport {
  readonly kind: 'ipc' | 'http' | 'in-process';
  call(method: Method, input: unknown): Promise<unknown>;
  subscribe<E extends EventName>(name: E, listener: EventListener<E>): () => void;
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
  close(): void;
}

/** The typed face of a transport: views call `client.call('fleet.status', {})`. */
export interface ApiClient {
  readonly transport: Transport['kind'];
  call<M extends Method>(method: M, input: Input<M>): Promise<Output<M>>;
  on<E extends EventName>(name: E, listener: EventListener<E>): () => void;
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
  close(): void;
}

export function createApiClient(transport: Transport): ApiClient {
  return {
    transport: transport.kind,
    call: async (method, input) => (await transport.call(method, input)) as Output<typeof method>,
    on: (name, listener) => transport.subscribe(name, listener),
    onConnectionChange: (listener) => transport.onConnectionChange(listener),
    close: () => transport.close(),
  };
}
