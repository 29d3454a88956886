import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
/** The repository root: bundles live under its node_modules so that `better-sqlite3` resolves from them. */
export const REPO_ROOT = resolve(here, '../../../../..');

export interface NodeBundle {
  /** Absolute path of the bundled ES module. */
  file: string;
  dispose(): void;
}

/**
 * Bundles a TypeScript entry (and the project code it imports) into one ES module that plain
 * Node runs: how tests and benches start the real store code in a worker thread or a child
 * process, since Node 20 cannot load .ts files and vitest's transform does not reach them.
 * It is the same bundler (Vite/Rolldown) the app is built with; packages stay external.
 */
export async function bundleForNode(entry: string): Promise<NodeBundle> {
  const { build } = await import('vite');
  const cacheDir = join(REPO_ROOT, 'node_modules', '.cache', 'store-bundles');
  mkdirSync(cacheDir, { recursive: true });
  const outDir = mkdtempSync(join(cacheDir, 'b-'));
  await build({
    configFile: false,
    logLevel: 'silent',
    root: REPO_ROOT,
    resolve: { alias: { '@shared': join(REPO_ROOT, 'src', 'shared') } },
    build: {
      ssr: entry,
      outDir,
      emptyOutDir: false,
      minify: false,
      target: 'node20',
      rolldownOptions: { output: { format: 'esm', entryFileNames: '[name].mjs' } },
    },
  });
  const name = entry.replace(/^.*[\\/]/, '').replace(/\.ts$/, '.mjs');
  return { file: join(outDir, name), dispose: () => rmSync(outDir, { recursive: true, force: true }) };
}
