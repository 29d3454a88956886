import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * `npm run fuzz`: the fuzz suites of scripts/fuzz at 10,000 cases each (FUZZ_RUNS overrides),
 * then one JSON summary (cases, rejections by type, crashes) printed by the global setup's
 * teardown. `npm test` runs the same files at FUZZ_RUNS=200 (the default) with no summary.
 */
process.env.FUZZ_RUNS ??= '10000';
process.env.FUZZ_SUMMARY_DIR ??= mkdtempSync(join(tmpdir(), 'tftmp-fuzz-summary-'));

export default defineConfig({
  resolve: { alias: { '@shared': resolve(__dirname, '..', '..', 'src/shared') } },
  test: {
    root: resolve(__dirname, '..', '..'),
    include: ['scripts/fuzz/**/*.fuzz.test.ts'],
    environment: 'node',
    maxWorkers: 2,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    globalSetup: [resolve(__dirname, 'summary.global.ts')],
  },
});
