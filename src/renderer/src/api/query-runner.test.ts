import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type ApiClient, type ConnectionState, type EventName } from '@shared/contract';
import type { FleetServers } from '@shared/domain';
import { QueryRunner, watchQuery, type QuerySnapshot } from './query-runner';

interface Call {
  id: number;
  resolve: (value: number) => void;
  reject: (error: unknown) => void;
}

/** A core that answers only when the test says so, recording every call. */
function fakeCore() {
  const calls: Call[] = [];
  const fetch = (): Promise<number> =>
    new Promise<number>((resolve, reject) => calls.push({ id: calls.length + 1, resolve, reject }));
  return { calls, fetch };
}

function setup(throttleMs = 1000) {
  const core = fakeCore();
  const snapshots: QuerySnapshot<number>[] = [];
  const runner = new QueryRunner<number>({ fetch: core.fetch, throttleMs, onChange: (s) => snapshots.push(s) });
  return { ...core, runner, snapshots, last: () => runner.getSnapshot() };
}

/** Lets settled promises run their callbacks (fake timers leave microtasks alone). */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('QueryRunner', () => {
  it('fetches at once on refetch and reports loading, data and updatedAt', async () => {
    const { calls, runner, last } = setup();
    runner.refetch();
    expect(calls).toHaveLength(1);
    expect(last()).toMatchObject({ loading: true, data: undefined });
    calls[0]!.resolve(7);
    await settle();
    expect(last()).toMatchObject({ loading: false, data: 7, error: null, updatedAt: Date.now() });
  });

  it('throttles events: leading call at once, one trailing call per window however many events', async () => {
    const { calls, runner } = setup(1000);
    runner.invalidate();
    expect(calls).toHaveLength(1);
    calls[0]!.resolve(1);
    await settle();

    for (let i = 0; i < 9; i++) {
      await vi.advanceTimersByTimeAsync(100);
      runner.invalidate();
    }
    // 900 ms in: still inside the first window.
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(2);
    calls[1]!.resolve(2);
    await settle();

    // Quiet afterwards: the trailing call was the last.
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(2);
    // An event after a quiet spell is a leading edge again.
    runner.invalidate();
    expect(calls).toHaveLength(3);
  });

  it('makes at most one call per throttle window under a steady stream of events', async () => {
    const { calls, runner } = setup(1000);
    // Ten events a second for ten seconds, every answer quick.
    for (let t = 0; t < 10_000; t += 100) {
      runner.invalidate();
      for (const call of calls) call.resolve(call.id);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(calls.length).toBeGreaterThanOrEqual(10);
    expect(calls.length).toBeLessThanOrEqual(11);
  });

  it('delivers a slow answer under an event per second instead of starting over', async () => {
    const { calls, runner, last } = setup(1000);
    runner.refetch();
    // The core takes 3.5 s per answer; an event arrives every second throughout.
    const answerAfter = new Map<number, number>();
    const delivered: number[] = [];
    for (let t = 0; t <= 20_000; t += 500) {
      if (t % 1000 === 0) runner.invalidate();
      for (const call of calls) {
        if (!answerAfter.has(call.id)) answerAfter.set(call.id, t + 3500);
        if (answerAfter.get(call.id) === t) call.resolve(call.id);
      }
      await vi.advanceTimersByTimeAsync(500);
      const data = last().data;
      if (data !== undefined && delivered.at(-1) !== data) delivered.push(data);
    }
    // Never two calls at once, and every call's answer was used, in order.
    expect(delivered.length).toBeGreaterThanOrEqual(4);
    expect(delivered).toEqual(delivered.map((_, i) => i + 1));
    expect(calls.length).toBe(delivered.length + 1);
  });

  it('waits for the running call before an event-driven one, then respects the window', async () => {
    const { calls, runner } = setup(1000);
    runner.refetch();
    runner.invalidate();
    runner.invalidate();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(1);
    calls[0]!.resolve(1);
    await settle();
    // The window since the last start is long over: the pending refetch goes at once.
    expect(calls).toHaveLength(2);
  });

  it('does not let the first load open a throttle window (no phase lock with a 1 s event stream)', async () => {
    const { calls, runner } = setup(1000);
    runner.refetch();
    await vi.advanceTimersByTimeAsync(50);
    calls[0]!.resolve(1);
    await vi.advanceTimersByTimeAsync(280);
    // An event a third of a second after the load, then one every second: each fetches at once.
    for (let i = 0; i < 5; i++) {
      runner.invalidate();
      expect(calls).toHaveLength(2 + i);
      calls.at(-1)!.resolve(i);
      await vi.advanceTimersByTimeAsync(1000);
    }
  });

  it('keeps data after a failed refetch and clears the error on the next success', async () => {
    const { calls, runner, last } = setup(0);
    runner.refetch();
    calls[0]!.resolve(1);
    await settle();
    runner.refetch();
    calls[1]!.reject(new ApiError('unavailable', 'core gone'));
    await settle();
    expect(last()).toMatchObject({ data: 1, loading: false });
    expect(last().error?.code).toBe('unavailable');
    runner.refetch();
    calls[2]!.reject(new Error('not an ApiError'));
    await settle();
    expect(last().error).toMatchObject({ code: 'internal', message: 'not an ApiError' });
    runner.refetch();
    calls[3]!.resolve(4);
    await settle();
    expect(last()).toMatchObject({ data: 4, error: null });
  });

  it('drops an older answer that arrives after a newer one', async () => {
    const { calls, runner, last } = setup();
    runner.refetch();
    // The link came back: ask again without waiting for the first call.
    runner.refetch();
    expect(calls).toHaveLength(2);
    calls[1]!.resolve(2);
    await settle();
    expect(last()).toMatchObject({ data: 2, loading: true });
    calls[0]!.resolve(1);
    await settle();
    expect(last()).toMatchObject({ data: 2, loading: false });
  });

  it('stops after dispose: no timers fire, late answers are ignored', async () => {
    const { calls, runner, snapshots } = setup();
    runner.invalidate();
    calls[0]!.resolve(1);
    await settle();
    runner.invalidate();
    const seen = snapshots.length;
    runner.dispose();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    runner.refetch();
    expect(calls).toHaveLength(1);
    expect(snapshots).toHaveLength(seen);
  });

  it('turns a fetch that throws synchronously into an error', async () => {
    const runner = new QueryRunner<number>({
      fetch: () => {
        throw new ApiError('invalid_input', 'bad');
      },
      onChange: () => {},
    });
    runner.refetch();
    await settle();
    expect(runner.getSnapshot()).toMatchObject({ loading: false, data: undefined });
    expect(runner.getSnapshot().error?.code).toBe('invalid_input');
  });
});

/** A client whose answers, events and link the test drives by hand. */
function fakeClient() {
  const calls: { method: string; input: unknown; resolve: (value: unknown) => void }[] = [];
  const listeners = new Map<EventName, Set<() => void>>();
  const linkListeners = new Set<(state: ConnectionState) => void>();
  let link: ConnectionState = 'open';
  const client: ApiClient = {
    transport: 'in-process',
    call: (method, input) =>
      new Promise((resolve) => calls.push({ method, input, resolve: resolve as (value: unknown) => void })),
    on: (name, listener) => {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      const entry = () => listener(undefined as never);
      set.add(entry);
      return () => set.delete(entry);
    },
    onConnectionChange: (listener) => {
      linkListeners.add(listener);
      listener(link);
      return () => linkListeners.delete(listener);
    },
    close: () => {},
  };
  return {
    client,
    calls,
    emit: (name: EventName) => listeners.get(name)?.forEach((l) => l()),
    listenerCount: () => [...listeners.values()].reduce((n, set) => n + set.size, 0) + linkListeners.size,
    setLink: (state: ConnectionState) => {
      link = state;
      linkListeners.forEach((l) => l(state));
    },
  };
}

const answer = (fleetTime: string): FleetServers => ({ fleetTime, servers: [] });

describe('watchQuery', () => {
  it('asks at once, then once per throttle window however many events arrive', async () => {
    const fake = fakeClient();
    const seen: QuerySnapshot<FleetServers>[] = [];
    const watch = watchQuery(fake.client, 'fleet.servers', {}, (s) => seen.push(s), {
      refetchOn: ['fleet.updated'],
      throttleMs: 1000,
    });
    expect(fake.calls).toMatchObject([{ method: 'fleet.servers', input: {} }]);
    fake.calls[0]!.resolve(answer('t0'));
    await settle();
    expect(seen.at(-1)?.data?.fleetTime).toBe('t0');

    // Five events a second for three seconds, answered at once.
    for (let i = 0; i < 15; i++) {
      fake.emit('fleet.updated');
      fake.calls.at(-1)!.resolve(answer(`t${fake.calls.length}`));
      await vi.advanceTimersByTimeAsync(200);
    }
    await vi.advanceTimersByTimeAsync(1000);
    // The first load plus three windows of events (leading edges) and the trailing one.
    expect(fake.calls.length).toBeGreaterThanOrEqual(4);
    expect(fake.calls.length).toBeLessThanOrEqual(5);
    watch.dispose();
  });

  it('gets a slow answer through an event every second', async () => {
    const fake = fakeClient();
    let data: FleetServers | undefined;
    const watch = watchQuery(fake.client, 'fleet.servers', {}, (s) => (data = s.data), {
      refetchOn: ['fleet.updated'],
    });
    // The core takes 4 s to answer; fleet.updated keeps coming every second.
    for (let t = 1; t <= 4; t++) {
      await vi.advanceTimersByTimeAsync(1000);
      fake.emit('fleet.updated');
    }
    expect(fake.calls).toHaveLength(1);
    fake.calls[0]!.resolve(answer('slow'));
    await settle();
    expect(data?.fleetTime).toBe('slow');
    // The events that came meanwhile are not lost: one more call, at once.
    expect(fake.calls).toHaveLength(2);
    watch.dispose();
  });

  it('asks again when the link comes back, and unsubscribes everything on dispose', async () => {
    const fake = fakeClient();
    const watch = watchQuery(fake.client, 'fleet.status', {}, () => {}, {
      refetchOn: ['fleet.updated', 'health.updated'],
    });
    fake.calls[0]!.resolve(undefined);
    await settle();
    fake.setLink('closed');
    fake.setLink('open');
    expect(fake.calls).toHaveLength(2);
    watch.dispose();
    expect(fake.listenerCount()).toBe(0);
    fake.emit('fleet.updated');
    await vi.advanceTimersByTimeAsync(5000);
    expect(fake.calls).toHaveLength(2);
  });
});
