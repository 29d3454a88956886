import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '@shared/contract';
import { UPLOAD_CHUNK_BYTES, UPLOAD_TTL_MS } from '@shared/domain';
import { encodeSamples, SAMPLES_FORMATS } from '../metrics/io';
import { fixtureColumns } from '../metrics/io/sample-fixtures';
import { openStore, type IngestReport, type MetricsStore } from '../store';
import { createMemoryLogger } from '../util/logger';
import { ImportService } from './import-service';
import { UploadStore } from './upload-store';

let dir: string;
let store: MetricsStore;
let uploads: UploadStore;
let clock: number;
let ingested: IngestReport[];
let service: ImportService;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'imports-'));
  store = openStore(join(dir, 'metrics.sqlite'));
  clock = Date.UTC(2026, 0, 1);
  uploads = new UploadStore({ dir: join(dir, 'uploads'), now: () => clock, sweepMs: 0 });
  ingested = [];
  service = new ImportService({
    store,
    uploads,
    logger: createMemoryLogger(),
    now: () => clock,
    onIngest: (r) => ingested.push(r),
  });
});
afterEach(async () => {
  await uploads.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Everything the store holds that an import could change. */
function snapshot(): unknown {
  const count = (table: string): unknown =>
    (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  return {
    samples: count('samples'),
    servers: store.listServers().map((s) => [s.name, s.profile, s.lastSeen]),
    rejections: count('ingest_rejection_log'),
    rejectionCounts: store.db.prepare('SELECT reason, count FROM ingest_rejections ORDER BY reason').all(),
  };
}

const upload = async (name: string, bytes: Uint8Array | string): Promise<string> =>
  (await uploads.fromStream(name, Readable.from([Buffer.from(bytes)]))).uploadId;

describe('import.check / import.commit', () => {
  const columns = fixtureColumns({ servers: 3, steps: 50, special: 0 });

  it.each(SAMPLES_FORMATS)(
    'checks a %s file without writing, then commits exactly the checked rows',
    async (format) => {
      const bytes = await encodeSamples(columns, format, { profileOf: () => 'database' });
      const id = await upload(`fleet.${format === 'arrow-stream' ? 'arrows' : format}`, bytes);
      const before = snapshot();

      const check = await service.check({ uploadId: id });
      expect(snapshot()).toEqual(before);
      expect(check).toMatchObject({
        format,
        committed: false,
        rows: columns.length,
        accepted: columns.length,
        duplicates: 0,
      });
      expect(check.servers).toMatchObject({ total: 3, new: 3, existing: 0 });
      expect(check.servers.names.map((n) => n.rows)).toEqual([50, 50, 50]);
      expect(check.timeRange).toEqual({
        from: new Date(columns.timestamp[0]!).toISOString(),
        to: new Date(columns.timestamp[columns.length - 1]!).toISOString(),
      });
      expect(check.metrics.length).toBeGreaterThan(0);
      expect(ingested).toEqual([]);

      const commit = await service.commit({ uploadId: id });
      expect(commit).toMatchObject({
        committed: true,
        rows: check.rows,
        accepted: check.accepted,
        rejected: check.rejected,
      });
      expect((snapshot() as { samples: number }).samples).toBe(check.accepted);
      expect(store.listServers().map((s) => [s.name, s.profile])).toEqual(
        check.servers.names.map((n) => [n.name, 'database']),
      );
      expect(ingested).toHaveLength(1);
      // The upload is gone after the import.
      expect(() => uploads.get(id)).toThrow(ApiError);
      expect(readdirSync(join(dir, 'uploads'))).toEqual([]);
    },
  );

  it('reports conflicts with the stored data by row and field, writes nothing, and the commit matches', async () => {
    // The store already holds the first 10 steps of one server with other CPU values.
    const stored = fixtureColumns({ servers: 3, steps: 10, special: 0, seed: 99 });
    store.ingest(stored, { now: clock });
    const before = snapshot();
    const csv = (await encodeSamples(columns, 'csv')) as string;
    const id = await upload('more.csv', csv);

    const check = await service.check({ uploadId: id });
    expect(snapshot()).toEqual(before);
    expect(check.servers).toMatchObject({ total: 3, new: 0, existing: 3 });
    expect(check.rejected.conflict).toBe(30);
    expect(check.accepted).toBe(columns.length - 30);
    const first = check.rejections[0]!;
    expect(first).toMatchObject({ row: 1, reason: 'conflict' });
    expect(first.message).toMatch(new RegExp(`^more\\.csv row 1, field ${first.field}: `));

    const commit = await service.commit({ uploadId: id });
    expect(commit.accepted).toBe(check.accepted);
    expect(commit.rejected).toEqual(check.rejected);
    expect((snapshot() as { samples: number }).samples).toBe(30 + check.accepted);
  });

  it('refuses a bad file naming file, line and field, and writes nothing', async () => {
    const id = await upload(
      'bad.csv',
      'timestamp,server,cpu_percent\n2024-01-01T00:00:00Z,web01,12\n2024-01-01T00:05:00Z,web01,"12,5"\n',
    );
    const before = snapshot();
    for (const call of [() => service.check({ uploadId: id }), () => service.commit({ uploadId: id })]) {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe('invalid_input');
      expect((error as ApiError).message).toMatch(
        /^Nothing imported: bad\.csv has 1 problem\. bad\.csv line 3, field cpu_percent: /,
      );
      expect((error as ApiError).issues).toEqual([
        {
          path: 'line 3, cpu_percent',
          message: expect.stringMatching(/^bad\.csv line 3, field cpu_percent/) as string,
        },
      ]);
    }
    expect(snapshot()).toEqual(before);
    expect(ingested).toEqual([]);
    // A refused commit keeps the upload: the user may discard it.
    expect(await service.discard(id)).toEqual({ uploadId: id, discarded: true });
    await expect(service.check({ uploadId: id })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('reads a single-series timestamp,value file for the server and metric given', async () => {
    const id = await upload('nab.csv', 'timestamp,value\n2024-01-01 00:00:00,0.5\n2024-01-01 00:05:00,0.7\n');
    await expect(service.check({ uploadId: id })).rejects.toMatchObject({ code: 'invalid_input' });
    const check = await service.check({ uploadId: id, server: 'nab01', metric: 'cpu_percent', scale: 100 });
    expect(check).toMatchObject({ rows: 2, accepted: 2, metrics: ['cpu_percent'], servers: { total: 1, new: 1 } });
    await service.commit({ uploadId: id, server: 'nab01', metric: 'cpu_percent', scale: 100 });
    const samples = store.querySamples('nab01', 0, Date.UTC(2025, 0, 1));
    expect([...samples.metrics.cpu_percent.values].slice(0, 2)).toEqual([50, 70]);
  });
});

describe('UploadStore', () => {
  it('expires uploads after the TTL and deletes their files', async () => {
    const id = await upload('a.csv', 'timestamp,server,cpu_percent\n');
    expect(readdirSync(join(dir, 'uploads'))).toHaveLength(1);
    clock += UPLOAD_TTL_MS - 1;
    expect(await uploads.sweep()).toBe(0);
    expect(uploads.get(id).name).toBe('a.csv');
    clock += 1;
    await expect(service.check({ uploadId: id })).rejects.toMatchObject({ code: 'not_found' });
    expect(await uploads.sweep()).toBe(0);
    expect(readdirSync(join(dir, 'uploads'))).toEqual([]);
  });

  it('refuses a stream over the limit and keeps nothing', async () => {
    const small = new UploadStore({ dir: join(dir, 'small'), maxBytes: 100, sweepMs: 0 });
    await expect(
      small.fromStream('big.csv', Readable.from([Buffer.alloc(60), Buffer.alloc(60)])),
    ).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(small.size).toBe(0);
    expect(readdirSync(join(dir, 'small'))).toEqual([]);
    await small.close();
  });

  it('refuses folder names', async () => {
    await expect(uploads.fromStream('../x.csv', Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(uploads.fromStream('', Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
      code: 'invalid_input',
    });
  });

  it('deletes leftovers of an earlier run at start', async () => {
    await upload('a.csv', 'x');
    const again = new UploadStore({ dir: join(dir, 'uploads'), sweepMs: 0 });
    expect(readdirSync(join(dir, 'uploads'))).toEqual([]);
    await again.close();
  });

  it('reassembles any bytes sent in any split of base64 chunks (property), and refuses out-of-order chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 10 }),
        async (bytes, sizes) => {
          const parts: Uint8Array[] = [];
          for (let at = 0, i = 0; at < bytes.length || parts.length === 0; i++) {
            const n = sizes[i % sizes.length]!;
            parts.push(bytes.subarray(at, at + n));
            at += n;
          }
          let info = await uploads.appendChunk({
            name: 'p.bin',
            offset: 0,
            data: Buffer.from(parts[0]!).toString('base64'),
          });
          for (const part of parts.slice(1)) {
            info = await uploads.appendChunk({
              uploadId: info.uploadId,
              name: 'p.bin',
              offset: info.bytes,
              data: Buffer.from(part).toString('base64'),
            });
          }
          const u = uploads.get(info.uploadId);
          expect(u.bytes).toBe(bytes.length);
          const { readFileSync } = await import('node:fs');
          expect(Buffer.compare(readFileSync(u.path), Buffer.from(bytes))).toBe(0);
          await expect(
            uploads.appendChunk({ uploadId: info.uploadId, name: 'p.bin', offset: info.bytes + 1, data: '' }),
          ).rejects.toMatchObject({ code: 'conflict' });
          await uploads.delete(info.uploadId);
          expect(existsSync(u.path)).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
    await expect(
      uploads.appendChunk({ name: 'x', offset: 0, data: Buffer.alloc(UPLOAD_CHUNK_BYTES + 1).toString('base64') }),
    ).rejects.toMatchObject({ code: 'payload_too_large' });
  });
});
