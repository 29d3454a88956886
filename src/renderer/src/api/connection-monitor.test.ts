import { describe, expect, it } from 'vitest';
import { createApiClient } from '@shared/contract';
import type { IpcEnvelope, PreloadApi } from '@shared/contract/ipc';
import { sampleHealth } from '../test-support/fakes';
import {
  createConnectionMonitor,
  currentUptimeSeconds,
  linkStatus,
  STALE_AFTER_MS,
  type ConnectionSnapshot,
} from './connection-monitor';
import { createIpcTransport } from './ipc-transport';

const base: ConnectionSnapshot = {
  transport: 'http',
  state: 'open',
  everOpened: true,
  openedAt: 1_000,
  health: null,
  healthAt: null,
  lastHeartbeatAt: null,
};

describe('linkStatus', () => {
  it('passes the transport state through when not open', () => {
    expect(linkStatus({ ...base, state: 'connecting' }, 1e9)).toBe('connecting');
    expect(linkStatus({ ...base, state: 'closed' }, 1e9)).toBe('closed');
  });

  it('is stale only after more than 15 s without a heartbeat', () => {
    const s = { ...base, lastHeartbeatAt: 10_000 };
    expect(linkStatus(s, 10_000 + STALE_AFTER_MS)).toBe('open');
    expect(linkStatus(s, 10_000 + STALE_AFTER_MS + 1)).toBe('stale');
  });

  it('gives a fresh link 15 s to send its first heartbeat', () => {
    expect(linkStatus(base, 1_000 + STALE_AFTER_MS)).toBe('open');
    expect(linkStatus(base, 1_000 + STALE_AFTER_MS + 1)).toBe('stale');
  });

  it('measures from the reconnect when the last heartbeat predates it', () => {
    const s = { ...base, lastHeartbeatAt: 1_000, openedAt: 60_000 };
    expect(linkStatus(s, 70_000)).toBe('open');
  });
});

describe('currentUptimeSeconds', () => {
  it('extrapolates from the last health', () => {
    const s = { ...base, health: sampleHealth({ uptimeSeconds: 100 }), healthAt: 5_000 };
    expect(currentUptimeSeconds(s, 8_500)).toBe(103.5);
    expect(currentUptimeSeconds(base, 8_500)).toBeNull();
  });
});

/** Lets the pending promise chains (bridge -> transport -> client -> monitor) settle. */
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('createConnectionMonitor', () => {
  function setup() {
    let clock = 1_000;
    const listeners = new Map<string, (payload: unknown) => void>();
    let answerHealth: (envelope: IpcEnvelope) => void = () => {};
    const bridge: PreloadApi = {
      rpc: () => new Promise<IpcEnvelope>((resolve) => (answerHealth = resolve)),
      onEvent: (name, cb) => {
        listeners.set(name, cb);
        return () => listeners.delete(name);
      },
    };
    const client = createApiClient(createIpcTransport(bridge));
    const monitor = createConnectionMonitor(client, () => clock);
    return {
      monitor,
      client,
      tick: (ms: number) => (clock += ms),
      heartbeat: (uptimeSeconds: number) => listeners.get('health.updated')?.(sampleHealth({ uptimeSeconds })),
      answerHealth: (uptimeSeconds: number) => answerHealth({ ok: true, value: sampleHealth({ uptimeSeconds }) }),
    };
  }

  it('records the open link, asks for health at once, and follows heartbeats', async () => {
    const { monitor, tick, heartbeat, answerHealth } = setup();
    expect(monitor.getSnapshot()).toMatchObject({
      transport: 'ipc',
      state: 'open',
      everOpened: true,
      openedAt: 1_000,
      health: null,
    });
    tick(200);
    answerHealth(10);
    await flush();
    // An answer is health, but not a heartbeat: staleness is about the event stream.
    expect(monitor.getSnapshot()).toMatchObject({ healthAt: 1_200, lastHeartbeatAt: null });
    expect(monitor.getSnapshot().health?.uptimeSeconds).toBe(10);

    tick(5_000);
    heartbeat(15);
    expect(monitor.getSnapshot()).toMatchObject({ healthAt: 6_200, lastHeartbeatAt: 6_200 });
    expect(monitor.getSnapshot().health?.uptimeSeconds).toBe(15);
    expect(linkStatus(monitor.getSnapshot(), 6_200 + STALE_AFTER_MS + 1)).toBe('stale');
  });

  it('lets a heartbeat that overtook the health answer win', async () => {
    const { monitor, tick, heartbeat, answerHealth } = setup();
    tick(100);
    heartbeat(50);
    answerHealth(49);
    await flush();
    expect(monitor.getSnapshot().health?.uptimeSeconds).toBe(50);
  });

  it('notifies subscribers with a new snapshot object and stops after dispose', () => {
    const { monitor, client, heartbeat } = setup();
    let calls = 0;
    monitor.subscribe(() => calls++);
    const before = monitor.getSnapshot();
    heartbeat(1);
    expect(calls).toBe(1);
    expect(monitor.getSnapshot()).not.toBe(before);
    monitor.dispose();
    heartbeat(2);
    client.close();
    expect(calls).toBe(1);
    expect(monitor.getSnapshot().health?.uptimeSeconds).toBe(1);
  });
});
