import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from './testing/bundle';
import { tempDir } from './testing/fixtures';

// The production wiring, end to end: electron-vite (the app's bundler) builds a main-process
// entry that starts the store worker through `?nodeWorker`, and plain Node (the daemon's
// runtime) runs it. Vitest cannot import `?nodeWorker` modules, so this builds and spawns.
let work: string;
let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  const cache = join(REPO_ROOT, 'node_modules', '.cache', 'store-bundles');
  mkdirSync(cache, { recursive: true });
  work = mkdtempSync(join(cache, 'ev-'));
  tmp = tempDir('tftmp-store-bundled-');
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  tmp.remove();
});

it('the electron-vite build starts the store worker from its own chunk and ingests through it', async () => {
  const store = join(REPO_ROOT, 'src/main/core/store');
  writeFileSync(
    join(work, 'probe-main.ts'),
    `import { StoreWorker } from ${JSON.stringify(join(store, 'store-worker'))};
import { bundledStoreWorker } from ${JSON.stringify(join(store, 'store-worker-bundled'))};
import { fleetBatch } from ${JSON.stringify(join(store, 'testing/fleet-batch'))};
void (async () => {
  const worker = await StoreWorker.start(bundledStoreWorker, process.argv[2]!);
  const report = await worker.ingest(fleetBatch({ servers: 3, steps: 10, start: Date.UTC(2024, 0, 1) }), { now: Date.UTC(2024, 0, 2) });
  const window = await worker.latestWindow(5);
  await worker.close();
  console.log(JSON.stringify({ accepted: report.accepted, window: window.length, exit: await worker.exited }));
})();
`,
  );
  writeFileSync(
    join(work, 'electron.vite.config.mjs'),
    `export default { main: { resolve: { alias: { '@shared': ${JSON.stringify(join(REPO_ROOT, 'src/shared'))} } },
  build: { outDir: ${JSON.stringify(join(work, 'out'))}, rolldownOptions: { input: { probe: ${JSON.stringify(join(work, 'probe-main.ts'))} } } } } };
`,
  );
  const { build } = await import('electron-vite');
  // electron-vite sets NODE_ENV for the build; leave the test process as it was.
  const env = { NODE_ENV: process.env.NODE_ENV, NODE_ENV_ELECTRON_VITE: process.env.NODE_ENV_ELECTRON_VITE };
  try {
    await build({ configFile: join(work, 'electron.vite.config.mjs'), root: REPO_ROOT, logLevel: 'silent' });
  } finally {
    for (const [key, value] of Object.entries(env)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  const output = execFileSync(process.execPath, [join(work, 'out', 'probe.js'), tmp.file()], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(JSON.parse(output.trim())).toEqual({ accepted: 30, window: 15, exit: 0 });
}, 60_000);
