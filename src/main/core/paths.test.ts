import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDataDir } from './paths';

// Electron's userData is <appData>/<productName>; the daemon must land in the same folder.
describe('defaultDataDir', () => {
  it('follows XDG_CONFIG_HOME on Linux, like Electron', () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/x/cfg' }, 'linux')).toBe(join('/x/cfg', 'TFT Monitoring Prediction'));
    expect(defaultDataDir({}, 'linux')).toBe(join(homedir(), '.config', 'TFT Monitoring Prediction'));
  });
  it('uses Application Support on macOS and APPDATA on Windows', () => {
    expect(defaultDataDir({}, 'darwin')).toBe(join(homedir(), 'Library', 'Application Support', 'TFT Monitoring Prediction'));
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32')).toContain('TFT Monitoring Prediction');
  });
});
