import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// End-to-end: the built daemon (`out/main/cli.js serve`, what `npm run serve` runs) driven by
// Debian's Chromium through playwright-core. `npm run test:e2e` builds first.
export default defineConfig({
  resolve: { alias: { '@shared': resolve(__dirname, 'src/shared') } },
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    // One browser at a time on two cores; the files share nothing but the CPU.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
