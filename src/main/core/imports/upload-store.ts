import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { appendFile, rm, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from '@shared/contract';
import {
  MAX_UPLOAD_BYTES,
  UPLOAD_CHUNK_BYTES,
  UPLOAD_TTL_MS,
  UploadFileNameSchema,
  type UploadInfo,
} from '@shared/domain';

export interface Upload {
  readonly id: string;
  /** The name the user's file had (errors and reports show it). */
  readonly name: string;
  /** Where the bytes are: `<dataDir>/uploads/<id><ext>`, the extension kept as a format hint. */
  readonly path: string;
  bytes: number;
  expiresAt: number;
  /** A chunked upload still being written, or a check/commit running on it. */
  busy: boolean;
}

export interface UploadStoreOptions {
  dir: string;
  now?: () => number;
  maxBytes?: number;
  ttlMs?: number;
  /** How often expired uploads are swept; 0: only when `sweep()` is called (tests). */
  sweepMs?: number;
}

/**
 * Uploaded files waiting for `import.check` / `import.commit`: one temp file each in the data
 * dir's uploads/ folder, deleted after import, on discard, when they expire (1 h by default) and
 * at start (an upload does not survive a restart: the index is in memory).
 */
export class UploadStore {
  private readonly uploads = new Map<string, Upload>();
  private readonly now: () => number;
  readonly maxBytes: number;
  private readonly ttlMs: number;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: UploadStoreOptions) {
    this.now = options.now ?? Date.now;
    this.maxBytes = options.maxBytes ?? MAX_UPLOAD_BYTES;
    this.ttlMs = options.ttlMs ?? UPLOAD_TTL_MS;
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    for (const entry of readdirSync(options.dir)) rmSync(join(options.dir, entry), { force: true, recursive: true });
    const sweepMs = options.sweepMs ?? 60_000;
    this.timer = sweepMs > 0 ? setInterval(() => void this.sweep(), sweepMs) : undefined;
    this.timer?.unref();
  }

  /** Streams a request body into a new upload; over `maxBytes`: payload_too_large and nothing kept. */
  async fromStream(name: string, body: Readable, maxBytes = this.maxBytes): Promise<UploadInfo> {
    const upload = this.create(name);
    upload.busy = true;
    let bytes = 0;
    let over = false;
    const limit = Math.min(maxBytes, this.maxBytes);
    // Past the limit the rest is read and dropped rather than the stream destroyed: destroying a
    // request body closes its socket, and the caller would never see the 413.
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes > limit) over = true;
        callback(null, over ? undefined : chunk);
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(upload.path, { flags: 'wx', mode: 0o600 }));
    } catch {
      await this.delete(upload.id);
      throw new ApiError('invalid_input', `${name}: the upload was interrupted`);
    }
    if (over) {
      await this.delete(upload.id);
      throw new ApiError('payload_too_large', `${name}: the upload is over ${limit} bytes`);
    }
    upload.bytes = bytes;
    upload.busy = false;
    return this.info(upload);
  }

  /** `import.upload`: appends one base64 chunk at `offset` (chunks come in order). */
  async appendChunk(input: {
    uploadId?: string | undefined;
    name: string;
    offset: number;
    data: string;
  }): Promise<UploadInfo> {
    const bytes = Buffer.from(input.data, 'base64');
    if (bytes.length > UPLOAD_CHUNK_BYTES)
      throw new ApiError('payload_too_large', `${input.name}: a chunk holds at most ${UPLOAD_CHUNK_BYTES} bytes`);
    if (input.uploadId === undefined) {
      if (input.offset !== 0)
        throw new ApiError('invalid_input', `${input.name}: the first chunk starts at offset 0`, [
          { path: 'offset', message: 'must be 0 without uploadId' },
        ]);
      if (bytes.length > this.maxBytes)
        throw new ApiError('payload_too_large', `${input.name}: the upload is over ${this.maxBytes} bytes`);
      const upload = this.create(input.name);
      await writeFile(upload.path, bytes, { flag: 'wx', mode: 0o600 });
      upload.bytes = bytes.length;
      return this.info(upload);
    }
    const upload = this.get(input.uploadId);
    if (upload.busy) throw new ApiError('conflict', `${upload.name}: the upload is in use`);
    if (input.offset !== upload.bytes) {
      throw new ApiError(
        'conflict',
        `${upload.name}: the next chunk starts at offset ${upload.bytes}, not ${input.offset}`,
      );
    }
    if (upload.bytes + bytes.length > this.maxBytes) {
      await this.delete(upload.id);
      throw new ApiError('payload_too_large', `${upload.name}: the upload is over ${this.maxBytes} bytes`);
    }
    upload.busy = true;
    try {
      await appendFile(upload.path, bytes);
      upload.bytes += bytes.length;
      upload.expiresAt = this.now() + this.ttlMs;
    } finally {
      upload.busy = false;
    }
    return this.info(upload);
  }

  /** An upload that exists and has not expired; not_found otherwise. */
  get(id: string): Upload {
    const upload = this.uploads.get(id);
    if (!upload || upload.expiresAt <= this.now()) {
      if (upload) {
        this.uploads.delete(id);
        rmSync(upload.path, { force: true });
      }
      throw new ApiError(
        'not_found',
        `No upload ${id} (uploads are deleted after import, discard, or ${Math.round(this.ttlMs / 60_000)} minutes)`,
      );
    }
    return upload;
  }

  /** Deletes an upload and its file; false when there was none. */
  async delete(id: string): Promise<boolean> {
    const upload = this.uploads.get(id);
    if (!upload) return false;
    this.uploads.delete(id);
    await rm(upload.path, { force: true });
    return true;
  }

  /** Deletes every expired upload; returns how many. */
  async sweep(): Promise<number> {
    const at = this.now();
    const expired = [...this.uploads.values()].filter((u) => u.expiresAt <= at && !u.busy);
    for (const upload of expired) await this.delete(upload.id);
    return expired.length;
  }

  get size(): number {
    return this.uploads.size;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const id of [...this.uploads.keys()]) await this.delete(id);
  }

  info(upload: Upload): UploadInfo {
    return {
      uploadId: upload.id,
      name: upload.name,
      bytes: upload.bytes,
      expiresAt: new Date(upload.expiresAt).toISOString(),
    };
  }

  private create(rawName: string): Upload {
    const parsed = UploadFileNameSchema.safeParse(rawName);
    if (!parsed.success)
      throw new ApiError(
        'invalid_input',
        `Bad file name "${rawName.slice(0, 80)}": a file name without a folder, 1-255 characters`,
        [{ path: 'name', message: 'must be a file name without a folder' }],
      );
    const id = randomBytes(16).toString('hex');
    const ext = extname(rawName).toLowerCase();
    const path = join(this.options.dir, `${id}${/^\.[a-z0-9]{1,10}$/.test(ext) ? ext : '.upload'}`);
    const upload: Upload = { id, name: rawName, path, bytes: 0, expiresAt: this.now() + this.ttlMs, busy: false };
    this.uploads.set(id, upload);
    return upload;
  }
}
