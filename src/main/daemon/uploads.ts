import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ApiError, type CoreApi } from '@shared/contract';
import { MAX_UPLOAD_BYTES, type UploadInfo } from '@shared/domain';

/** What the upload route hands the body to: the core's ImportService. */
export interface Uploader {
  upload(name: string, body: Readable, maxBytes?: number): Promise<UploadInfo>;
}

export const UPLOAD_PATH = '/api/uploads';
export const UPLOAD_CONTENT_TYPE = 'application/octet-stream';
/** The file's name, percent-encoded (`encodeURIComponent`): headers carry ASCII only. */
export const FILE_NAME_HEADER = 'x-file-name';

/** The core's uploader when it has one (`createCore`'s `imports`); a bare CoreApi has none. */
export function uploaderOf(core: CoreApi): Uploader | null {
  const imports = (core as { imports?: unknown }).imports;
  return imports && typeof (imports as Uploader).upload === 'function' ? (imports as Uploader) : null;
}

/**
 * `POST /api/uploads`: the raw bytes of one file (`Content-Type: application/octet-stream`, its
 * name in `X-File-Name`), streamed to a temp file in the data dir, never held in memory; answers
 * `{ uploadId, name, bytes, expiresAt }` for `import.check` / `import.commit`. Over `limit` bytes:
 * 413 (refused up front from Content-Length, or when the stream passes it); another type: 415.
 * It is registered in its own scope, so only this route reads a non-JSON body, and the root's
 * security hook (Host, same-origin, token) runs before it like before every route.
 */
export async function registerUploadRoute(
  app: FastifyInstance,
  uploader: Uploader,
  limit = MAX_UPLOAD_BYTES,
): Promise<void> {
  await app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    // Hand the body over unread; the handler checks the type and streams it.
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.post(UPLOAD_PATH, async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const type = String(request.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      if (type !== UPLOAD_CONTENT_TYPE) {
        reply.header('connection', 'close');
        throw new ApiError('unsupported_media_type', `Content-Type must be ${UPLOAD_CONTENT_TYPE} for ${UPLOAD_PATH}`);
      }
      const length = Number(request.headers['content-length']);
      if (Number.isFinite(length) && length > limit) {
        reply.header('connection', 'close');
        throw new ApiError('payload_too_large', `The upload is ${length} bytes; at most ${limit} are accepted`);
      }
      const raw = request.headers[FILE_NAME_HEADER];
      if (typeof raw !== 'string' || raw === '') {
        reply.header('connection', 'close');
        throw new ApiError('invalid_input', `Name the file in the ${FILE_NAME_HEADER} header (percent-encoded)`, [
          { path: FILE_NAME_HEADER, message: 'required' },
        ]);
      }
      let name: string;
      try {
        name = decodeURIComponent(raw);
      } catch {
        reply.header('connection', 'close');
        throw new ApiError('invalid_input', `The ${FILE_NAME_HEADER} header is not valid percent-encoding`, [
          { path: FILE_NAME_HEADER, message: 'not valid percent-encoding' },
        ]);
      }
      const body = request.body as Readable | undefined;
      if (!body || typeof body.pipe !== 'function') throw new ApiError('invalid_input', 'The upload has no body');
      try {
        const info = await uploader.upload(name, body, limit);
        return reply.code(201).send(info);
      } catch (error) {
        reply.header('connection', 'close');
        throw error;
      }
    });
    done();
  });
}
