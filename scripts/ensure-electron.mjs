// `npm start` needs the Electron binary. We do not let electron's install script run at
// `npm ci` (package.json allowScripts: it downloads ~100 MB, which CI and offline machines
// cannot do, and the headless daemon and the tests never need it), so fetch it on first use.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const require = createRequire(import.meta.url);
const electronDir = dirname(require.resolve('electron/package.json'));
if (existsSync(join(electronDir, 'path.txt'))) process.exit(0);

console.log('Downloading the Electron binary (first run only)…');
const result = spawnSync(process.execPath, [join(electronDir, 'install.js')], { stdio: 'inherit' });
if (result.status !== 0) {
  console.error(
    '\nCould not download Electron (no internet?). The desktop app needs it; the headless\n' +
      'daemon does not: `npm run serve -- --port 8000` serves the same dashboard in a browser.',
  );
  process.exit(result.status ?? 1);
}
