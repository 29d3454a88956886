import {
  API_ERROR_CODES,
  ApiError,
  type ApiErrorCode,
  type ConnectionState,
  type EventListener,
  type EventName,
  type Transport,
} from '@shared/contract';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { decodeSocketMessage } from './decode-event';
import { EventListeners } from './listeners';

/** The part of the browser WebSocket the transport uses; tests pass a fake. */
export interface SocketLike {
  onopen: ((ev: Event) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  close(code?: number, reason?: string): void;
}

export type SocketConstructor = new (url: string) => SocketLike;
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface HttpTransportOptions {
  /** Prefix for `/api/rpc/<method>`: '' for the page's own origin (the dashboard), or 'http://host:port'. */
  rpcBase: string;
  /** The event stream, `ws(s)://<host>/ws`. */
  wsUrl: string;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** Default: the global WebSocket. */
  WebSocket?: SocketConstructor;
  /** Reconnect delays. Default 0.5 s doubling up to 10 s, with jitter. */
  backoff?: Partial<BackoffOptions>;
  /**
   * Consecutive failed connection attempts after which the link reports 'closed' (it keeps
   * retrying). Before that it reports 'connecting': a daemon restart should read "Reconnecting…",
   * not flash red.
   */
  failuresBeforeClosed?: number;
  /** A socket that has not opened after this long is abandoned and retried. */
  openTimeoutMs?: number;
  /** A call with no answer after this long fails as 'unavailable'. */
  requestTimeoutMs?: number;
}

export interface HttpTransport extends Transport {
  readonly kind: 'http';
  /** Skips the current backoff wait (the browser came back online, the tab became visible). */
  retryNow(): void;
}

const DEFAULTS = { failuresBeforeClosed: 3, openTimeoutMs: 10_000, requestTimeoutMs: 30_000 };

/**
 * The daemon transport: calls are `POST /api/rpc/<method>` with a JSON body; events come over
 * one WebSocket, opened on the first subscription (or connection listener) and kept open with
 * reconnects. `onConnectionChange` reports the current state at once, then every change.
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const fetchImpl: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const Socket: SocketConstructor | undefined = options.WebSocket ?? globalThis.WebSocket;
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };
  const failuresBeforeClosed = options.failuresBeforeClosed ?? DEFAULTS.failuresBeforeClosed;
  const openTimeoutMs = options.openTimeoutMs ?? DEFAULTS.openTimeoutMs;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;

  const listeners = new EventListeners();
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  let started = false;
  let disposed = false;
  let socket: SocketLike | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let openTimer: ReturnType<typeof setTimeout> | undefined;
  /** Index into the backoff sequence for the next retry. */
  let attempt = 0;
  /** Attempts in a row that never opened. */
  let failures = 0;

  const setState = (next: ConnectionState): void => {
    if (next === state) return;
    state = next;
    for (const listener of [...connectionListeners]) listener(next);
  };

  const detach = (s: SocketLike): void => {
    s.onopen = s.onclose = s.onerror = s.onmessage = null;
  };

  const connect = (): void => {
    retryTimer = undefined;
    if (disposed) return;
    if (state !== 'closed') setState('connecting');
    let s: SocketLike;
    try {
      if (!Socket) throw new Error('WebSocket is not available');
      s = new Socket(options.wsUrl);
    } catch {
      // A bad URL or a CSP refusal throws synchronously; count it as a failed attempt.
      onAttemptEnded(false);
      return;
    }
    socket = s;
    let opened = false;
    openTimer = setTimeout(() => {
      if (socket !== s) return;
      detach(s);
      socket = null;
      safeClose(s);
      onAttemptEnded(false);
    }, openTimeoutMs);
    s.onopen = () => {
      if (socket !== s) return;
      opened = true;
      clearTimeout(openTimer);
      attempt = 0;
      failures = 0;
      setState('open');
    };
    s.onmessage = (ev) => {
      if (socket !== s) return;
      const message = decodeSocketMessage(ev.data);
      if (message) listeners.dispatch(message);
    };
    // 'error' is always followed by 'close'; the close decides what happens next.
    s.onerror = () => {};
    s.onclose = () => {
      if (socket !== s) return;
      clearTimeout(openTimer);
      detach(s);
      socket = null;
      onAttemptEnded(opened);
    };
  };

  const onAttemptEnded = (hadOpened: boolean): void => {
    if (disposed) return;
    if (hadOpened) {
      // A link that was up and dropped: retry soon, from the start of the sequence.
      attempt = 0;
      failures = 0;
      setState('connecting');
    } else {
      failures += 1;
      if (failures >= failuresBeforeClosed) setState('closed');
    }
    const delay = backoffDelay(attempt, backoff);
    attempt += 1;
    retryTimer = setTimeout(connect, delay);
  };

  const start = (): void => {
    if (started || disposed) return;
    started = true;
    connect();
  };

  return {
    kind: 'http',

    async call(method, input) {
      if (disposed) throw new ApiError('unavailable', 'The client is closed');
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, requestTimeoutMs);
      try {
        let response: Response;
        let text: string;
        try {
          response = await fetchImpl(`${options.rpcBase}/api/rpc/${encodeURIComponent(method)}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json' },
            body: JSON.stringify(input ?? {}),
            credentials: 'same-origin',
            cache: 'no-store',
            signal: controller.signal,
          });
          text = await response.text();
        } catch (error) {
          throw new ApiError(
            'unavailable',
            timedOut
              ? `No answer to ${method} after ${Math.round(requestTimeoutMs / 1000)} s`
              : `Cannot reach the server for ${method}: ${messageOf(error)}`,
          );
        }
        return decodeResponse(method, response, text);
      } finally {
        clearTimeout(timer);
      }
    },

    subscribe<E extends EventName>(name: E, listener: EventListener<E>) {
      const off = listeners.add(name, listener);
      start();
      return off;
    },

    onConnectionChange(listener) {
      connectionListeners.add(listener);
      listener(state);
      start();
      return () => connectionListeners.delete(listener);
    },

    retryNow() {
      if (disposed || retryTimer === undefined) return;
      clearTimeout(retryTimer);
      attempt = 0;
      connect();
    },

    close() {
      if (disposed) return;
      disposed = true;
      clearTimeout(retryTimer);
      clearTimeout(openTimer);
      retryTimer = undefined;
      if (socket) {
        const s = socket;
        socket = null;
        detach(s);
        safeClose(s);
      }
      setState('closed');
      connectionListeners.clear();
      listeners.clear();
    },
  };
}

/**
 * Turns an HTTP answer into a result or an ApiError. A 2xx carries the output as JSON; anything
 * else should carry `{code, message, issues?}`, but a proxy or a crashed server may answer with
 * HTML or nothing, and that must still become a clear, typed error.
 */
export function decodeResponse(
  method: string,
  response: Pick<Response, 'ok' | 'status' | 'statusText'>,
  text: string,
): unknown {
  let body: unknown;
  let parsed = true;
  if (text.trim() === '') {
    body = undefined;
  } else {
    try {
      body = JSON.parse(text);
    } catch {
      parsed = false;
    }
  }
  if (response.ok) {
    if (!parsed) throw new ApiError('internal', `The answer to ${method} is not valid JSON`);
    return body;
  }
  if (parsed && isErrorBody(body)) throw ApiError.fromBody(body);
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  throw new ApiError(codeForStatus(response.status), `${method} failed: ${status}`);
}

function isErrorBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const code = (body as { code?: unknown }).code;
  return typeof code === 'string' && (API_ERROR_CODES as readonly string[]).includes(code);
}

/** For answers without an error body: the closest contract code for the status. */
export function codeForStatus(status: number): ApiErrorCode {
  switch (status) {
    case 400:
    case 422:
      return 'invalid_input';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 502:
    case 503:
    case 504:
      return 'unavailable';
    default:
      return 'internal';
  }
}

function safeClose(s: SocketLike): void {
  try {
    s.close(1000, 'client closed');
  } catch {
    // Closing a socket that never connected may throw in some engines; nothing to do.
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
