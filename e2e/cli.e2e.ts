import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, startServe } from './harness';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('the serve command', () => {
  it('answers /health with JSON, refuses a foreign Host, and stops cleanly on SIGTERM', async () => {
    const serve = await startServe();
    try {
      const health = await get(`${serve.url}/health`);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', runtime: 'daemon' });
      expect((await get(`${serve.url}/health`, { host: 'evil.example' })).status).toBe(403);
      const page = await get(`${serve.url}/`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<div id="root">');
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('beyond loopback, generates a 0600 token and requires it', async () => {
    const serve = await startServe(['--host', '0.0.0.0']);
    try {
      const url = serve.url.replace('0.0.0.0', '127.0.0.1');
      expect(statSync(join(serve.dataDir, 'daemon-token')).mode & 0o777).toBe(0o600);
      expect((await get(`${url}/health`)).status).toBe(401);
      expect(serve.output()).toContain('/login?token=<token>');
      // The token itself is never printed.
      const token = readFileSync(join(serve.dataDir, 'daemon-token'), 'utf8').trim();
      expect(serve.output()).not.toContain(token);
      expect((await get(`${url}/health`, { authorization: `Bearer ${token}` })).status).toBe(200);
    } finally {
      await serve.stop();
    }
  });

  it.each([
    [['serve', '--port', 'abc'], /--port must be an integer/],
    [['serve', '--bogus'], /Unknown option '--bogus'/],
    [['frobnicate'], /Unknown command "frobnicate"/],
  ])('rejects %j with a usage error and exit code 2', (args, message) => {
    const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('prints help', () => {
    const result = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--host');
  });
});
