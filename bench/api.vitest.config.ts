import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/** Runs bench/api-load.bench.ts alone: `npm run bench:api` (after a build). Standalone (see io.vitest.config.ts). */
export default defineConfig({
  resolve: { alias: { '@shared': resolve(__dirname, '../src/shared') } },
  test: {
    root: resolve(__dirname, '..'),
    include: ['bench/api-load.bench.ts'],
    environment: 'node',
    testTimeout: 900_000,
    maxWorkers: 1,
  },
});
