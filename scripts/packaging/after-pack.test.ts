import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, loadAfterPack, loadNative, requireFromBuilder, type AfterPackModule, type PackContext } from './modules';

/*
 * The afterPack hook on a synthetic Electron binary. No Electron binary can be downloaded here,
 * but the fuse wire is a documented byte layout (electron/build/fuses/build.py, read by
 * @electron/fuses): the sentinel string, a version byte (1), a length byte, then one ASCII byte
 * per fuse ('0' off, '1' on, 'r' removed). A file holding that layout between other bytes is what
 * @electron/fuses searches a real binary for, so the hook's real code runs on it: flip, write,
 * read back, fail on a mismatch.
 */
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
// Electron's defaults, in wire order: RunAsNode 1, CookieEncryption 0, NodeOptions 1,
// NodeCliInspect 1, AsarIntegrity 0, OnlyLoadAppFromAsar 0, V8Snapshot 0, FileProtocolExtra 1,
// plus a ninth fuse newer than @electron/fuses (must be left as it is).
const ELECTRON_DEFAULT_WIRE = '101100011';
const EXPECTED_WIRE = '010011011';
const HEAD = Buffer.concat([Buffer.from('\x7fELF', 'latin1'), Buffer.alloc(8192, 0xcc)]);
const TAIL = Buffer.alloc(4096, 0x5a);

function wireBlock(wire: string, version = 1): Buffer {
  return Buffer.concat([
    Buffer.from(SENTINEL, 'latin1'),
    Buffer.from([version, wire.length]),
    Buffer.from(wire, 'latin1'),
  ]);
}

function syntheticElectron(wire: string, options: { version?: number; slices?: number } = {}): Buffer {
  const parts: Buffer[] = [HEAD];
  for (let i = 0; i < (options.slices ?? 1); i++) parts.push(wireBlock(wire, options.version), TAIL);
  return Buffer.concat(parts);
}

/** Every wire in `file`, as strings of its fuse bytes. */
function wiresIn(file: Buffer): string[] {
  const wires: string[] = [];
  let at = file.indexOf(SENTINEL, 0, 'latin1');
  while (at !== -1) {
    const start = at + SENTINEL.length;
    const length = file[start + 1]!;
    wires.push(file.subarray(start + 2, start + 2 + length).toString('latin1'));
    at = file.indexOf(SENTINEL, start, 'latin1');
  }
  return wires;
}

const ARCH = { x64: 1, arm64: 3 } as const;
const PRODUCT = 'TFT Monitoring Prediction';
const EXECUTABLE = 'tft-monitoring-prediction';

let hooks: AfterPackModule;
let rebuiltEnv: string;
const tmp = mkdtempSync(join(tmpdir(), 'tftmp-after-pack-'));
const savedEnv = { ...process.env };

beforeAll(async () => {
  hooks = await loadAfterPack();
  rebuiltEnv = (await loadNative()).REBUILT_ENV;
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  process.env = savedEnv;
});

function context(platform: string, arch: number, dir: string): PackContext {
  return {
    appOutDir: dir,
    electronPlatformName: platform,
    arch,
    packager: {
      executableName: EXECUTABLE,
      appInfo: { productFilename: PRODUCT },
      info: { framework: { version: '45.5.0' } },
    },
  };
}

/** Writes `bytes` where the packed binary of `platform` lives in a fresh appOutDir. */
function packedApp(platform: string, bytes: Buffer): { dir: string; binary: string } {
  const dir = mkdtempSync(join(tmp, `${platform}-`));
  const binary =
    platform === 'darwin'
      ? join(dir, `${PRODUCT}.app`, 'Contents', 'Frameworks', 'Electron Framework.framework', 'Electron Framework')
      : join(dir, platform === 'win32' ? `${PRODUCT}.exe` : EXECUTABLE);
  mkdirSync(dirname(binary), { recursive: true });
  writeFileSync(binary, bytes);
  return { dir, binary };
}

describe('afterPack hook, loaded as electron-builder loads it', () => {
  async function builderHook(): Promise<(context: PackContext) => Promise<void>> {
    const config = (requireFromBuilder('js-yaml') as { load(text: string): unknown }).load(
      readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8'),
    ) as { afterPack: string };
    const { resolveFunction } = requireFromBuilder('./out/util/resolve') as {
      resolveFunction: (type: string, executor: string, name: string, root: string) => Promise<unknown>;
    };
    const hook = await resolveFunction('commonjs', resolve(ROOT, config.afterPack), 'afterPack', ROOT);
    expect(typeof hook).toBe('function');
    return hook as (context: PackContext) => Promise<void>;
  }

  it.each([
    ['linux', ARCH.x64],
    ['win32', ARCH.x64],
    ['darwin', ARCH.x64],
  ])('sets the fuses of a %s binary and leaves every other byte alone', async (platform, arch) => {
    const original = syntheticElectron(ELECTRON_DEFAULT_WIRE);
    const { dir, binary } = packedApp(platform, original);
    process.env[rebuiltEnv] = `45.5.0 ${platform} x64`;
    await (
      await builderHook()
    )(context(platform, arch, dir));
    const flipped = readFileSync(binary);
    expect(wiresIn(flipped)).toEqual([EXPECTED_WIRE]);
    expect(flipped.length).toBe(original.length);
    const changed = [...flipped].flatMap((byte, i) => (byte === original[i] ? [] : [i]));
    const wireStart = HEAD.length + SENTINEL.length + 2;
    // RunAsNode, CookieEncryption, NodeOptions, NodeCliInspect, AsarIntegrity, OnlyLoadAppFromAsar.
    expect(changed).toEqual([0, 1, 2, 3, 4, 5].map((i) => wireStart + i));
  });

  it('flips both slices of a universal macOS binary', async () => {
    const { dir, binary } = packedApp('darwin', syntheticElectron(ELECTRON_DEFAULT_WIRE, { slices: 2 }));
    const states = await hooks.applyAppFuses(join(dir, `${PRODUCT}.app`), { platform: 'darwin', arch: 'x64' });
    expect(wiresIn(readFileSync(binary))).toEqual([EXPECTED_WIRE, EXPECTED_WIRE]);
    expect(states).toEqual({
      RunAsNode: 'off',
      EnableCookieEncryption: 'on',
      EnableNodeOptionsEnvironmentVariable: 'off',
      EnableNodeCliInspectArguments: 'off',
      EnableEmbeddedAsarIntegrityValidation: 'on',
      OnlyLoadAppFromAsar: 'on',
    });
  });

  it('is idempotent: fuses already set stay set', async () => {
    const { dir, binary } = packedApp('linux', syntheticElectron(EXPECTED_WIRE));
    await hooks.applyAppFuses(join(dir, EXECUTABLE), { platform: 'linux', arch: 'x64' });
    expect(wiresIn(readFileSync(binary))).toEqual([EXPECTED_WIRE]);
  });

  it('fails the build when the binary has no fuse wire, a wire too short, or another wire version', async () => {
    process.env[rebuiltEnv] = '45.5.0 linux x64';
    const hook = await builderHook();
    const cases: [Buffer, RegExp][] = [
      [Buffer.concat([HEAD, TAIL]), /Could not find sentinel/],
      [syntheticElectron('1011'), /not long enough/],
      [syntheticElectron(ELECTRON_DEFAULT_WIRE, { version: 2 }), /does not match/],
    ];
    for (const [bytes, error] of cases) {
      const { dir } = packedApp('linux', bytes);
      await expect(hook(context('linux', ARCH.x64, dir))).rejects.toThrow(error);
    }
  });

  it('fails the build when native modules were not rebuilt for this target by `npm run dist`', async () => {
    const { dir, binary } = packedApp('linux', syntheticElectron(ELECTRON_DEFAULT_WIRE));
    const hook = await builderHook();
    delete process.env[rebuiltEnv];
    await expect(hook(context('linux', ARCH.x64, dir))).rejects.toThrow(/npm run dist/);
    process.env[rebuiltEnv] = '45.5.0 linux arm64';
    await expect(hook(context('linux', ARCH.x64, dir))).rejects.toThrow(/linux \/ arm64.*linux \/ x64/);
    process.env[rebuiltEnv] = '44.0.0 linux x64';
    await expect(hook(context('linux', ARCH.x64, dir))).rejects.toThrow(/Electron 44\.0\.0/);
    // Refused before touching the binary.
    expect(wiresIn(readFileSync(binary))).toEqual([ELECTRON_DEFAULT_WIRE]);
  });
});

describe('fuse settings', () => {
  it('turns RunAsNode, NODE_OPTIONS and --inspect off; cookie encryption, asar integrity and asar-only on', () => {
    expect(hooks.APP_FUSES).toEqual({
      RunAsNode: false,
      EnableCookieEncryption: true,
      EnableNodeOptionsEnvironmentVariable: false,
      EnableNodeCliInspectArguments: false,
      EnableEmbeddedAsarIntegrityValidation: true,
      OnlyLoadAppFromAsar: true,
    });
  });

  it('resets the ad-hoc signature on Apple silicon builds only', () => {
    const reset = (platform: string, arch: string): unknown =>
      hooks.fuseConfigFor({ platform, arch })['resetAdHocDarwinSignature'];
    expect(reset('darwin', 'arm64')).toBe(true);
    expect(reset('darwin', 'universal')).toBe(true);
    expect(reset('mas', 'arm64')).toBe(true);
    expect(reset('darwin', 'x64')).toBe(false);
    expect(reset('linux', 'arm64')).toBe(false);
    expect(reset('win32', 'arm64')).toBe(false);
  });

  it('reports every fuse that reads back wrong', () => {
    const wire = {
      version: '1',
      0: hooks.FUSE_ON,
      1: hooks.FUSE_ON,
      2: hooks.FUSE_OFF,
      3: hooks.FUSE_OFF,
      4: hooks.FUSE_REMOVED,
    };
    expect(hooks.fuseMismatches(wire)).toEqual([
      'RunAsNode: expected off, found on',
      'EnableEmbeddedAsarIntegrityValidation: expected on, found removed',
      'OnlyLoadAppFromAsar: expected on, found absent (fuse wire too short)',
    ]);
  });

  it('finds the binary where electron-builder puts it', () => {
    const packager = { executableName: EXECUTABLE, appInfo: { productFilename: PRODUCT } };
    expect(hooks.electronBinaryPath({ appOutDir: '/o', electronPlatformName: 'linux', packager })).toBe(
      join('/o', EXECUTABLE),
    );
    expect(hooks.electronBinaryPath({ appOutDir: '/o', electronPlatformName: 'win32', packager })).toBe(
      join('/o', `${PRODUCT}.exe`),
    );
    expect(hooks.electronBinaryPath({ appOutDir: '/o', electronPlatformName: 'darwin', packager })).toBe(
      join('/o', `${PRODUCT}.app`),
    );
  });
});
