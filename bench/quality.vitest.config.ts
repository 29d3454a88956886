import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Runs bench/model-quality.bench.ts alone: `npx vitest run --config bench/quality.vitest.config.ts` (npm run bench:quality).
 * Standalone (the root config's `include` would be concatenated, not replaced).
 */
export default defineConfig({
  resolve: { alias: { '@shared': resolve(__dirname, '../src/shared') } },
  test: {
    root: resolve(__dirname, '..'),
    include: ['bench/model-quality.bench.ts'],
    environment: 'node',
    testTimeout: 1_800_000,
    // One worker: the timings must not share the two cores with anything else.
    maxWorkers: 1,
  },
});
