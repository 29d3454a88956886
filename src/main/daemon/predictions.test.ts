import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, events, type EventMessage } from '@shared/contract';
import { bundledModelDir } from '../core/paths';
import { startTestDaemon } from './testing';

/**
 * The prediction API over the real HTTP server on port 0: a simulated fleet, the committed
 * default model, a real onnxruntime session and SQLite store.
 */
const BUNDLED = bundledModelDir({ mainDir: resolve(__dirname, '..', '..', '..', 'out', 'main') });

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

describe('predictions over HTTP', () => {
  let env: Awaited<ReturnType<typeof startTestDaemon>>;
  beforeAll(async () => {
    // 3600x: a fleet step every ~80 ms, so cycles (and their events) keep coming.
    env = await startTestDaemon(
      {},
      {
        simulator: { servers: 6, seed: 'http', speed: 3600, backfillHours: 24 },
        model: { bundledDir: BUNDLED, provider: 'cpu' },
      },
    );
    await env.core.ready();
    await env.core.predictionsIdle();
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('GET /predictions/current answers every server with its risk, failure mode and forecast bands', async () => {
    const { status, body } = await get(`${env.daemon.url}/predictions/current`);
    expect(status).toBe(200);
    const current = api['predictions.current'].output.parse(body);
    expect(current.servers).toHaveLength(6);
    expect(current.horizon.times).toHaveLength(16);
    const [first] = current.servers;
    expect(first!.forecast.map((f) => f.metric)).toEqual([
      'cpu_percent',
      'memory_percent',
      'disk_percent',
      'latency_ms',
      'error_rate',
    ]);
    expect(first!.forecast[0]!.p50).toHaveLength(16);
  });

  it('answers from the cycle it last saw, and a new cycle always shows: the cached answer never outlives its cycle', async () => {
    // At 3600x cycles keep coming: every answer must be the one of a cycle at least as new as
    // the last predictions.updated seen before the request was sent.
    const socket = new WebSocket(`${env.daemon.url.replace('http', 'ws')}/ws`);
    let lastSeen = '';
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { name: string; payload: { predictedAt?: string } };
      if (message.name === 'predictions.updated') lastSeen = message.payload.predictedAt!;
    });
    await new Promise((r) => socket.once('open', r));
    try {
      let compared = 0;
      for (let i = 0; i < 40; i++) {
        const before = lastSeen;
        const [viaRest, viaRpc] = await Promise.all([
          fetch(`${env.daemon.url}/predictions/current`).then((r) => r.json() as Promise<{ predictedAt: string }>),
          fetch(`${env.daemon.url}/api/rpc/predictions.current`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          }).then((r) => r.json() as Promise<{ predictedAt: string }>),
        ]);
        if (before) {
          expect(viaRest.predictedAt >= before).toBe(true);
          expect(viaRpc.predictedAt >= before).toBe(true);
          compared++;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(compared).toBeGreaterThan(20);
    } finally {
      socket.close();
    }
  });

  it('GET /predict/:server answers one server like /predictions/current does; an unknown name is 404', async () => {
    const current = api['predictions.current'].output.parse((await get(`${env.daemon.url}/predictions/current`)).body);
    const name = current.servers[0]!.server;
    const { status, body } = await get(`${env.daemon.url}/predict/${encodeURIComponent(name)}`);
    expect(status).toBe(200);
    const one = api['predictions.server'].output.parse(body);
    expect(one.prediction?.server).toBe(name);
    expect(one.unavailable).toBeNull();
    expect(one.horizon.times).toHaveLength(16);
    const missing = await get(`${env.daemon.url}/predict/no-such-server`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'not_found', message: 'No server named "no-such-server" in the store' });
  });

  it('GET /servers carries risk and failure mode; GET /health the model and its provider', async () => {
    const servers = api['fleet.servers'].output.parse((await get(`${env.daemon.url}/servers`)).body);
    expect(servers.servers.every((s) => s.risk !== null && s.failureMode !== null && s.riskUnavailable === null)).toBe(
      true,
    );
    const health = api['system.health'].output.parse((await get(`${env.daemon.url}/health`)).body);
    expect(health).toMatchObject({
      status: 'ok',
      model: { source: 'bundled', executionProvider: 'cpu' },
      predictor: { state: 'ready' },
    });
  });

  it('pushes predictions.updated over the WebSocket', async () => {
    const socket = new WebSocket(`${env.daemon.url.replace('http', 'ws')}/ws`);
    try {
      const event = await new Promise<EventMessage>((resolveEvent, reject) => {
        const timer = setTimeout(() => reject(new Error('no predictions.updated within 15 s')), 15_000);
        socket.on('message', (data: Buffer) => {
          const message = JSON.parse(data.toString('utf8')) as EventMessage;
          if (message.name !== 'predictions.updated') return;
          clearTimeout(timer);
          resolveEvent(message);
        });
        socket.once('error', reject);
      });
      expect(events['predictions.updated'].parse(event.payload)).toMatchObject({ servers: 6, skipped: 0 });
    } finally {
      socket.close();
    }
  });
});

describe('a model folder that fails to load, over HTTP', () => {
  it('keeps the daemon serving, and GET /health says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tftmp-broken-model-'));
    const broken = join(dir, 'default');
    cpSync(BUNDLED, broken, { recursive: true });
    writeFileSync(join(broken, 'model.json'), '{"formatVersion": 1, "name": ');
    const env = await startTestDaemon(
      {},
      {
        simulator: { servers: 2, seed: 'broken', speed: 1, backfillHours: 1 },
        model: { bundledDir: broken, provider: 'cpu' },
      },
    );
    try {
      await env.core.ready();
      const health = api['system.health'].output.parse((await get(`${env.daemon.url}/health`)).body);
      expect(health.status).toBe('degraded');
      expect(health.model).toBeNull();
      expect(health.predictor).toMatchObject({ state: 'failed' });
      expect(health.predictor.detail).toMatch(/file "model\.json".*not valid JSON/);
      const servers = api['fleet.servers'].output.parse((await get(`${env.daemon.url}/servers`)).body);
      expect(servers.servers).toHaveLength(2);
      expect(servers.servers[0]!.riskUnavailable).toMatchObject({ reason: 'no_model' });
      expect((await get(`${env.daemon.url}/predictions/current`)).status).toBe(200);
    } finally {
      await env.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
