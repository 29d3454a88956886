import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch, type Method } from '@shared/contract';
import { UPLOAD_CHUNK_BYTES, type FleetServers, type ImportReport, type UploadInfo } from '@shared/domain';
import { createCore, type Core } from '../app';
import { encodeSamples } from '../metrics/io';
import { fixtureColumns } from '../metrics/io/sample-fixtures';
import { createMemoryLogger } from '../util/logger';

let dir: string;
let core: Core;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'import-core-'));
  core = createCore({ dataDir: dir, runtime: 'test', logger: createMemoryLogger(), heartbeatMs: 0 });
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

/** As the desktop app calls: over the IPC transport's dispatch, outputs checked against the contract. */
const call = <T>(method: Method, input: unknown): Promise<T> =>
  dispatch(core, method, input, { transport: 'ipc' }, { validateOutput: true }) as Promise<T>;

describe('file import through the core, as the desktop app does it (chunked import.upload)', () => {
  it('uploads a file larger than one chunk, checks it, commits it, and the servers join the fleet with fleet.updated', async () => {
    const columns = fixtureColumns({ servers: 4, steps: 2000, special: 0, start: Date.UTC(2025, 0, 1) });
    const bytes = Buffer.from(await encodeSamples(columns, 'arrow'));
    expect(bytes.length).toBeGreaterThan(UPLOAD_CHUNK_BYTES);

    let info: UploadInfo | null = null;
    for (let start = 0; start < bytes.length; start += UPLOAD_CHUNK_BYTES) {
      const chunk = bytes.subarray(start, start + UPLOAD_CHUNK_BYTES);
      info = await call<UploadInfo>('import.upload', {
        ...(info ? { uploadId: info.uploadId } : {}),
        name: 'fleet.arrow',
        offset: start,
        data: chunk.toString('base64'),
      });
    }
    expect(info!.bytes).toBe(bytes.length);

    const check = await call<ImportReport>('import.check', { uploadId: info!.uploadId });
    expect(check).toMatchObject({ format: 'arrow', rows: 8000, accepted: 8000, servers: { total: 4, new: 4 } });
    expect((await call<FleetServers>('fleet.servers', {})).servers).toEqual([]);

    const events: unknown[] = [];
    const off = core.events.on('fleet.updated', (payload) => events.push(payload));
    const commit = await call<ImportReport>('import.commit', { uploadId: info!.uploadId });
    off();
    expect(commit).toMatchObject({ committed: true, accepted: 8000 });
    expect(events).toEqual([expect.objectContaining({ accepted: 8000, rejected: 0, serversTotal: 4 })]);
    expect((await call<FleetServers>('fleet.servers', {})).servers.map((s) => s.name).sort()).toEqual(
      check.servers.names.map((n) => n.name).sort(),
    );
    expect(readdirSync(join(dir, 'uploads'))).toEqual([]);

    // Committing again: the upload is gone.
    await expect(call('import.commit', { uploadId: info!.uploadId })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('validates inputs: server and metric go together, upload ids are hex', async () => {
    await expect(call('import.check', { uploadId: 'x' })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(call('import.check', { uploadId: 'a'.repeat(32), server: 'web01' })).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(call('import.upload', { name: 'a/b.csv', offset: 0, data: '' })).rejects.toMatchObject({
      code: 'invalid_input',
    });
  });
});
