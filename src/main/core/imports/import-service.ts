import type { Readable } from 'node:stream';
import { ApiError, type MetricName } from '@shared/contract';
import type { ImportReport, UploadInfo } from '@shared/domain';
import { FileFormatError, readSamplesFile, type ReadSamplesOptions, type SamplesFile } from '../metrics/io';
import type { IngestOptions, IngestReport, MetricsStore } from '../store';
import type { Logger } from '../util/logger';
import type { UploadStore, Upload } from './upload-store';

export interface ImportTargetInput {
  uploadId: string;
  server?: string | undefined;
  metric?: MetricName | undefined;
  scale?: number | undefined;
}

export interface ImportServiceOptions {
  store: MetricsStore;
  uploads: UploadStore;
  logger: Logger;
  /** The clock the future check uses (epoch ms). */
  now: () => number;
  /** After a commit stored rows: the core publishes fleet.updated and asks for a prediction. */
  onIngest?: (report: IngestReport) => void;
}

const MAX_SERVER_NAMES = 100;

/**
 * `import.check` / `import.commit` / `import.discard` over an uploaded file. The file is read and
 * checked completely by the CLI's reader (`readSamplesFile`); a file with any problem is refused
 * (invalid_input, naming file, line or row, and field) and nothing is written. The check then runs
 * the store's own ingest inside a transaction that is always rolled back, so its figures (accepted,
 * duplicates, rejected by reason) are exactly what the commit will do on an unchanged store.
 */
export class ImportService {
  constructor(private readonly options: ImportServiceOptions) {}

  /** The daemon's `POST /api/uploads`: a request body streamed into a new upload (at most `maxBytes`). */
  upload(name: string, body: Readable, maxBytes?: number): Promise<UploadInfo> {
    return this.options.uploads.fromStream(name, body, maxBytes);
  }

  async check(target: ImportTargetInput): Promise<ImportReport> {
    const upload = this.options.uploads.get(target.uploadId);
    return this.withUpload(upload, async () => {
      const read = await this.read(upload, target);
      const { store } = this.options;
      const existing = new Set(store.listServers().map((s) => s.name));
      // Dry run: the same code path as the commit, in one transaction that is rolled back. It
      // runs synchronously, so nothing else on this connection can slip into the transaction.
      const db = store.db;
      db.exec('BEGIN IMMEDIATE');
      let report: IngestReport;
      try {
        report = store.ingest(read.columns, this.ingestOptions(read));
      } finally {
        db.exec('ROLLBACK');
      }
      return describe(upload, read, report, existing, false);
    });
  }

  async commit(target: ImportTargetInput): Promise<ImportReport> {
    const upload = this.options.uploads.get(target.uploadId);
    const result = await this.withUpload(upload, async () => {
      const read = await this.read(upload, target);
      const existing = new Set(this.options.store.listServers().map((s) => s.name));
      const report = await this.options.store.ingestYielding(read.columns, this.ingestOptions(read));
      this.options.logger.info('file imported', {
        file: upload.name,
        rows: report.rows,
        accepted: report.accepted,
        serversCreated: report.serversCreated,
      });
      return { read, report, existing };
    });
    await this.options.uploads.delete(upload.id);
    if (result.report.accepted > 0 || result.report.serversCreated > 0) this.options.onIngest?.(result.report);
    return describe(upload, result.read, result.report, result.existing, true);
  }

  async discard(uploadId: string): Promise<{ uploadId: string; discarded: boolean }> {
    const upload = this.options.uploads.get(uploadId);
    if (upload.busy) throw new ApiError('conflict', `${upload.name}: the upload is being checked or imported`);
    return { uploadId, discarded: await this.options.uploads.delete(uploadId) };
  }

  private ingestOptions(read: SamplesFile): IngestOptions {
    return { now: this.options.now(), profiles: Object.fromEntries(read.profiles) };
  }

  private async withUpload<T>(upload: Upload, work: () => Promise<T>): Promise<T> {
    if (upload.busy) throw new ApiError('conflict', `${upload.name}: the upload is being written, checked or imported`);
    upload.busy = true;
    try {
      return await work();
    } finally {
      upload.busy = false;
    }
  }

  private async read(upload: Upload, target: ImportTargetInput): Promise<SamplesFile> {
    const options: ReadSamplesOptions = { fileName: upload.name };
    if (target.server !== undefined && target.metric !== undefined) {
      options.series = { server: target.server, metric: target.metric, scale: target.scale ?? 1 };
    }
    try {
      return await readSamplesFile(upload.path, options);
    } catch (error) {
      if (error instanceof FileFormatError) throw fileError(error);
      throw error;
    }
  }
}

/** A refused file as an API error: the message names file, line or row and field; one issue per problem. */
export function fileError(error: FileFormatError): ApiError {
  const count = error.problems.length;
  const lead = `Nothing imported: ${error.file} has ${count}${error.truncated ? '+' : ''} problem${count === 1 ? '' : 's'}`;
  return new ApiError(
    'invalid_input',
    `${lead}. ${error.problems[0]!.message}`,
    error.problems.map((p) => ({
      path:
        [p.line !== null ? `line ${p.line}` : p.row !== null ? `row ${p.row}` : null, p.field]
          .filter((x) => x !== null)
          .join(', ') || p.file,
      message: p.message,
    })),
  );
}

function describe(
  upload: Upload,
  read: SamplesFile,
  report: IngestReport,
  existing: ReadonlySet<string>,
  committed: boolean,
): ImportReport {
  const { columns } = read;
  const rowsByServer = new Map<string, number>();
  let from = Infinity;
  let to = -Infinity;
  for (let i = 0; i < columns.length; i++) {
    const name = columns.server[i]!;
    rowsByServer.set(name, (rowsByServer.get(name) ?? 0) + 1);
    const ts = columns.timestamp[i]!;
    if (ts < from) from = ts;
    if (ts > to) to = ts;
  }
  const names = [...rowsByServer].map(([name, rows]) => ({ name, new: !existing.has(name), rows }));
  names.sort((a, b) => Number(b.new) - Number(a.new) || a.name.localeCompare(b.name));
  const fresh = names.filter((n) => n.new).length;
  const iso = (ms: number): string | null =>
    Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
  return {
    uploadId: upload.id,
    file: upload.name,
    bytes: upload.bytes,
    format: read.format,
    committed,
    rows: report.rows,
    accepted: report.accepted,
    duplicates: report.duplicates,
    rejected: { ...report.rejected },
    rejections: report.rejections.map((r) => ({
      row: r.row + 1,
      server: r.server,
      timestamp: iso(r.timestamp),
      field: r.field,
      reason: r.reason,
      message: `${upload.name} row ${r.row + 1}, field ${r.field}: ${r.message.replace(/^row \d+ \([^)]*\): /, '')}`,
    })),
    servers: {
      total: names.length,
      new: fresh,
      existing: names.length - fresh,
      names: names.slice(0, MAX_SERVER_NAMES),
    },
    metrics: [...read.metrics],
    timeRange: columns.length > 0 ? { from: new Date(from).toISOString(), to: new Date(to).toISOString() } : null,
    snapped: read.snapped,
    duplicatesInFile: read.duplicatesDropped,
    contractVersion: read.contractVersion,
  };
}
