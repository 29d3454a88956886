// `npm start` needs two things the headless daemon and the tests never need, and which both come
// from the internet, so they are fetched on first use rather than at `npm ci`:
//  1. the Electron binary (electron's own install script is not approved in allowScripts: it
//     downloads ~100 MB, which CI and offline machines cannot do);
//  2. better-sqlite3 built for Electron's ABI. node_modules keeps the Node build (for
//     `npm run serve` and the tests); the Electron build goes to
//     node_modules/.cache/electron-abi/better_sqlite3.node, which the desktop app loads in
//     development (src/main/desktop/start-desktop.ts, devSqliteBinding). Packaged apps get theirs
//     from `npm run dist` (scripts/packaging/dist.mjs, @electron/rebuild).
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const require = createRequire(import.meta.url);
const root = dirname(dirname(new URL(import.meta.url).pathname));
const electronDir = dirname(require.resolve('electron/package.json'));
const electronVersion = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version;

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', shell: process.platform === 'win32' });
  return result.status === 0;
}

function fail(what) {
  console.error(
    `\nCould not ${what} (no internet?). The desktop app needs it; the headless daemon does\n` +
      'not: `npm run serve -- --port 8000` serves the same dashboard in a browser.',
  );
  process.exit(1);
}

if (!existsSync(join(electronDir, 'path.txt'))) {
  console.log(`Downloading the Electron ${electronVersion} binary (first run only)…`);
  if (!run(process.execPath, [join(electronDir, 'install.js')])) fail('download Electron');
}

const cacheDir = join(root, 'node_modules', '.cache', 'electron-abi');
const binding = join(cacheDir, 'better_sqlite3.node');
const stamp = join(cacheDir, `electron-${electronVersion}`);
if (!existsSync(binding) || !existsSync(stamp)) {
  console.log(`Building better-sqlite3 for Electron ${electronVersion} (first run only)…`);
  const source = dirname(require.resolve('better-sqlite3/package.json'));
  const work = join(cacheDir, 'better-sqlite3');
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  cpSync(source, work, { recursive: true, filter: (path) => !path.includes(`${join(source, 'build')}`) });
  const target = ['--runtime=electron', `--target=${electronVersion}`, `--arch=${process.arch}`];
  const prebuilt = run(process.execPath, [require.resolve('prebuild-install/bin.js'), ...target, `--platform=${process.platform}`], work);
  const built =
    prebuilt ||
    run(process.execPath, [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--release', ...target, '--dist-url=https://electronjs.org/headers'], work);
  const output = join(work, 'build', 'Release', 'better_sqlite3.node');
  if (!built || !existsSync(output)) fail(`build better-sqlite3 for Electron ${electronVersion}`);
  copyFileSync(output, binding);
  writeFileSync(stamp, '');
}
