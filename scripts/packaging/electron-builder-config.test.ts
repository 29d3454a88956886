import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import Ajv from 'ajv';
import type { Configuration } from 'electron-builder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json';
import { bundledModelDir } from '../../src/main/core/paths';
import { ROOT, loadAfterPack, requireFromBuilder } from './modules';

/*
 * electron-builder.yml cannot be exercised here (electron-builder downloads Electron), so it is
 * checked the ways that need no download: against electron-builder's own schema and validation,
 * for the targets the issue asks for, and with electron-builder's own file matchers against a
 * fresh `electron-vite build`: every file the app loads is packaged, native code is unpacked, the
 * app's JavaScript stays in the asar, and nothing shipped needs RunAsNode.
 */
type PlatformKey = 'linux' | 'win' | 'mac';
interface Stat {
  isDirectory(): boolean;
  moduleFullFilePath?: string;
}
type Filter = (file: string, stat: Stat) => boolean;
interface FileMatcher {
  patterns: string[];
  createFilter(): Filter;
}
interface FileMatcherModule {
  FileMatcher: new (from: string, to: string, macroExpander: (s: string) => string, patterns?: string[]) => FileMatcher;
  getMainFileMatchers(
    appDir: string,
    destination: string,
    macroExpander: (s: string) => string,
    platformOptions: object,
    platformPackager: object,
    outDir: string,
    isElectronCompile: boolean,
  ): FileMatcher[];
  getNodeModuleFileMatcher(
    appDir: string,
    destination: string,
    macroExpander: (s: string) => string,
    platformOptions: object,
    packager: object,
  ): FileMatcher;
  getFileMatchers(config: object, name: string, destination: string, options: object): FileMatcher[] | null;
}

const yaml = requireFromBuilder('js-yaml') as { load(text: string): unknown };
const config = yaml.load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Configuration &
  Record<string, unknown>;
const fm = requireFromBuilder('./out/fileMatcher') as FileMatcherModule;

const identity = (s: string): string => s;
const DEST = '/packaged/resources/app';
const OUT_DIR = join(ROOT, 'release', pkg.version);
const file: Stat = { isDirectory: () => false };
const platformOptions = (platform: PlatformKey): object => config[platform] ?? {};
const info = {
  projectDir: ROOT,
  buildResourcesDir: join(ROOT, 'build'),
  isPrepackedAppAsar: false,
  config,
  debugLogger: { isEnabled: false },
};

/** Whether electron-builder copies the app file `rel` (relative to the repository) for `platform`. */
function appFileIncluded(platform: PlatformKey, rel: string): boolean {
  const [main] = fm.getMainFileMatchers(ROOT, DEST, identity, platformOptions(platform), { info }, OUT_DIR, false);
  return main!.createFilter()(join(ROOT, rel), file);
}

/** Whether electron-builder copies `node_modules/<...>` file `rel` for `platform`. */
function moduleFileIncluded(platform: PlatformKey, rel: string): boolean {
  const moduleName = rel.split('/')[1]!.startsWith('@') ? rel.split('/').slice(1, 3).join('/') : rel.split('/')[1]!;
  const patterns = fm.getNodeModuleFileMatcher(ROOT, DEST, identity, platformOptions(platform), info).patterns;
  const matcher = new fm.FileMatcher(
    join(ROOT, 'node_modules', moduleName),
    join(DEST, 'node_modules', moduleName),
    identity,
    patterns,
  );
  return matcher.createFilter()(join(ROOT, rel), { isDirectory: () => false, moduleFullFilePath: rel });
}

/** Whether the file `rel` goes to app.asar.unpacked rather than into app.asar. */
function unpacked(platform: PlatformKey, rel: string): boolean {
  const matchers = fm.getFileMatchers(config, 'asarUnpack', DEST, {
    macroExpander: identity,
    customBuildOptions: platformOptions(platform),
    globalOutDir: OUT_DIR,
    defaultSrc: ROOT,
  });
  const stat: Stat = rel.startsWith('node_modules/') ? { isDirectory: () => false, moduleFullFilePath: rel } : file;
  return matchers?.[0]?.createFilter()(join(ROOT, rel), stat) ?? false;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
}

describe('electron-builder.yml is valid', () => {
  it("against electron-builder's JSON schema (app-builder-lib/scheme.json)", () => {
    const schema = JSON.parse(readFileSync(requireFromBuilder.resolve('./scheme.json'), 'utf8')) as object;
    // strict: false as electron-builder itself (the schema uses keywords ajv's strict mode rejects);
    // no type coercion, unlike electron-builder: a value must have its declared type.
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const valid = validate(config);
    expect(validate.errors ?? [], ajv.errorsText(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
  });

  it("and to electron-builder's own loading and validation", async () => {
    const { getConfig, validateConfiguration } = requireFromBuilder('./out/util/config/config') as {
      getConfig: (projectDir: string, configPath: string | null, fromOptions: null) => Promise<Configuration>;
      validateConfiguration: (config: Configuration, logger: object) => Promise<void>;
    };
    const { DebugLogger } = requireFromBuilder('builder-util') as { DebugLogger: new (enabled: boolean) => object };
    const loaded = await getConfig(ROOT, null, null);
    await expect(validateConfiguration(loaded, new DebugLogger(false))).resolves.toBeUndefined();
    expect(loaded.appId).toBe(config.appId);
  });

  it('names the app as package.json does', () => {
    expect(config.productName).toBe(pkg.productName);
    expect(config.appId).toMatch(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*){2,}$/);
    // Installer names come from package.json's name (no spaces), not the product name.
    expect(config.artifactName).toContain('${name}');
    expect(pkg.name).toMatch(/^[a-z0-9-]+$/);
  });
});

describe('targets', () => {
  const targetsOf = (platform: PlatformKey): { target: string; arch: string[] | undefined }[] => {
    const targets = (config[platform] as { target?: unknown } | undefined)?.target;
    return (Array.isArray(targets) ? targets : [targets]).map((t) =>
      typeof t === 'string'
        ? { target: t, arch: undefined }
        : { target: (t as { target: string }).target, arch: (t as { arch?: string[] }).arch },
    );
  };

  it('builds AppImage and deb, NSIS, and dmg', () => {
    expect(targetsOf('linux').map((t) => t.target)).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(targetsOf('win').map((t) => t.target)).toEqual(['nsis']);
    expect(targetsOf('mac').map((t) => t.target)).toEqual(['dmg']);
  });

  it('builds macOS for arm64 only: onnxruntime-node has no Intel macOS binary', () => {
    expect(targetsOf('mac')[0]!.arch).toEqual(['arm64']);
    expect(
      existsSync(join(ROOT, 'node_modules/onnxruntime-node/bin/napi-v6/darwin/arm64/onnxruntime_binding.node')),
    ).toBe(true);
    expect(existsSync(join(ROOT, 'node_modules/onnxruntime-node/bin/napi-v6/darwin/x64'))).toBe(false);
  });

  it('has its icon: build/icon.png, 512x512, from build/icon.svg', () => {
    expect(config.icon).toBe('build/icon.png');
    expect(config.directories?.buildResources).toBe('build');
    const png = readFileSync(join(ROOT, 'build', 'icon.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
    expect(existsSync(join(ROOT, 'build', 'icon.svg'))).toBe(true);
  });

  it('rebuilds native modules in `npm run dist`, not in electron-builder, and sets fuses in afterPack', async () => {
    expect(config.npmRebuild).toBe(false);
    expect(pkg.scripts.dist).toMatch(/^electron-vite build && node scripts\/packaging\/dist\.mjs$/);
    expect(typeof config.afterPack).toBe('string');
    expect(existsSync(resolve(ROOT, config.afterPack as string))).toBe(true);
    expect(config.asar).toBe(true);
    // Fuses are set by the hook only (electron-builder's electronFuses would flip them a second time).
    expect(config.electronFuses).toBeUndefined();
    expect((await loadAfterPack()).APP_FUSES.OnlyLoadAppFromAsar).toBe(true);
  });
});

describe('the bundled model', () => {
  const extra = (config.extraResources as { from: string; to: string; filter: string[] }[])[0]!;

  it('is copied to <resources>/models/default, where the packaged app looks for it', () => {
    expect(bundledModelDir({ mainDir: '/unused', resourcesPath: '/app/resources' })).toBe(
      join('/app/resources', extra.to),
    );
    expect(resolve(ROOT, extra.from)).toBe(bundledModelDir({ mainDir: join(ROOT, 'out', 'main') }));
  });

  it('with model.json and the ONNX file it names, intact', () => {
    const dir = resolve(ROOT, extra.from);
    const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
      onnx: { file: string; sha256: string };
    };
    expect(extra.filter.sort()).toEqual(['model.json', manifest.onnx.file].sort());
    for (const name of extra.filter) expect(existsSync(join(dir, name))).toBe(true);
    expect(
      createHash('sha256')
        .update(readFileSync(join(dir, manifest.onnx.file)))
        .digest('hex'),
    ).toBe(manifest.onnx.sha256);
  });
});

describe('native modules', () => {
  const platforms: [PlatformKey, string][] = [
    ['linux', 'linux'],
    ['win', 'win32'],
    ['mac', 'darwin'],
  ];
  const ortBin = 'node_modules/onnxruntime-node/bin/napi-v6';

  it('better-sqlite3: its binding is packaged and unpacked, its sources are not packaged', () => {
    for (const [platform] of platforms) {
      const binding = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
      expect(moduleFileIncluded(platform, binding)).toBe(true);
      expect(unpacked(platform, binding)).toBe(true);
      expect(moduleFileIncluded(platform, 'node_modules/better-sqlite3/lib/index.js')).toBe(true);
      expect(unpacked(platform, 'node_modules/better-sqlite3/lib/index.js')).toBe(false);
      expect(moduleFileIncluded(platform, 'node_modules/better-sqlite3/deps/sqlite3/sqlite3.c')).toBe(false);
      expect(moduleFileIncluded(platform, 'node_modules/better-sqlite3/build/Release/test_extension.node')).toBe(false);
    }
  });

  it("onnxruntime-node: each platform gets its own binaries, unpacked with the libraries beside them, and no other platform's", () => {
    const all = filesUnder(join(ROOT, ortBin)).map((f) => `${ortBin}/${f.replaceAll('\\', '/')}`);
    expect(all.length).toBeGreaterThan(10);
    for (const [platform, os] of platforms) {
      const own = all.filter((f) => f.startsWith(`${ortBin}/${os}/`));
      expect(own.some((f) => f.endsWith('onnxruntime_binding.node'))).toBe(true);
      expect(own.some((f) => /\.(so(\.\d+)*|dll|dylib)$/.test(f))).toBe(true);
      for (const f of all) expect([f, moduleFileIncluded(platform, f)]).toEqual([f, own.includes(f)]);
      for (const f of own) expect([f, unpacked(platform, f)]).toEqual([f, true]);
    }
  });

  it('CUDA provider libraries, when installed (--onnxruntime-node-install=cuda12), go with them', () => {
    for (const lib of ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so']) {
      expect(moduleFileIncluded('linux', `${ortBin}/linux/x64/${lib}`)).toBe(true);
      expect(unpacked('linux', `${ortBin}/linux/x64/${lib}`)).toBe(true);
    }
  });
});

describe('the packaged app, from a fresh electron-vite build', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tftmp-dist-config-'));
  const out = join(tmp, 'out');
  /** The files Electron's main process loads: index.js and everything it requires or starts as a worker. */
  let closure: string[] = [];
  const bareImports = new Set<string>();

  beforeAll(() => {
    const cli = join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
    const built = spawnSync(process.execPath, [cli, 'build', '--outDir', out, '--logLevel', 'error'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(built.status, built.stderr).toBe(0);
    const seen = new Set<string>();
    const queue = [join(out, 'main', 'index.js')];
    while (queue.length > 0) {
      const current = queue.pop()!;
      if (seen.has(current)) continue;
      seen.add(current);
      const code = readFileSync(current, 'utf8');
      for (const [, spec] of code.matchAll(/(?:require|import)\(\s*"([^"]+)"\s*\)/g)) {
        if (spec!.startsWith('.')) queue.push(resolve(dirname(current), spec!));
        else bareImports.add(spec!);
      }
      // Worker threads: electron-vite's ?nodeWorker starts them with new Worker(new URL("./chunk.js", ...)).
      for (const [, spec] of code.matchAll(/new URL\(\s*"(\.[^"]+)"/g)) queue.push(resolve(dirname(current), spec!));
    }
    closure = [...seen].map((f) => `out/${relative(out, f).replaceAll('\\', '/')}`);
  }, 180_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('packages package.json, its main and everything main loads, the workers included, inside app.asar', () => {
    expect(pkg.main.replace(/^\.\//, '')).toBe('out/main/index.js');
    expect(closure).toContain('out/main/index.js');
    expect(closure.filter((f) => /worker-entry/.test(f)).length).toBeGreaterThanOrEqual(2);
    for (const platform of ['linux', 'win', 'mac'] as const) {
      expect(appFileIncluded(platform, 'package.json')).toBe(true);
      for (const f of closure) {
        expect([f, appFileIncluded(platform, f)]).toEqual([f, true]);
        expect([f, unpacked(platform, f)]).toEqual([f, false]);
      }
    }
  });

  it('packages the preload and the dashboard, but not source maps or the repository tools in out/', () => {
    const built = filesUnder(out).map((f) => `out/${f.replaceAll('\\', '/')}`);
    const expected = built.filter((f) => /^out\/(main|preload|renderer)\//.test(f) && !f.endsWith('.map'));
    expect(expected).toEqual(expect.arrayContaining(['out/preload/index.js', 'out/renderer/index.html']));
    for (const f of expected) expect([f, appFileIncluded('linux', f)]).toEqual([f, true]);
    for (const f of [
      'out/gpu/gpu-check.cjs',
      'out/soak/soak.cjs',
      'out/main/index.js.map',
      'src/main/desktop/main.ts',
      'resources/models/default/model.onnx',
    ]) {
      expect([f, appFileIncluded('linux', f)]).toEqual([f, false]);
    }
  });

  it('needs only production dependencies, which electron-builder packages', () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const packages = [...bareImports]
      .filter((spec) => !builtins.has(spec) && !spec.startsWith('node:'))
      .map((spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!));
    expect(packages.length).toBeGreaterThan(5);
    for (const name of new Set(packages)) {
      if (name === 'electron') continue; // the runtime itself
      expect([name, name in pkg.dependencies]).toEqual([name, true]);
    }
  });

  it('never needs RunAsNode: no child process of the app binary, workers are worker_threads', () => {
    for (const f of closure) {
      const code = readFileSync(join(tmp, f), 'utf8');
      expect([f, /ELECTRON_RUN_AS_NODE|child_process|utilityProcess|process\.execPath/.exec(code)?.[0]]).toEqual([
        f,
        undefined,
      ]);
    }
    const starts =
      closure
        .map((f) => readFileSync(join(tmp, f), 'utf8'))
        .join('\n')
        .match(/new \w+\.Worker\(new URL\(/g) ?? [];
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(bareImports.has('node:worker_threads')).toBe(true);
  });

  it('and the sources the app is built from do not mention ELECTRON_RUN_AS_NODE', () => {
    const sources = ['src/main', 'src/preload']
      .flatMap((dir) => filesUnder(join(ROOT, dir)).map((f) => join(dir, f)))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('testing'));
    expect(sources.length).toBeGreaterThan(20);
    for (const f of sources)
      expect([f, readFileSync(join(ROOT, f), 'utf8').includes('ELECTRON_RUN_AS_NODE')]).toEqual([f, false]);
  });
});
