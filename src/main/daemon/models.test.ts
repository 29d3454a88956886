import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '@shared/contract';
import { bundledModelDir } from '../core/paths';
import { startTestDaemon } from './testing';

// The model methods over the real daemon: REST aliases for the reads, typed errors with their
// HTTP status for refused activations and deletions.
const BUNDLED = bundledModelDir({ mainDir: resolve(__dirname, '..', '..', '..', 'out', 'main') });

let env: Awaited<ReturnType<typeof startTestDaemon>>;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'tftmp-models-http-'));
  env = await startTestDaemon({}, { model: { bundledDir: BUNDLED, provider: 'cpu', intraOpThreads: 1 } });
  await env.core.ready();
}, 60_000);
afterAll(async () => {
  await env?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function rpc(method: string, input: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${env.daemon.url}/api/rpc/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('models over HTTP', () => {
  it('GET /models lists the bundled model, active; GET /models/jobs lists no jobs', async () => {
    const response = await fetch(`${env.daemon.url}/models`);
    expect(response.status).toBe(200);
    const list = api['model.list'].output.parse(await response.json());
    expect(list.active).toBe('bundled');
    expect(list.models.map((m) => [m.id, m.active, m.ok])).toEqual([['bundled', true, true]]);
    const jobs = await fetch(`${env.daemon.url}/models/jobs`);
    expect(jobs.status).toBe(200);
    expect(api['model.jobs'].output.parse(await jobs.json())).toEqual({ jobs: [] });
  });

  it('refuses a corrupt or mismatched model folder with 409 and keeps the bundled model', async () => {
    const corrupt = join(scratch, 'corrupt');
    cpSync(BUNDLED, corrupt, { recursive: true });
    const manifestPath = join(corrupt, 'model.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { contractVersion: string };
    manifest.contractVersion = '9.0.0';
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const refused = await rpc('model.activate', { dir: corrupt });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'conflict' });
    expect(String(refused.body.message)).toMatch(/contract 9\.0\.0/);
    const health = (await (await fetch(`${env.daemon.url}/health`)).json()) as { model: { source: string } };
    expect(health.model.source).toBe('bundled');
  });

  it('answers 404 for an unknown model, 400 naming the field for a bad input, 409 for deleting the bundled one', async () => {
    expect((await rpc('model.activate', { name: 'tft_model_19990101_000000' })).status).toBe(404);
    const bad = await rpc('model.activate', {});
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([expect.objectContaining({ path: 'name' })]);
    const badName = await rpc('model.delete', { name: '../etc' });
    expect(badName.status).toBe(400);
    expect(badName.body.issues).toEqual([expect.objectContaining({ path: 'name' })]);
    expect((await rpc('model.delete', { name: 'bundled' })).status).toBe(409);
    // No training worker in this core: training is unavailable, said so.
    const train = await rpc('model.train', { data: { kind: 'simulated' } });
    expect(train.status).toBe(503);
    expect(String(train.body.message)).toMatch(/training worker/);
  });
});
