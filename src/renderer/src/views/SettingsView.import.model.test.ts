import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ImportReport } from '@shared/domain';
import { chunkRanges, formatBytes, rejectedByReason, reportSummary, toBase64 } from './SettingsView.import.model';

describe('chunkRanges', () => {
  it('covers every byte once, in order, in chunks of at most the limit (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 16, max: 70_000 }), (size, chunk) => {
        const ranges = chunkRanges(size, chunk);
        expect(ranges[0]!.start).toBe(0);
        expect(ranges.at(-1)!.end).toBe(size);
        const bad = ranges.findIndex(
          (r, i) =>
            r.end - r.start > chunk || (size > 0 && r.end <= r.start) || (i > 0 && r.start !== ranges[i - 1]!.end),
        );
        expect(bad).toBe(-1);
      }),
    );
  });
  it('sends one empty chunk for an empty file', () => {
    expect(chunkRanges(0)).toEqual([{ start: 0, end: 0 }]);
  });
});

describe('toBase64', () => {
  it('decodes back to the same bytes for any input, across its internal steps (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), (bytes) => {
        const text = toBase64(bytes);
        expect(text.length).toBe(4 * Math.ceil(bytes.length / 3));
        expect(Uint8Array.from(atob(text), (c) => c.charCodeAt(0))).toEqual(bytes);
      }),
      { numRuns: 40 },
    );
  });
});

const report: ImportReport = {
  uploadId: 'a'.repeat(32),
  file: 'fleet.csv',
  bytes: 2048,
  format: 'csv',
  committed: false,
  rows: 1200,
  accepted: 1190,
  duplicates: 4,
  rejected: { conflict: 5, out_of_order: 0, future: 1, invalid: 0 },
  rejections: [],
  servers: { total: 3, new: 2, existing: 1, names: [] },
  metrics: ['cpu_percent', 'memory_percent'],
  timeRange: { from: '2025-01-01T00:00:00.000Z', to: '2025-01-02T00:00:00.000Z' },
  snapped: 0,
  duplicatesInFile: 0,
  contractVersion: null,
};

describe('the report as the panel shows it', () => {
  it('summarises figures and says "will store" before the import and "stored" after', () => {
    const figures = Object.fromEntries(reportSummary(report).map((f) => [f.label, f.value]));
    expect(figures).toMatchObject({
      Format: 'CSV',
      Rows: '1,200',
      'Will store': '1,190',
      Rejected: '6',
      Servers: '3 (2 new, 1 existing)',
      Metrics: 'cpu_percent, memory_percent',
      'Time range': '2025-01-01 00:00 – 2025-01-02 00:00 UTC',
    });
    expect(reportSummary({ ...report, committed: true }).map((f) => f.label)).toContain('Stored');
  });
  it('lists only the reasons that occur', () => {
    expect(rejectedByReason(report)).toEqual(['5 conflict with stored data', '1 in the future']);
  });
  it('formats sizes', () => {
    expect([formatBytes(512), formatBytes(2048), formatBytes(3 * 1024 * 1024)]).toEqual([
      '512 B',
      '2.0 KiB',
      '3.0 MiB',
    ]);
  });
});
