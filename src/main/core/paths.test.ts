import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledModelDir, defaultDataDir } from './paths';

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

describe('bundledModelDir', () => {
  it('finds resources/models/default from the built main bundle (out/main), as npm run serve and dev run it', () => {
    const root = resolve(__dirname, '..', '..', '..');
    expect(bundledModelDir({ mainDir: join(root, 'out', 'main') })).toBe(join(root, 'resources', 'models', 'default'));
    // The folder the test suite's model tests load is that one.
    expect(existsSync(join(bundledModelDir({ mainDir: join(root, 'out', 'main') }), 'model.json'))).toBe(true);
  });
  it("uses the packaged app's resources folder when given one", () => {
    expect(bundledModelDir({ mainDir: '/opt/app/resources/app.asar/out/main', resourcesPath: '/opt/app/resources' })).toBe(
      join('/opt/app/resources', 'models', 'default'),
    );
  });
});
