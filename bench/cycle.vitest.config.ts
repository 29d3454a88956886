import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Runs bench/fleet-cycle.bench.ts alone: `npm run bench:cycle`. Standalone (see io.vitest.config.ts).
 */
export default defineConfig({
  resolve: { alias: { '@shared': resolve(__dirname, '../src/shared') } },
  test: {
    root: resolve(__dirname, '..'),
    include: ['bench/fleet-cycle.bench.ts'],
    environment: 'node',
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
    // global.gc() before each RSS reading, so the figures are live memory rather than GC timing.
    execArgv: ['--expose-gc'],
  },
});
