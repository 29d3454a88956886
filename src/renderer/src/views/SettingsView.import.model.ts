import { ApiError, type ApiClient } from '@shared/contract';
import { MAX_UPLOAD_BYTES, UPLOAD_CHUNK_BYTES, type ImportReport, type UploadInfo } from '@shared/domain';

/** What the file chooser offers; the core decides by the bytes, not the name. */
export const IMPORT_ACCEPT = '.csv,.txt,.parquet,.pq,.arrow,.feather,.ipc,.arrows';

export const UPLOAD_ROUTE = '/api/uploads';

/** The byte ranges a file is sent in over `import.upload`: in order, each at most `chunk` bytes; one empty range for an empty file. */
export function chunkRanges(size: number, chunk = UPLOAD_CHUNK_BYTES): { start: number; end: number }[] {
  if (size <= 0) return [{ start: 0, end: 0 }];
  const ranges: { start: number; end: number }[] = [];
  for (let start = 0; start < size; start += chunk) ranges.push({ start, end: Math.min(size, start + chunk) });
  return ranges;
}

/** Base64 of bytes, in steps so a 512 KiB chunk never builds one huge argument list. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export interface UploadSource {
  name: string;
  size: number;
  slice(start: number, end: number): Blob;
}

/**
 * Sends a file to the core. Over HTTP (a browser on the daemon) it is one streamed
 * `POST /api/uploads`; over IPC (the desktop app, which has no HTTP server) it goes in base64
 * chunks through `import.upload`. Either way the answer is an upload id for import.check.
 */
export async function uploadFile(
  client: ApiClient,
  file: UploadSource,
  onProgress: (sent: number) => void,
): Promise<UploadInfo> {
  if (file.size > MAX_UPLOAD_BYTES) {
    throw new ApiError(
      'payload_too_large',
      `${file.name} is ${file.size} bytes; at most ${MAX_UPLOAD_BYTES} bytes (256 MiB) can be imported from the app`,
    );
  }
  if (client.transport === 'http') return uploadOverHttp(file, onProgress);
  let info: UploadInfo | null = null;
  for (const { start, end } of chunkRanges(file.size)) {
    const bytes = new Uint8Array(await file.slice(start, end).arrayBuffer());
    info = await client.call('import.upload', {
      ...(info ? { uploadId: info.uploadId } : {}),
      name: file.name,
      offset: start,
      data: toBase64(bytes),
    });
    onProgress(end);
  }
  return info!;
}

function uploadOverHttp(file: UploadSource, onProgress: (sent: number) => void): Promise<UploadInfo> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', UPLOAD_ROUTE);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('x-file-name', encodeURIComponent(file.name));
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText) as unknown;
      } catch {
        // handled below
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body as UploadInfo);
      else reject(body ? ApiError.fromBody(body) : new ApiError('internal', `Upload failed (HTTP ${xhr.status})`));
    };
    xhr.onerror = () => reject(new ApiError('unavailable', `${file.name}: the upload failed (network)`));
    xhr.send(file as unknown as Blob);
  });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

const REASON_LABELS: Record<keyof ImportReport['rejected'], string> = {
  conflict: 'conflict with stored data',
  out_of_order: 'out of order',
  future: 'in the future',
  invalid: 'invalid',
};

/** The report's headline figures, as the panel shows them. */
export function reportSummary(report: ImportReport): { label: string; value: string }[] {
  const n = (x: number): string => x.toLocaleString('en-US');
  const rejected = Object.values(report.rejected).reduce((a, b) => a + b, 0);
  return [
    {
      label: 'Format',
      value:
        report.format === 'arrow-stream'
          ? 'Arrow stream'
          : report.format === 'csv'
            ? 'CSV'
            : report.format === 'arrow'
              ? 'Arrow'
              : 'Parquet',
    },
    { label: 'Rows', value: n(report.rows) },
    { label: report.committed ? 'Stored' : 'Will store', value: n(report.accepted) },
    { label: 'Already stored', value: n(report.duplicates) },
    { label: 'Rejected', value: n(rejected) },
    {
      label: 'Servers',
      value: `${n(report.servers.total)} (${n(report.servers.new)} new, ${n(report.servers.existing)} existing)`,
    },
    { label: 'Metrics', value: report.metrics.join(', ') || 'none' },
    {
      label: 'Time range',
      value: report.timeRange
        ? `${report.timeRange.from.replace('T', ' ').slice(0, 16)} – ${report.timeRange.to.replace('T', ' ').slice(0, 16)} UTC`
        : '—',
    },
  ];
}

/** Rejected rows by reason, only the reasons that occur: "12 conflict with stored data". */
export function rejectedByReason(report: ImportReport): string[] {
  return (Object.keys(REASON_LABELS) as (keyof ImportReport['rejected'])[])
    .filter((reason) => report.rejected[reason] > 0)
    .map((reason) => `${report.rejected[reason].toLocaleString('en-US')} ${REASON_LABELS[reason]}`);
}
