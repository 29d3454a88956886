import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, type EventMessage } from '@shared/contract';
import { bundledModelDir } from '../core/paths';
import { startTestDaemon } from './testing';

/**
 * The dashboard's methods over the real HTTP server on port 0, through their REST aliases: a
 * simulated fleet, the committed default model, a real SQLite store.
 */
const BUNDLED = bundledModelDir({ mainDir: resolve(__dirname, '..', '..', '..', 'out', 'main') });

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

async function rpc(url: string, method: string, input: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/api/rpc/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  return { status: response.status, body: await response.json() };
}

describe('dashboard methods over HTTP', () => {
  let env: Awaited<ReturnType<typeof startTestDaemon>>;
  let url: string;
  beforeAll(async () => {
    env = await startTestDaemon(
      {},
      {
        simulator: { servers: 6, seed: 'dash-http', speed: 1, backfillHours: 24 },
        model: { bundledDir: BUNDLED, provider: 'cpu', intraOpThreads: 1 },
      },
    );
    await env.core.ready();
    await env.core.predictionsIdle();
    url = env.daemon.url;
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('GET /status carries the risk figures and the simulator speed; GET /servers each server health', async () => {
    const status = api['fleet.status'].output.parse((await get(`${url}/status`)).body);
    expect(status.sources[0]).toMatchObject({ kind: 'simulator', speed: 1 });
    expect(status.risk.incidentProbability).not.toBeNull();
    expect(status.risk.riskHistogram.reduce((a, b) => a + b, 0)).toBe(6);
    const servers = api['fleet.servers'].output.parse((await get(`${url}/servers`)).body);
    const health = status.risk.health;
    expect(health.healthy + health.warning + health.critical + health.stale + health.unknown).toBe(
      servers.servers.length,
    );
    expect(servers.servers.every((s) => s.health !== 'stale' && s.health !== 'unknown')).toBe(true);
  });

  it('GET /servers/:server/history, /predictions/history/:server, /explain/:server answer a real server; an unknown one is 404', async () => {
    const name = 'ppdb001';
    const history = await get(`${url}/servers/${name}/history?hours=3`);
    expect(history.status).toBe(200);
    const metrics = api['metrics.history'].output.parse(history.body);
    expect(metrics).toMatchObject({ server: name, profile: 'database', stepMinutes: 5 });
    expect(metrics.times).toHaveLength(36);
    // The simulator drops a sample now and then (as real agents do): a gap is null, never a made-up value.
    const disk = metrics.metrics.disk_percent;
    expect(disk.filter((v) => v === null).length).toBeLessThanOrEqual(3);
    expect(disk.every((v) => v === null || (v >= 0 && v <= 100))).toBe(true);

    const predicted = api['predictions.history'].output.parse(
      (await get(`${url}/predictions/history/${name}?hours=6`)).body,
    );
    expect(predicted.server).toBe(name);
    expect(predicted.points.length).toBeGreaterThan(0);

    const explained = api['predictions.explain'].output.parse((await get(`${url}/explain/${name}`)).body);
    expect(explained.unavailable).toBeNull();
    expect(explained.explanation?.drivers.length).toBeGreaterThan(0);

    for (const path of ['/servers/nope/history', '/predictions/history/nope', '/explain/nope']) {
      const missing = await get(`${url}${path}`);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ code: 'not_found', message: 'No server named "nope" in the store' });
    }
  });

  it('answers 400 naming the field for a bad query string', async () => {
    for (const path of [
      '/servers/ppdb001/history?hours=0',
      '/trends?hours=1000',
      '/alerts?hours=abc',
      '/predictions/history/ppdb001?hours=-2',
    ]) {
      const bad = await get(`${url}${path}`);
      expect(bad.status, path).toBe(400);
      expect(bad.body).toMatchObject({ code: 'invalid_input', issues: [expect.objectContaining({ path: 'hours' })] });
    }
    const bucket = await get(`${url}/trends?bucketMinutes=2`);
    expect(bucket.status).toBe(400);
    expect(bucket.body).toMatchObject({ issues: [expect.objectContaining({ path: 'bucketMinutes' })] });
    const state = await get(`${url}/alerts?state=closed`);
    expect(state.status).toBe(400);
    expect(state.body).toMatchObject({ issues: [expect.objectContaining({ path: 'state' })] });
  });

  it('GET /trends and GET /alerts answer the contract', async () => {
    const trends = api['trends.fleet'].output.parse((await get(`${url}/trends?hours=6&bucketMinutes=30`)).body);
    expect(trends.bucketMinutes).toBe(30);
    expect(trends.times).toHaveLength(12);
    expect(trends.metrics.cpu_percent.mean.every((v) => v !== null)).toBe(true);
    expect(trends.risk.mean.some((v) => v !== null)).toBe(true);
    const alerts = api['alerts.list'].output.parse((await get(`${url}/alerts?state=open&limit=5`)).body);
    const active = api['alerts.active'].output.parse((await get(`${url}/alerts/active`)).body);
    expect(alerts.total).toBe(active.alerts.length);
  });

  it('GET /demo answers the demo; demo.run over RPC pushes demo.changed over the WebSocket', async () => {
    const demo = api['demo.state'].output.parse((await get(`${url}/demo`)).body);
    expect(demo).toMatchObject({ available: true, speed: 1, paused: false });
    expect(demo.servers).toHaveLength(6);

    const socket = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    try {
      const changed = new Promise<EventMessage>((resolveEvent, reject) => {
        const timer = setTimeout(() => reject(new Error('no demo.changed within 10 s')), 10_000);
        socket.on('message', (data: Buffer) => {
          const message = JSON.parse(data.toString('utf8')) as EventMessage;
          if (message.name !== 'demo.changed') return;
          clearTimeout(timer);
          resolveEvent(message);
        });
      });
      await new Promise<void>((r, j) => {
        socket.once('open', () => r());
        socket.once('error', j);
      });
      const run = await rpc(url, 'demo.run', { server: 'ppdb001', scenario: 'disk_fill', precursorHours: 3 });
      expect(run.status).toBe(200);
      const state = api['demo.run'].output.parse(run.body);
      expect(state.runs[0]).toMatchObject({ server: 'ppdb001', scenario: 'disk_fill' });
      expect((await changed).payload).toEqual(state);
    } finally {
      socket.close();
    }
    const bad = await rpc(url, 'demo.run', { server: 'ppdb001', scenario: 'disk_fill', precursorHours: 20 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ issues: [expect.objectContaining({ path: 'precursorHours' })] });
    const reset = api['demo.reset'].output.parse((await rpc(url, 'demo.reset', {})).body);
    expect(reset.runs).toEqual([]);
  });
});
