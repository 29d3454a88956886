import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { CSP_DIRECTIVES, serializeCsp } from './src/shared/contract/csp';

const alias = { '@shared': resolve(__dirname, 'src/shared') };

/**
 * The built dashboard carries the CSP in a <meta> tag, because a file:// page (the packaged
 * Electron window) gets no response headers. Only in builds: the dev server's React Refresh
 * preamble is an inline script, which the policy rightly forbids; in dev the Electron session
 * header (src/main/desktop/security.ts) applies the dev variant. `frame-ancestors` is left out:
 * browsers ignore it in <meta> and say so in the console.
 */
function cspMetaTag(): Plugin {
  const { 'frame-ancestors': _ignoredInMeta, ...directives } = CSP_DIRECTIVES;
  return {
    name: 'csp-meta-tag',
    apply: 'build',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: serializeCsp(directives) }, injectTo: 'head' },
    ],
  };
}

export default defineConfig({
  main: {
    resolve: { alias },
    build: {
      rolldownOptions: {
        input: {
          // The Electron main process.
          index: resolve(__dirname, 'src/main/desktop/main.ts'),
          // The CLI (serve, and later generate/train/replay/evaluate): plain Node, never Electron.
          cli: resolve(__dirname, 'src/main/cli/main.ts'),
        },
      },
    },
  },
  preload: {
    resolve: { alias },
    build: {
      rolldownOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        // Sandboxed preloads cannot be ES modules.
        output: { format: 'cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    resolve: { alias },
    plugins: [react(), cspMetaTag()],
    build: {
      minify: true,
      rolldownOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
