import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Runs bench/dashboard-frames.bench.ts alone (it drives Chromium against the built daemon):
 * `npx electron-vite build --logLevel warn && npx vitest run --config bench/dashboard-frames.vitest.config.ts`.
 */
export default defineConfig({
  resolve: { alias: { '@shared': resolve(__dirname, '../src/shared') } },
  test: {
    root: resolve(__dirname, '..'),
    include: ['bench/dashboard-frames.bench.ts'],
    environment: 'node',
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
    maxWorkers: 1,
  },
});
