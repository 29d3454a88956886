import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetServers, ImportReport, UploadInfo } from '@shared/domain';
import { encodeSamples } from '../core/metrics/io';
import { fixtureColumns } from '../core/metrics/io/sample-fixtures';
import { startTestDaemon } from './testing';
import { FILE_NAME_HEADER, UPLOAD_PATH } from './uploads';

interface Answer {
  status: number;
  body: unknown;
}

/** A raw HTTP request, so Host, Origin and chunked bodies are what the test says. */
function send(url: string, path: string, headers: Record<string, string>, chunks: readonly Buffer[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : null });
      });
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const rpc = (url: string, method: string, input: unknown): Promise<Answer> =>
  send(url, `/api/rpc/${method}`, { 'content-type': 'application/json' }, [Buffer.from(JSON.stringify(input))]);

const uploadHeaders = (name: string, extra: Record<string, string> = {}): Record<string, string> => ({
  'content-type': 'application/octet-stream',
  [FILE_NAME_HEADER]: encodeURIComponent(name),
  ...extra,
});

describe('POST /api/uploads, then import.check / import.commit over HTTP', () => {
  let env: Awaited<ReturnType<typeof startTestDaemon>>;
  beforeAll(async () => {
    env = await startTestDaemon({ uploadLimit: 64 * 1024 });
  });
  afterAll(async () => {
    await env.stop();
  });
  const uploadsDir = (): string[] => readdirSync(join(env.dataDir, 'uploads'));

  it('uploads a Parquet file, checks it without writing, imports it, and its servers join the fleet', async () => {
    const columns = fixtureColumns({ servers: 2, steps: 24, special: 0, start: Date.UTC(2025, 0, 1) });
    const bytes = Buffer.from(await encodeSamples(columns, 'parquet'));
    const up = await send(
      env.daemon.url,
      UPLOAD_PATH,
      uploadHeaders('flotte é.parquet', { 'content-length': String(bytes.length) }),
      [bytes],
    );
    expect(up.status).toBe(201);
    const info = up.body as UploadInfo;
    expect(info).toMatchObject({ name: 'flotte é.parquet', bytes: bytes.length });

    const check = await rpc(env.daemon.url, 'import.check', { uploadId: info.uploadId });
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({
      format: 'parquet',
      rows: 48,
      accepted: 48,
      committed: false,
      servers: { total: 2, new: 2 },
    });
    expect(((await rpc(env.daemon.url, 'fleet.servers', {})).body as FleetServers).servers).toEqual([]);

    const commit = await rpc(env.daemon.url, 'import.commit', { uploadId: info.uploadId });
    expect(commit.status).toBe(200);
    expect((commit.body as ImportReport).accepted).toBe(48);
    const names = ((await rpc(env.daemon.url, 'fleet.servers', {})).body as FleetServers).servers.map((s) => s.name);
    expect(names).toEqual(['ppdb0001', 'ppml0000']);
    expect(uploadsDir()).toEqual([]);
    expect((await rpc(env.daemon.url, 'import.discard', { uploadId: info.uploadId })).status).toBe(404);
  });

  it('answers a bad file with 400 naming file, line and field', async () => {
    const csv = Buffer.from('timestamp,server,memory_percent\n2025-01-01T00:00:00Z,web01,101x\n');
    const info = (await send(env.daemon.url, UPLOAD_PATH, uploadHeaders('bad.csv'), [csv])).body as UploadInfo;
    const check = await rpc(env.daemon.url, 'import.check', { uploadId: info.uploadId });
    expect(check.status).toBe(400);
    expect(check.body).toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('bad.csv line 2, field memory_percent') as string,
    });
    expect((await rpc(env.daemon.url, 'import.discard', { uploadId: info.uploadId })).body).toEqual({
      uploadId: info.uploadId,
      discarded: true,
    });
  });

  it('refuses a body over the limit with 413, by Content-Length or while streaming, and keeps nothing', async () => {
    const big = Buffer.alloc(64 * 1024 + 1, 0x41);
    const declared = await send(
      env.daemon.url,
      UPLOAD_PATH,
      uploadHeaders('big.csv', { 'content-length': String(big.length) }),
      [big],
    );
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({ code: 'payload_too_large' });
    // Chunked: no Content-Length, the limit is found while the bytes arrive.
    const streamed = await send(env.daemon.url, UPLOAD_PATH, uploadHeaders('big.csv'), [
      big.subarray(0, 40_000),
      big.subarray(40_000),
    ]);
    expect(streamed.status).toBe(413);
    expect(uploadsDir()).toEqual([]);
  });

  it('refuses another content type with 415 and a missing file name with 400', async () => {
    const wrong = await send(env.daemon.url, UPLOAD_PATH, { 'content-type': 'text/csv', [FILE_NAME_HEADER]: 'a.csv' }, [
      Buffer.from('x'),
    ]);
    expect(wrong.status).toBe(415);
    expect(wrong.body).toMatchObject({
      code: 'unsupported_media_type',
      message: expect.stringContaining('application/octet-stream') as string,
    });
    const json = await send(
      env.daemon.url,
      UPLOAD_PATH,
      { 'content-type': 'application/json', [FILE_NAME_HEADER]: 'a.csv' },
      [Buffer.from('{}')],
    );
    expect(json.status).toBe(415);
    const unnamed = await send(env.daemon.url, UPLOAD_PATH, { 'content-type': 'application/octet-stream' }, [
      Buffer.from('x'),
    ]);
    expect(unnamed.status).toBe(400);
    const folder = await send(env.daemon.url, UPLOAD_PATH, uploadHeaders('../../etc/x.csv'), [Buffer.from('x')]);
    expect(folder.status).toBe(400);
    expect(uploadsDir()).toEqual([]);
  });

  it('passes the same security gate as every route: foreign Host and cross-origin are 403', async () => {
    const host = await send(env.daemon.url, UPLOAD_PATH, uploadHeaders('a.csv', { host: 'evil.example' }), [
      Buffer.from('x'),
    ]);
    expect(host.status).toBe(403);
    const origin = await send(env.daemon.url, UPLOAD_PATH, uploadHeaders('a.csv', { origin: 'http://evil.example' }), [
      Buffer.from('x'),
    ]);
    expect(origin.status).toBe(403);
    expect(uploadsDir()).toEqual([]);
  });
});

describe('POST /api/uploads with a token', () => {
  it('is 401 without the token and 201 with it', async () => {
    const env = await startTestDaemon({ token: 'sekrit-token-123' });
    try {
      const without = await send(env.daemon.url, UPLOAD_PATH, uploadHeaders('a.csv'), [Buffer.from('x')]);
      expect(without.status).toBe(401);
      const withToken = await send(
        env.daemon.url,
        UPLOAD_PATH,
        uploadHeaders('a.csv', { authorization: 'Bearer sekrit-token-123' }),
        [Buffer.from('x')],
      );
      expect(withToken.status).toBe(201);
      expect(env.daemon.routes).toContainEqual({ method: 'POST', url: UPLOAD_PATH });
    } finally {
      await env.stop();
    }
  });
});
