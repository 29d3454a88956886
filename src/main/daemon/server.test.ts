import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createCore } from '../core/app';
import { createMemoryLogger } from '../core/util/logger';
import { startDaemon } from './server';
import { startTestDaemon } from './testing';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http rather than fetch: fetch will not let a test forge the Host header. */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Upgrade to a WebSocket; resolves with the HTTP status of a refusal, or 101 when it opened. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      socket.terminate();
    });
    socket.once('error', (error) => {
      if (!String(error).includes('Unexpected server response')) reject(error);
    });
  });
}

const TOKEN = 'f'.repeat(64);
let dashboardDir: string;
let env: Awaited<ReturnType<typeof startTestDaemon>>;

beforeAll(async () => {
  dashboardDir = mkdtempSync(join(tmpdir(), 'tftmp-dash-'));
  writeFileSync(join(dashboardDir, 'index.html'), '<!doctype html><title>t</title>');
  mkdirSync(join(dashboardDir, 'assets'));
  writeFileSync(join(dashboardDir, 'assets', 'app-abc123.js'), 'console.log(1)');
  env = await startTestDaemon({ token: TOKEN, dashboardDir });
});
afterAll(async () => {
  await env.stop();
  rmSync(dashboardDir, { recursive: true, force: true });
});

/** Every route the daemon registered, made concrete (params filled, wildcard pointed at a file). */
/** The server named in /predict/:server: this daemon's store is empty, so past the gate it is not_found. */
const PARAM_SERVER = 'ppweb001';

function concreteRoutes(): { method: string; path: string }[] {
  const seen = new Set<string>();
  // The static wildcard also answers `/` (index.html).
  const out: { method: string; path: string }[] = [{ method: 'GET', path: '/' }];
  for (const { method, url } of env.daemon.routes) {
    const path = url.replace(':method', 'system.health').replace(':server', PARAM_SERVER).replace('*', 'assets/app-abc123.js');
    const key = `${method} ${path}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ method, path });
    }
  }
  return out;
}

const jsonHeaders = { 'content-type': 'application/json' };

describe('the route table, with a token configured', () => {
  it('registers the routes we expect (so the loops below cover them all)', () => {
    const paths = concreteRoutes().map((r) => `${r.method} ${r.path}`);
    for (const expected of ['POST /api/rpc/system.health', 'GET /health', 'GET /status', 'GET /alerts/active', 'GET /metrics', 'GET /ws', 'GET /login', 'GET /assets/app-abc123.js']) {
      expect(paths).toContain(expected);
    }
  });

  it('answers 401 on every route without the token', async () => {
    for (const { method, path } of concreteRoutes()) {
      if (path === '/login') continue; // the one route that takes the token in its query
      const res = await raw(`${env.daemon.url}${path}`, { method, headers: jsonHeaders, body: method === 'POST' ? '{}' : undefined });
      expect(res.status, `${method} ${path}`).toBe(401);
      if (method !== 'HEAD') expect(JSON.parse(res.body), `${method} ${path}`).toMatchObject({ code: 'unauthorized' });
    }
  });

  it('answers 403 on every route for a foreign Host, even with the token', async () => {
    for (const { method, path } of concreteRoutes()) {
      const res = await raw(`${env.daemon.url}${path}`, {
        method,
        headers: { ...jsonHeaders, host: 'evil.example:8000', authorization: `Bearer ${TOKEN}` },
        body: method === 'POST' ? '{}' : undefined,
      });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
  });

  it('serves every route with the token', async () => {
    for (const { method, path } of concreteRoutes()) {
      if (path === '/ws' || path === '/login') continue;
      // The upload route takes raw bytes, not JSON (its own tests: uploads.test.ts).
      const upload = path === '/api/uploads';
      const res = await raw(`${env.daemon.url}${path}`, {
        method,
        headers: upload
          ? { 'content-type': 'application/octet-stream', 'x-file-name': 'a.csv', authorization: `Bearer ${TOKEN}` }
          : { ...jsonHeaders, authorization: `Bearer ${TOKEN}` },
        body: method === 'POST' ? '{}' : undefined,
      });
      if (upload) expect(res.status, `${method} ${path}`).toBe(201);
      else if (path.includes(PARAM_SERVER)) {
        // Through the gate to the handler, which has no such server in an empty store.
        expect(res.status, `${method} ${path}`).toBe(404);
        if (method !== 'HEAD') expect(JSON.parse(res.body), `${method} ${path}`).toMatchObject({ code: 'not_found' });
      } else expect(res.status, `${method} ${path}`).toBe(200);
    }
  });

  it('refuses a wrong token', async () => {
    const res = await raw(`${env.daemon.url}/health`, { headers: { authorization: `Bearer ${'e'.repeat(64)}` } });
    expect(res.status).toBe(401);
  });

  it('logs a browser in with /login?token=, through an HttpOnly SameSite cookie', async () => {
    const bad = await raw(`${env.daemon.url}/login?token=nope`);
    expect(bad.status).toBe(401);
    const good = await raw(`${env.daemon.url}/login?token=${TOKEN}`);
    expect(good.status).toBe(303);
    expect(good.headers.location).toBe('/');
    const cookie = String(good.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const withCookie = await raw(`${env.daemon.url}/health`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(withCookie.status).toBe(200);
  });

  it('refuses WebSocket upgrades without the token or from a foreign Origin', async () => {
    const ws = `${env.daemon.url.replace('http', 'ws')}/ws`;
    const host = new URL(env.daemon.url).host;
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect(await upgradeStatus(ws, {})).toBe(401);
    expect(await upgradeStatus(ws, { ...auth, origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(ws, { ...auth, origin: 'http://localhost:3000' })).toBe(403);
    expect(await upgradeStatus(ws, { ...auth, origin: `http://${host}` })).toBe(101);
    expect(await upgradeStatus(ws, auth)).toBe(101);
  });
});

describe('request hygiene', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('refuses a cross-origin POST (CSRF) even to a loopback Host', async () => {
    const res = await raw(`${env.daemon.url}/api/rpc/settings.update`, {
      method: 'POST',
      headers: { ...jsonHeaders, ...auth, origin: 'http://evil.example' },
      body: '{"theme":"light"}',
    });
    expect(res.status).toBe(403);
  });

  it('parses only JSON bodies: a form or text/plain POST is refused with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await raw(`${env.daemon.url}/api/rpc/settings.update`, {
        method: 'POST',
        headers: { ...auth, 'content-type': type },
        body: 'theme=light',
      });
      expect(res.status, type).toBe(415);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'unsupported_media_type' });
    }
  });

  it('bounds the body size (413) and explains malformed JSON (400)', async () => {
    const big = await raw(`${env.daemon.url}/api/rpc/settings.update`, {
      method: 'POST',
      headers: { ...jsonHeaders, ...auth },
      body: JSON.stringify({ theme: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    const bad = await raw(`${env.daemon.url}/api/rpc/settings.update`, {
      method: 'POST',
      headers: { ...jsonHeaders, ...auth },
      body: '{"theme":',
    });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ code: 'invalid_input', message: 'Request body is not valid JSON' });
  });

  it('sends no CORS headers and sets the security headers', async () => {
    const res = await raw(`${env.daemon.url}/`, { headers: { ...auth, origin: 'http://evil.example' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers unknown paths with a typed 404', async () => {
    const res = await raw(`${env.daemon.url}/api/nothing`, { headers: auth });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'not_found' });
  });
});

describe('binding', () => {
  it('refuses to listen beyond loopback without a token', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tftmp-bind-'));
    const logger = createMemoryLogger();
    const core = createCore({ dataDir, runtime: 'test', logger, heartbeatMs: 0 });
    try {
      await expect(startDaemon({ core, logger, host: '0.0.0.0', port: 0 })).rejects.toThrow(/without a token/);
    } finally {
      await core.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('without a token on loopback, serves without auth but still checks Host', async () => {
    const open = await startTestDaemon();
    try {
      expect((await raw(`${open.daemon.url}/health`)).status).toBe(200);
      expect((await raw(`${open.daemon.url}/health`, { headers: { host: 'evil.example' } })).status).toBe(403);
      expect((await raw(`${open.daemon.url}/`)).status).toBe(503); // no dashboard built in this test
    } finally {
      await open.stop();
    }
  });
});
