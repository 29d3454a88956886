import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  api,
  ApiError,
  dispatch,
  METHODS,
  type EventMessage,
  type Input,
  type Method,
} from '@shared/contract';
import type { Core } from '../core/app';
import type { Daemon } from './server';
import { startTestDaemon } from './testing';

/**
 * The contract suite: the same cases against every transport the core is served over. A
 * transport is just "call a method with an input, get the output or an ApiError".
 */
type Call = (method: string, input: unknown) => Promise<unknown>;

/** One valid input per method: a new method without a sample here does not compile. */
const SAMPLE_INPUTS: { [M in Method]: Input<M> } = {
  'system.health': {},
  'fleet.status': {},
  'fleet.servers': {},
  'predictions.current': {},
  'predictions.server': { server: 'ppweb001' },
  'predictions.history': { server: 'ppweb001', hours: 6 },
  'predictions.explain': { server: 'ppweb001' },
  'metrics.history': { server: 'ppweb001', hours: 6 },
  'trends.fleet': { hours: 24 },
  'alerts.list': { state: 'all', limit: 10 },
  'alerts.active': {},
  'alerts.acknowledge': { id: 1, by: 'contract test' },
  'demo.state': {},
  'demo.run': { server: 'ppweb001', scenario: 'memory_leak', precursorHours: 2 },
  'demo.control': { speed: 60 },
  'demo.reset': {},
  'settings.get': {},
  'settings.update': { riskPalette: 'colorblind' },
  'model.list': {},
  'model.activate': { name: 'no-such-model' },
  'model.delete': { name: 'no-such-model' },
  'model.import': { dir: '/no/such/model-folder' },
  'model.export': { name: 'no-such-model', dir: '/tmp' },
  'model.check': { data: { kind: 'store', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' } },
  'model.train': { data: { kind: 'simulated', servers: 2, days: 2 }, settings: { epochs: 1 } },
  'model.cancel': { job: 'no-such-job' },
  'model.jobs': {},
  'sources.list': {},
  'sources.configure': { id: 'contract', url: 'http://127.0.0.1:9', backfillHours: 0, timeoutMs: 500 },
  'sources.test': { url: 'http://127.0.0.1:9', timeoutMs: 500 },
  'sources.remove': { id: 'no-such-source' },
  'integrations.list': {},
  'integrations.configure': { kind: 'webhook', id: 'contract', url: 'http://127.0.0.1:9/hook', enabled: false },
  'integrations.remove': { id: 'no-such-integration' },
  'integrations.test': { id: 'no-such-integration' },
  'integrations.log': { limit: 10 },
  'import.upload': { name: 'contract.csv', offset: 0, data: Buffer.from('timestamp,server,cpu_percent\n').toString('base64') },
  'import.check': { uploadId: '0'.repeat(32) },
  'import.commit': { uploadId: '0'.repeat(32) },
  'import.discard': { uploadId: '0'.repeat(32) },
};

/** Methods whose sample input names an object this empty core does not have: they answer not_found. */
const NOT_FOUND_HERE: ReadonlySet<Method> = new Set<Method>([
  'alerts.acknowledge',
  'predictions.server',
  'predictions.history',
  'predictions.explain',
  'metrics.history',
  'model.activate',
  'model.delete',
  'model.import',
  'model.export',
  'model.cancel',
  'sources.remove',
  'integrations.remove',
  'integrations.test',
  'import.check',
  'import.commit',
  'import.discard',
]);
/** Methods that need the simulated fleet, which this core runs without: they answer unavailable. */
const UNAVAILABLE_HERE: ReadonlySet<Method> = new Set<Method>(['demo.run', 'demo.control', 'demo.reset']);

let env: Awaited<ReturnType<typeof startTestDaemon>>;
let core: Core;
let daemon: Daemon;

beforeAll(async () => {
  env = await startTestDaemon();
  core = env.core;
  daemon = env.daemon;
});
afterAll(async () => {
  await env.stop();
});

const inProcess: Call = (method, input) =>
  dispatch(core, method, input, { transport: 'in-process' }, { validateOutput: true });

const overHttp: Call = async (method, input) => {
  const response = await fetch(`${daemon.url}/api/rpc/${encodeURIComponent(method)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body: unknown = await response.json();
  if (!response.ok) {
    const error = ApiError.fromBody(body);
    // The status must agree with the typed code, on every error.
    expect(response.status).toBe(error.httpStatus);
    throw error;
  }
  return body;
};

async function errorOf(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected the call to fail');
}

describe.each([
  ['in-process', inProcess],
  ['http', overHttp],
] as const)('contract over %s', (_name, call) => {
  it.each(METHODS)('%s answers its sample input with an output that matches the contract', async (method) => {
    if (NOT_FOUND_HERE.has(method)) {
      expect((await errorOf(call(method, SAMPLE_INPUTS[method]))).code).toBe('not_found');
      return;
    }
    if (method === 'model.train') {
      // This core has no training worker (the app passes the bundled one).
      const error = await errorOf(call(method, SAMPLE_INPUTS[method]));
      expect(error.code).toBe('unavailable');
      expect(error.message).toMatch(/training worker/);
      return;
    }
    if (UNAVAILABLE_HERE.has(method)) {
      const error = await errorOf(call(method, SAMPLE_INPUTS[method]));
      expect(error.code).toBe('unavailable');
      expect(error.message).toMatch(/simulat/);
      return;
    }
    const output = await call(method, SAMPLE_INPUTS[method]);
    const checked = api[method].output.safeParse(output);
    expect(checked.success, JSON.stringify(checked.error?.issues)).toBe(true);
  });

  it.each(['nope.nothing', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'system', ''])(
    'refuses the unknown method %j',
    async (method) => {
      const error = await errorOf(call(method, {}));
      expect(error.code).toBe('unknown_method');
    },
  );

  it('names the bad field of a bad input', async () => {
    const error = await errorOf(call('settings.update', { theme: 'blue' }));
    expect(error.code).toBe('invalid_input');
    expect(error.issues?.map((i) => i.path)).toEqual(['theme']);
  });

  it('refuses unknown fields instead of ignoring them', async () => {
    const error = await errorOf(call('settings.update', { theme: 'dark', colour: 'red' }));
    expect(error.code).toBe('invalid_input');
  });

  it.each([[[]], ['text'], [42], [true]])('refuses a non-object input %j', async (input) => {
    const error = await errorOf(call('system.health', input));
    expect(error.code).toBe('invalid_input');
  });

  it('cannot be polluted through __proto__ in an input', async () => {
    const error = await errorOf(call('settings.update', JSON.parse('{"__proto__": {"theme": "light"}}')));
    expect(error.code).toBe('invalid_input');
    expect(({} as Record<string, unknown>)['theme']).toBeUndefined();
  });

  it('answers no active alerts without a model, and names the bad field of an acknowledgement', async () => {
    expect(await call('alerts.active', {})).toMatchObject({ alerts: [] });
    const error = await errorOf(call('alerts.acknowledge', { id: 'one' }));
    expect(error.code).toBe('invalid_input');
    expect(error.issues?.map((i) => i.path)).toEqual(['id']);
    expect((await errorOf(call('alerts.acknowledge', { id: 1, by: '' }))).code).toBe('invalid_input');
    expect((await errorOf(call('alerts.acknowledge', { id: 1, extra: true }))).code).toBe('invalid_input');
  });

  it('updates settings and reads them back', async () => {
    await call('settings.update', { theme: 'light' });
    expect(await call('settings.get', {})).toMatchObject({ theme: 'light' });
    await call('settings.update', { theme: 'dark' });
    expect(await call('settings.get', {})).toMatchObject({ theme: 'dark' });
  });
});

describe('dispatch under arbitrary input', () => {
  it('only ever answers with an output or an ApiError, whatever the method name and input', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(...METHODS, '__proto__', 'constructor'), fc.string()),
        fc.jsonValue(),
        async (method, input) => {
          try {
            await dispatch(core, method, input, { transport: 'in-process' });
          } catch (error) {
            expect(error).toBeInstanceOf(ApiError);
            // not_found: a valid input naming an alert or server this core does not have;
            // unavailable: a valid demo call on a core without the simulated fleet.
            expect(['unknown_method', 'invalid_input', 'not_found', 'unavailable']).toContain((error as ApiError).code);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('events over the WebSocket', () => {
  function openSocket(): Promise<{ socket: WebSocket; messages: EventMessage[] }> {
    const socket = new WebSocket(`${daemon.url.replace('http', 'ws')}/ws`);
    const messages: EventMessage[] = [];
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as EventMessage));
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve({ socket, messages }));
      socket.once('error', reject);
    });
  }

  async function waitFor<T>(check: () => T | undefined, timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('greets with health, then pushes events that a call caused', async () => {
    const { socket, messages } = await openSocket();
    try {
      const hello = await waitFor(() => messages.find((m) => m.name === 'health.updated'));
      expect(api['system.health'].output.safeParse(hello.payload).success).toBe(true);

      await overHttp('settings.update', { riskPalette: 'standard' });
      const changed = await waitFor(() => messages.find((m) => m.name === 'settings.changed'));
      expect(changed.payload).toMatchObject({ riskPalette: 'standard' });
    } finally {
      socket.close();
    }
  });

  it('stops sending to a closed socket (no listener left behind)', async () => {
    // Besides the sockets, only the daemon's response cache listens (one listener): with every
    // socket closed, that one is left.
    const { socket } = await openSocket();
    await waitFor(() => (core.events.listenerCount() > 1 ? true : undefined));
    socket.close();
    await waitFor(() => (core.events.listenerCount() === 1 ? true : undefined));
  });
});
