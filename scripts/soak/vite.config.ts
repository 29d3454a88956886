import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * Bundles scripts/soak/soak.ts into out/soak/soak.cjs (Node 20 cannot run TypeScript):
 *
 *   npm run soak -- --minutes 60
 */
const root = resolve(__dirname, '..', '..');

export default defineConfig({
  root,
  logLevel: 'warn',
  resolve: { alias: { '@shared': resolve(root, 'src/shared') } },
  build: {
    ssr: resolve(__dirname, 'soak.ts'),
    outDir: resolve(root, 'out/soak'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    rolldownOptions: {
      external: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
      output: { format: 'cjs', entryFileNames: 'soak.cjs' },
    },
  },
});
