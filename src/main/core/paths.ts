import { homedir } from 'node:os';
import { join } from 'node:path';
import { APP_INFO } from './app-info';

/**
 * The folder Electron calls `userData` for this app, computed without Electron so the headless
 * daemon and the desktop app share settings, store and models on one machine.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = homedir();
  let appData: string;
  if (platform === 'win32') appData = env['APPDATA'] ?? join(home, 'AppData', 'Roaming');
  else if (platform === 'darwin') appData = join(home, 'Library', 'Application Support');
  else appData = env['XDG_CONFIG_HOME'] || join(home, '.config');
  return join(appData, APP_INFO.name);
}

/** Where the bundled default model lives, relative to the app's resources (electron-builder extraResources). */
export const BUNDLED_MODEL_SUBDIR = join('models', 'default');

/**
 * The bundled model folder (`resources/models/default` in the repository, `models/default`
 * among a packaged app's resources):
 *   - packaged desktop app: `<process.resourcesPath>/models/default` (pass `resourcesPath`,
 *     only when `app.isPackaged`: in development Electron's resourcesPath is its own);
 *   - development and `npm run serve`: the main bundle runs from `<repo>/out/main/` (index.js,
 *     cli.js), so `mainDir/../../resources/models/default`.
 */
export function bundledModelDir(options: { mainDir: string; resourcesPath?: string | undefined }): string {
  if (options.resourcesPath) return join(options.resourcesPath, BUNDLED_MODEL_SUBDIR);
  return join(options.mainDir, '..', '..', 'resources', BUNDLED_MODEL_SUBDIR);
}
