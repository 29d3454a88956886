import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json';
import { ROOT, loadNative, type NativeModule } from './modules';

/*
 * The native-module step of `npm run dist` (scripts/packaging/native.mjs). The rebuild itself needs
 * the Electron headers or prebuilt binaries from the internet, so it cannot run here; what it is
 * asked to do, and the save/restore of the Node build around it, are tested.
 */
let native: NativeModule;
const tmp = mkdtempSync(join(tmpdir(), 'tftmp-native-'));
beforeAll(async () => {
  native = await loadNative();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the rebuild', () => {
  it('targets the installed Electron, which package.json asks for', () => {
    const version = native.electronVersionOf(ROOT);
    const wanted = pkg.devDependencies.electron.replace(/^[\^~]/, '');
    expect(version.split('.')[0]).toBe(wanted.split('.')[0]);
    const options = native.rebuildOptions(ROOT, version, { platform: 'linux', arch: 'x64' });
    expect(options).toMatchObject({
      buildPath: ROOT,
      electronVersion: version,
      platform: 'linux',
      arch: 'x64',
      force: true,
    });
    expect(options.onlyModules.sort()).toEqual(['better-sqlite3', 'onnxruntime-node']);
  });

  it('covers every native module among the dependencies', () => {
    // A dependency with a binding.gyp or prebuilt .node files is native; each must be rebuilt or be Node-API.
    const nativeDeps = Object.keys(pkg.dependencies).filter((name) => {
      const dir = join(ROOT, 'node_modules', name);
      return existsSync(join(dir, 'binding.gyp')) || existsSync(join(dir, 'bin', 'napi-v6'));
    });
    expect(nativeDeps.sort()).toEqual([...native.NATIVE_MODULES].sort());
  });

  it('uses @electron/rebuild and @electron/fuses from devDependencies, with their install scripts decided', () => {
    expect(Object.keys(pkg.devDependencies)).toEqual(
      expect.arrayContaining(['@electron/rebuild', '@electron/fuses', 'ajv']),
    );
    expect(pkg.scripts.dist).toBe('electron-vite build && node scripts/packaging/dist.mjs');
    for (const name of ['@electron/rebuild', '@electron/fuses']) {
      const { scripts = {} } = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        scripts?: Record<string, string>;
      };
      // Neither has an install step, so neither needs an allowScripts entry.
      expect(Object.keys(scripts).filter((s) => ['preinstall', 'install', 'postinstall'].includes(s))).toEqual([]);
    }
  });

  it('finds onnxruntime-node prebuilt for every target the config builds', () => {
    for (const target of [
      { platform: 'linux', arch: 'x64' },
      { platform: 'linux', arch: 'arm64' },
      { platform: 'win32', arch: 'x64' },
      { platform: 'win32', arch: 'arm64' },
      { platform: 'darwin', arch: 'arm64' },
    ]) {
      const files = native.onnxRuntimeBinaries(ROOT, target);
      expect(files).toContain('onnxruntime_binding.node');
      // Its shared library sits beside it (asarUnpack unpacks the folder whole).
      expect(files.some((f) => /onnxruntime(\.\d+)*\.(so|dll|dylib)|libonnxruntime\.(so|\d)/.test(f))).toBe(true);
    }
    // No Intel macOS build in onnxruntime-node 1.30: the dmg is arm64 only (electron-builder.yml).
    expect(() => native.onnxRuntimeBinaries(ROOT, { platform: 'darwin', arch: 'x64' })).toThrow(
      /no prebuilt binding for darwin\/x64/,
    );
  });
});

describe('one target per run', () => {
  const host = { platform: 'linux', arch: 'x64' };
  it('reads the platform and arch from electron-builder flags, else the host', () => {
    expect(native.targetFromBuilderArgs([], host)).toEqual(host);
    expect(native.targetFromBuilderArgs(['--win'], host)).toEqual({ platform: 'win32', arch: 'x64' });
    expect(native.targetFromBuilderArgs(['--mac', '--arm64'], host)).toEqual({ platform: 'darwin', arch: 'arm64' });
    expect(native.targetFromBuilderArgs(['--mac'], host)).toEqual({ platform: 'darwin', arch: 'arm64' });
    expect(native.targetFromBuilderArgs(['--mac', '--x64'], host)).toEqual({ platform: 'darwin', arch: 'x64' });
    expect(native.targetFromBuilderArgs(['-l', 'AppImage', '--publish=never'], host)).toEqual(host);
    expect(native.targetFromBuilderArgs([], { platform: 'linux', arch: 'arm' })).toEqual({
      platform: 'linux',
      arch: 'armv7l',
    });
  });

  it('refuses several platforms or arches, and universal', () => {
    expect(() => native.targetFromBuilderArgs(['--linux', '--win'], host)).toThrow(/one platform per run/);
    expect(() => native.targetFromBuilderArgs(['--x64', '--arm64'], host)).toThrow(/one arch per run/);
    expect(() => native.targetFromBuilderArgs(['--mac', '--universal'], host)).toThrow(/universal/);
    expect(() => native.targetFromBuilderArgs(['--arch', 'arm64'], host)).toThrow(/--x64 or --arm64/);
  });
});

describe('the Node build is kept', () => {
  function fakeRepo(content: string): string {
    const root = mkdtempSync(join(tmp, 'repo-'));
    for (const file of native.NODE_BUILD_FILES) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), content);
    }
    return root;
  }
  const read = (root: string): string[] => native.NODE_BUILD_FILES.map((f) => readFileSync(join(root, f), 'utf8'));

  it('saves it before the rebuild and puts it back after', () => {
    const root = fakeRepo('node-abi');
    expect(native.saveNodeBuild(root)).toEqual([...native.NODE_BUILD_FILES]);
    for (const file of native.NODE_BUILD_FILES) writeFileSync(join(root, file), 'electron-abi');
    expect(native.restoreNodeBuild(root)).toEqual([...native.NODE_BUILD_FILES]);
    expect(read(root)).toEqual(native.NODE_BUILD_FILES.map(() => 'node-abi'));
    expect(existsSync(join(root, native.NODE_BUILD_BACKUP))).toBe(false);
    expect(native.restoreNodeBuild(root)).toEqual([]);
  });

  it('after a run killed before it restored, restores first instead of saving the Electron build', () => {
    const root = fakeRepo('node-abi');
    native.saveNodeBuild(root);
    for (const file of native.NODE_BUILD_FILES) writeFileSync(join(root, file), 'electron-abi');
    // Killed here: the next run starts with the backup still there.
    native.saveNodeBuild(root);
    expect(read(root)).toEqual(native.NODE_BUILD_FILES.map(() => 'node-abi'));
    native.restoreNodeBuild(root);
    expect(read(root)).toEqual(native.NODE_BUILD_FILES.map(() => 'node-abi'));
  });
});
