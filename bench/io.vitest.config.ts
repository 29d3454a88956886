import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Runs bench/io.bench.ts alone: `npx vitest run --config bench/io.vitest.config.ts`. Standalone
 * rather than merged with the root config, whose `include` would be concatenated, not replaced.
 */
export default defineConfig({
  resolve: { alias: { '@shared': resolve(__dirname, '../src/shared') } },
  test: {
    root: resolve(__dirname, '..'),
    include: [process.env.BENCH_FILE ?? 'bench/io.bench.ts'],
    environment: 'node',
    testTimeout: 600_000,
    // One file, one worker: the numbers must not share the two cores with anything else.
    maxWorkers: 1,
  },
});
