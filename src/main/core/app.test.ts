import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, dispatch, type EventMessage } from '@shared/contract';
import { createCore, type Core } from './app';
import { createMemoryLogger } from './util/logger';

let dir: string;
let core: Core | undefined;
afterEach(async () => {
  await core?.close();
  core = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('createCore with the simulated fleet', () => {
  it('backfills the fleet, answers fleet.status and fleet.servers from the store, and publishes fleet.updated', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tftmp-core-'));
    const wall = new Date(Date.UTC(2026, 2, 3, 9, 0));
    core = createCore({
      dataDir: dir,
      runtime: 'test',
      logger: createMemoryLogger(),
      heartbeatMs: 0,
      now: () => wall,
      simulator: { servers: 7, seed: 'x', speed: 1, backfillHours: 2 },
    });
    const updates: EventMessage[] = [];
    core.events.onAny((m) => updates.push(m));
    await core.ready();

    const ctx = { transport: 'in-process' } as const;
    const status = api['fleet.status'].output.parse(await dispatch(core, 'fleet.status', {}, ctx));
    expect(status).toMatchObject({ serversTotal: 7, serversReporting: 7, lastSampleAt: wall.toISOString() });
    expect(status.sources).toEqual([{ id: 'simulator', kind: 'simulator', state: 'running', detail: '7 simulated servers at 1x' }]);

    const servers = api['fleet.servers'].output.parse(await dispatch(core, 'fleet.servers', {}, ctx));
    expect(servers.servers).toHaveLength(7);
    const ml = servers.servers.find((s) => s.name === 'ppml0001')!;
    expect(ml).toMatchObject({ profile: 'ml_compute', reporting: true, lastSeen: wall.toISOString() });
    expect(ml.latest.cpu_percent).toBeGreaterThanOrEqual(0);
    // Generic servers do not report latency: absent, not zero.
    const generic = servers.servers.find((s) => s.profile === 'generic')!;
    expect('latency_ms' in generic.latest).toBe(false);

    const fleetUpdates = updates.filter((m) => m.name === 'fleet.updated');
    expect(fleetUpdates.length).toBeGreaterThan(0);
    expect(fleetUpdates.at(-1)!.payload).toMatchObject({ serversTotal: 7, rejected: 0 });
  });

  it('runs without a simulator when none is configured', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tftmp-core-'));
    core = createCore({ dataDir: dir, runtime: 'test', logger: createMemoryLogger(), heartbeatMs: 0 });
    await core.ready();
    const status = await dispatch(core, 'fleet.status', {}, { transport: 'in-process' });
    expect(status).toMatchObject({ serversTotal: 0, sources: [] });
  });
});
