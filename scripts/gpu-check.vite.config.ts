import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * Bundles scripts/gpu-check.ts into out/gpu/gpu-check.cjs: one CommonJS file for the GPU lender,
 * which has Node and onnxruntime-node (via NODE_PATH) but no node_modules. Everything else
 * (onnx-proto, protobufjs, our code) goes into the bundle.
 *
 *   npx vite build --config scripts/gpu-check.vite.config.ts
 */
const root = resolve(__dirname, '..');

export default defineConfig({
  root,
  logLevel: 'warn',
  resolve: { alias: { '@shared': resolve(root, 'src/shared') } },
  ssr: { noExternal: true },
  build: {
    ssr: resolve(__dirname, 'gpu-check.ts'),
    outDir: resolve(root, 'out/gpu'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    rolldownOptions: {
      external: ['onnxruntime-node', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
      output: { format: 'cjs', entryFileNames: 'gpu-check.cjs' },
    },
  },
});
