import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type ConnectionState } from '@shared/contract';
import type { Health } from '@shared/domain';
import { eventFrame, fakeSocketClass, sampleHealth } from '../test-support/fakes';
import { codeForStatus, createHttpTransport, type FetchLike } from './http-transport';

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** A transport whose fetch answers with `respond`, recording every request. */
function withFetch(respond: (url: string, init: RequestInit) => Promise<Response> | Response) {
  const requests: { url: string; init: RequestInit }[] = [];
  const fetch: FetchLike = async (url, init) => {
    requests.push({ url, init });
    return respond(url, init);
  };
  const { Socket } = fakeSocketClass();
  const transport = createHttpTransport({
    rpcBase: 'http://127.0.0.1:8000',
    wsUrl: 'ws://127.0.0.1:8000/ws',
    fetch,
    WebSocket: Socket,
  });
  return { transport, requests };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('http transport: calls', () => {
  it('POSTs the input as JSON to /api/rpc/<method>, same-origin, and returns the output', async () => {
    const { transport, requests } = withFetch(() => json({ theme: 'light', riskPalette: 'standard' }));
    await expect(transport.call('settings.update', { theme: 'light' })).resolves.toEqual({
      theme: 'light',
      riskPalette: 'standard',
    });
    expect(requests).toHaveLength(1);
    const { url, init } = requests[0]!;
    expect(url).toBe('http://127.0.0.1:8000/api/rpc/settings.update');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['content-type']).toBe('application/json');
    expect(init.credentials).toBe('same-origin');
    expect(JSON.parse(init.body as string)).toEqual({ theme: 'light' });
  });

  it('sends {} when the input is undefined', async () => {
    const { transport, requests } = withFetch(() => json({}));
    await transport.call('fleet.status', undefined);
    expect(requests[0]!.init.body).toBe('{}');
  });

  it('decodes an error body into an ApiError with its code, message and issues', async () => {
    const { transport } = withFetch(() =>
      json(
        {
          code: 'invalid_input',
          message: 'Invalid input for settings.update',
          issues: [{ path: 'theme', message: 'Invalid option: expected one of "dark"|"light"' }, { bogus: true }],
        },
        400,
      ),
    );
    const error = await rejection(transport.call('settings.update', { theme: 'neon' as 'dark' }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toBe('Invalid input for settings.update');
    // Malformed issues are dropped, well-formed ones kept.
    expect(error.issues).toEqual([{ path: 'theme', message: 'Invalid option: expected one of "dark"|"light"' }]);
  });

  it('keeps the server code even when the status disagrees', async () => {
    const { transport } = withFetch(() => json({ code: 'unauthorized', message: 'Missing or wrong token' }, 403));
    const error = await rejection(transport.call('fleet.status', {}));
    expect(error.code).toBe('unauthorized');
    expect(error.message).toBe('Missing or wrong token');
  });

  it('maps an answer without an error body (a proxy page, an empty body) by its status', async () => {
    const html = withFetch(() => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    const e1 = await rejection(html.transport.call('fleet.status', {}));
    expect(e1.code).toBe('unavailable');
    expect(e1.message).toBe('fleet.status failed: HTTP 502 Bad Gateway');

    const empty = withFetch(() => new Response(null, { status: 404 }));
    const e2 = await rejection(empty.transport.call('fleet.status', {}));
    expect(e2.code).toBe('not_found');
    expect(e2.message).toContain('HTTP 404');

    // JSON, but not an error body: an unknown code is not trusted.
    const odd = withFetch(() => json({ code: 'teapot', message: 'short and stout' }, 500));
    const e3 = await rejection(odd.transport.call('fleet.status', {}));
    expect(e3.code).toBe('internal');
    expect(e3.message).toContain('HTTP 500');
  });

  it('rejects a 2xx whose body is not JSON as internal', async () => {
    const { transport } = withFetch(() => new Response('<!doctype html>', { status: 200 }));
    const error = await rejection(transport.call('system.health', {}));
    expect(error.code).toBe('internal');
    expect(error.message).toContain('not valid JSON');
  });

  it('turns a network failure into unavailable', async () => {
    const { transport } = withFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    const error = await rejection(transport.call('system.health', {}));
    expect(error.code).toBe('unavailable');
    expect(error.message).toContain('Failed to fetch');
  });

  it('gives up on a call with no answer after the timeout', async () => {
    vi.useFakeTimers();
    try {
      const fetch: FetchLike = (_url, init) =>
        new Promise((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        });
      const transport = createHttpTransport({ rpcBase: '', wsUrl: 'ws://x/ws', fetch, requestTimeoutMs: 5000 });
      const pending = rejection(transport.call('system.health', {}));
      await vi.advanceTimersByTimeAsync(5000);
      const error = await pending;
      expect(error.code).toBe('unavailable');
      expect(error.message).toBe('No answer to system.health after 5 s');
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses calls once closed', async () => {
    const { transport, requests } = withFetch(() => json({}));
    transport.close();
    expect((await rejection(transport.call('system.health', {}))).code).toBe('unavailable');
    expect(requests).toHaveLength(0);
  });

  it('has a code for every status it may meet', () => {
    expect(codeForStatus(401)).toBe('unauthorized');
    expect(codeForStatus(413)).toBe('payload_too_large');
    expect(codeForStatus(504)).toBe('unavailable');
    expect(codeForStatus(418)).toBe('internal');
  });
});

describe('http transport: event stream', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(random = 0) {
    const { Socket, sockets } = fakeSocketClass();
    const transport = createHttpTransport({
      rpcBase: '',
      wsUrl: 'ws://127.0.0.1:8000/ws',
      fetch: () => Promise.reject(new Error('no fetch in these tests')),
      WebSocket: Socket,
      backoff: { initialMs: 500, maxMs: 10_000, random: () => random },
    });
    const states: ConnectionState[] = [];
    return { transport, sockets, states, watch: () => transport.onConnectionChange((s) => states.push(s)) };
  }

  it('opens the socket only when someone listens', () => {
    const { transport, sockets } = setup();
    expect(sockets).toHaveLength(0);
    transport.subscribe('health.updated', () => {});
    expect(sockets).toHaveLength(1);
    expect(sockets[0]!.url).toBe('ws://127.0.0.1:8000/ws');
    transport.subscribe('settings.changed', () => {});
    expect(sockets).toHaveLength(1);
  });

  it('reports the current state at once, then each change', () => {
    const { sockets, states, watch } = setup();
    watch();
    expect(states).toEqual(['connecting']);
    sockets[0]!.open();
    expect(states).toEqual(['connecting', 'open']);
  });

  it('dispatches events by name, validated against the contract', () => {
    const { transport, sockets } = setup();
    const health: Health[] = [];
    const settings: unknown[] = [];
    transport.subscribe('health.updated', (h) => health.push(h));
    const off = transport.subscribe('settings.changed', (s) => settings.push(s));
    const socket = sockets[0]!;
    socket.open();
    socket.receive(eventFrame('health.updated', sampleHealth({ uptimeSeconds: 7 })));
    socket.receive(eventFrame('settings.changed', { theme: 'light', riskPalette: 'colorblind' }));
    off();
    socket.receive(eventFrame('settings.changed', { theme: 'dark', riskPalette: 'standard' }));
    expect(health.map((h) => h.uptimeSeconds)).toEqual([7]);
    expect(settings).toEqual([{ theme: 'light', riskPalette: 'colorblind' }]);
  });

  it('ignores malformed messages and keeps going', () => {
    const { transport, sockets } = setup();
    const seen: number[] = [];
    transport.subscribe('health.updated', (h) => seen.push(h.uptimeSeconds));
    const socket = sockets[0]!;
    socket.open();
    for (const bad of [
      'not json',
      '42',
      'null',
      JSON.stringify({ type: 'hello', name: 'health.updated', payload: sampleHealth() }),
      eventFrame('health.exploded', sampleHealth()),
      eventFrame('__proto__', {}),
      eventFrame('health.updated', { status: 'ok' }),
      eventFrame('health.updated', sampleHealth({ uptimeSeconds: -1 })),
      new ArrayBuffer(4),
    ]) {
      expect(() => socket.receive(bad)).not.toThrow();
    }
    socket.receive(eventFrame('health.updated', sampleHealth({ uptimeSeconds: 99 })));
    expect(seen).toEqual([99]);
  });

  it('a throwing listener does not starve the others', () => {
    const { transport, sockets } = setup();
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const seen: string[] = [];
    transport.subscribe('health.updated', () => {
      throw new Error('boom');
    });
    transport.subscribe('health.updated', () => seen.push('second'));
    sockets[0]!.open();
    sockets[0]!.receive(eventFrame('health.updated', sampleHealth()));
    expect(seen).toEqual(['second']);
    expect(error).toHaveBeenCalled();
    error.mockRestore();
  });

  it('reconnects after a drop, with backoff that grows to the cap and resets once open', () => {
    const { sockets, states, watch } = setup(0); // random 0: delays are exactly base/2
    watch();
    sockets[0]!.open();
    sockets[0]!.drop();
    expect(states.at(-1)).toBe('connecting');

    // First retry after a drop: attempt 0, 250 ms.
    vi.advanceTimersByTime(249);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);

    // Every failed attempt doubles the wait: 500, 1000, 2000, 4000, then the 10 s cap (5000 at r=0).
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const before = sockets.length;
      sockets.at(-1)!.drop();
      let waited = 0;
      while (sockets.length === before) {
        vi.advanceTimersByTime(50);
        waited += 50;
      }
      waits.push(waited);
    }
    expect(waits).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000]);

    // Open again: the sequence starts over.
    sockets.at(-1)!.open();
    expect(states.at(-1)).toBe('open');
    sockets.at(-1)!.drop();
    const before = sockets.length;
    vi.advanceTimersByTime(250);
    expect(sockets.length).toBe(before + 1);
  });

  it('reads "connecting" through a blip and "closed" after three failed attempts in a row', () => {
    const { sockets, states, watch } = setup(0);
    watch();
    sockets[0]!.open();
    sockets[0]!.drop(); // was open: not a failure
    vi.advanceTimersByTime(250);
    sockets[1]!.drop(); // failure 1
    vi.advanceTimersByTime(500);
    sockets[2]!.drop(); // failure 2
    expect(states).toEqual(['connecting', 'open', 'connecting']);
    vi.advanceTimersByTime(1000);
    sockets[3]!.drop(); // failure 3
    expect(states).toEqual(['connecting', 'open', 'connecting', 'closed']);
    // Still retrying, and still 'closed' while it does: no amber/red flicker.
    vi.advanceTimersByTime(2000);
    expect(sockets).toHaveLength(5);
    expect(states.at(-1)).toBe('closed');
    sockets[4]!.open();
    expect(states.at(-1)).toBe('open');
  });

  it('counts a socket that never opens as a failure (open timeout) and retries', () => {
    const { Socket, sockets } = fakeSocketClass();
    const transport = createHttpTransport({
      rpcBase: '',
      wsUrl: 'ws://x/ws',
      WebSocket: Socket,
      openTimeoutMs: 3000,
      backoff: { random: () => 0 },
    });
    transport.subscribe('health.updated', () => {});
    vi.advanceTimersByTime(3000);
    expect(sockets[0]!.closedByClient).toBe(true);
    vi.advanceTimersByTime(250);
    expect(sockets).toHaveLength(2);
    // Late events from the abandoned socket are not delivered.
    const seen: unknown[] = [];
    transport.subscribe('health.updated', (h) => seen.push(h));
    sockets[0]!.receive(eventFrame('health.updated', sampleHealth()));
    expect(seen).toEqual([]);
  });

  it('treats a constructor that throws as a failed attempt', () => {
    let made = 0;
    const Throwing = class {
      constructor() {
        made += 1;
        throw new DOMException('refused by CSP', 'SecurityError');
      }
    } as unknown as new (url: string) => never;
    const transport = createHttpTransport({
      rpcBase: '',
      wsUrl: 'ws://x/ws',
      WebSocket: Throwing,
      backoff: { random: () => 0 },
    });
    const states: ConnectionState[] = [];
    transport.onConnectionChange((s) => states.push(s));
    expect(made).toBe(1);
    vi.advanceTimersByTime(250);
    vi.advanceTimersByTime(500);
    expect(made).toBe(3);
    expect(states).toEqual(['connecting', 'closed']);
  });

  it('retryNow skips the backoff wait', () => {
    const { transport, sockets, watch } = setup(1);
    watch();
    sockets[0]!.drop();
    transport.retryNow();
    expect(sockets).toHaveLength(2);
    // While a socket is in flight, retryNow does not open a second one.
    transport.retryNow();
    expect(sockets).toHaveLength(2);
  });

  it('close() stops everything: no more sockets, no more events, state closed', () => {
    const { transport, sockets, states, watch } = setup();
    watch();
    const seen: unknown[] = [];
    transport.subscribe('health.updated', (h) => seen.push(h));
    sockets[0]!.open();
    transport.close();
    expect(sockets[0]!.closedByClient).toBe(true);
    expect(states.at(-1)).toBe('closed');
    sockets[0]!.receive(eventFrame('health.updated', sampleHealth()));
    sockets[0]!.drop();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    expect(seen).toEqual([]);
  });
});
