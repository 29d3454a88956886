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
