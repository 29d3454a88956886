import { z } from 'zod';
import { METRIC_NAMES, SERVER_NAME_PATTERN } from '../contract/metrics';

/**
 * File import from the app (issue 9): a file is uploaded first (the daemon's `POST /api/uploads`,
 * or `import.upload` in chunks where there is no HTTP, as in the desktop app), then checked
 * (`import.check`, writes nothing), then imported all-or-nothing (`import.commit`) or discarded.
 */
export const UploadIdSchema = z.string().regex(/^[a-f0-9]{32}$/, 'must be an upload id (32 hex digits)');

/** Largest upload kept: 256 MiB. */
export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;
/** Bytes per `import.upload` chunk (before base64): well under the 1 MiB JSON body limit. */
export const UPLOAD_CHUNK_BYTES = 512 * 1024;
/** An upload not imported or discarded within this time is deleted. */
export const UPLOAD_TTL_MS = 60 * 60 * 1000;

export const UploadFileNameSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^/\\\0]+$/, 'must be a file name without a folder');

/** `import.upload`: one chunk, in order; `uploadId` absent on the first. */
export const ImportUploadInputSchema = z
  .object({
    uploadId: UploadIdSchema.optional(),
    name: UploadFileNameSchema,
    offset: z.number().int().min(0).max(MAX_UPLOAD_BYTES),
    /** Base64 of at most UPLOAD_CHUNK_BYTES bytes. */
    data: z.string().max(Math.ceil(UPLOAD_CHUNK_BYTES / 3) * 4),
  })
  .strict();

export const UploadInfoSchema = z.object({
  uploadId: UploadIdSchema,
  name: z.string(),
  bytes: z.number().int().min(0),
  expiresAt: z.iso.datetime(),
});
export type UploadInfo = z.infer<typeof UploadInfoSchema>;

export const ImportTargetSchema = z
  .object({
    uploadId: UploadIdSchema,
    /** For a single-series `timestamp,value` CSV: the server and the contract metric it holds. */
    server: z.string().regex(SERVER_NAME_PATTERN, 'must be a valid server name').optional(),
    metric: z.enum(METRIC_NAMES).optional(),
    /** Multiply single-series values by this first (unit conversion). */
    scale: z.number().positive().finite().optional(),
  })
  .strict()
  .refine((t) => (t.server === undefined) === (t.metric === undefined), {
    message: 'server and metric go together',
    path: ['metric'],
  });
export type ImportTarget = z.input<typeof ImportTargetSchema>;

export const ImportDiscardInputSchema = z.object({ uploadId: UploadIdSchema }).strict();
export const ImportDiscardedSchema = z.object({ uploadId: UploadIdSchema, discarded: z.boolean() });

export const IMPORT_REJECT_REASONS = ['conflict', 'out_of_order', 'future', 'invalid'] as const;

export const ImportRejectionSchema = z.object({
  /** 1-based data row in the file (header excluded). */
  row: z.number().int(),
  server: z.string(),
  timestamp: z.iso.datetime().nullable(),
  field: z.string(),
  reason: z.enum(IMPORT_REJECT_REASONS),
  message: z.string(),
});
export type ImportRejection = z.infer<typeof ImportRejectionSchema>;

const RejectedCountsSchema = z.object({
  conflict: z.number().int(),
  out_of_order: z.number().int(),
  future: z.number().int(),
  invalid: z.number().int(),
});

/** `import.check` and `import.commit`: the same figures; `committed` tells which one wrote. */
export const ImportReportSchema = z.object({
  uploadId: UploadIdSchema,
  file: z.string(),
  bytes: z.number().int(),
  format: z.enum(['parquet', 'arrow', 'arrow-stream', 'csv']),
  committed: z.boolean(),
  /** Rows read from the file (identical duplicate rows in it already dropped). */
  rows: z.number().int(),
  /** Rows that are (check) or were (commit) stored. */
  accepted: z.number().int(),
  /** Rows identical to a stored sample: nothing to do. */
  duplicates: z.number().int(),
  rejected: RejectedCountsSchema,
  /** The first rejections, in row order. */
  rejections: z.array(ImportRejectionSchema),
  servers: z.object({
    total: z.number().int(),
    new: z.number().int(),
    existing: z.number().int(),
    /** The first 100 names, new ones first. */
    names: z.array(z.object({ name: z.string(), new: z.boolean(), rows: z.number().int() })),
  }),
  metrics: z.array(z.enum(METRIC_NAMES)),
  timeRange: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }).nullable(),
  snapped: z.number().int(),
  duplicatesInFile: z.number().int(),
  contractVersion: z.string().nullable(),
});
export type ImportReport = z.infer<typeof ImportReportSchema>;
