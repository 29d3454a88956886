// @ts-check
// The native modules of a packaged app, for scripts/packaging/dist.mjs (tested in native.test.ts).
//
// node_modules keeps better-sqlite3 built for Node: `npm run serve`, the CLI and the tests run on
// Node. A packaged app needs it built for Electron's ABI, so `npm run dist` saves the Node build,
// rebuilds with @electron/rebuild for the Electron version electron-builder will package, packages,
// and puts the Node build back, whatever happened in between.
//
// onnxruntime-node is a Node-API addon (bin/napi-v6/<platform>/<arch>/onnxruntime_binding.node
// plus its shared libraries, shipped prebuilt in the npm package): Node-API is ABI-stable across
// Node and Electron, and the package has no binding.gyp, so @electron/rebuild has nothing to
// rebuild there. It is still named, so a future source build is rebuilt too, and its prebuilt
// binaries for the target are checked.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const NATIVE_MODULES = Object.freeze(['better-sqlite3', 'onnxruntime-node']);

/** Files that hold the Node build of a native module, relative to the repository root. */
export const NODE_BUILD_FILES = Object.freeze(['node_modules/better-sqlite3/build/Release/better_sqlite3.node']);

/** Where the Node build waits while node_modules holds the Electron one. */
export const NODE_BUILD_BACKUP = 'node_modules/.cache/tftmp-dist/node-abi';

/** The environment variable dist.mjs sets for electron-builder once the rebuild is done. */
export const REBUILT_ENV = 'TFTMP_DIST_NATIVE';

/**
 * The Electron version electron-builder packages: the installed `electron` package's.
 * @param {string} root
 */
export function electronVersionOf(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8'));
  return /** @type {string} */ (pkg.version);
}

const PLATFORM_FLAGS = /** @type {const} */ ({
  '--linux': 'linux',
  '-l': 'linux',
  '--win': 'win32',
  '--windows': 'win32',
  '-w': 'win32',
  '--mac': 'darwin',
  '--macos': 'darwin',
  '-m': 'darwin',
  '-o': 'darwin',
});
const ARCH_FLAGS = ['--x64', '--arm64', '--ia32', '--armv7l', '--universal'];

/**
 * The one platform and arch this run builds, from electron-builder's command-line flags (the
 * host's when none; arm64 for macOS). Native modules are built for one target per run, so several platforms or
 * arches in one run are refused, as is `universal` (build x64 and arm64 apart).
 * @param {readonly string[]} args
 * @param {{ platform: string; arch: string }} host
 * @returns {{ platform: string; arch: string }}
 */
export function targetFromBuilderArgs(args, host = { platform: process.platform, arch: process.arch }) {
  const platforms = new Set();
  const arches = new Set();
  for (const arg of args) {
    const flag = arg.split('=')[0] ?? arg;
    if (flag in PLATFORM_FLAGS) platforms.add(PLATFORM_FLAGS[/** @type {keyof typeof PLATFORM_FLAGS} */ (flag)]);
    if (ARCH_FLAGS.includes(flag)) arches.add(flag.slice(2));
    if (flag === '--arch' || flag === '-a') throw new Error('pass the arch as --x64 or --arm64');
  }
  if (platforms.size > 1) {
    throw new Error(`one platform per run (native modules are built for one): got ${[...platforms].join(', ')}`);
  }
  if (arches.size > 1)
    throw new Error(`one arch per run (native modules are built for one): got ${[...arches].join(', ')}`);
  const platform = [...platforms][0] ?? host.platform;
  // macOS: arm64 (electron-builder.yml's dmg arch; onnxruntime-node ships no Intel macOS binary).
  // Elsewhere the host's (Node calls 32-bit ARM "arm", electron-builder "armv7l").
  const arch = [...arches][0] ?? (platform === 'darwin' ? 'arm64' : host.arch === 'arm' ? 'armv7l' : host.arch);
  if (arch === 'universal')
    throw new Error('universal macOS builds are not supported (no Intel macOS onnxruntime-node): build --arm64');
  return { platform, arch };
}

/**
 * @electron/rebuild's options for this repository and target. `platform` other than the host's
 * only works where a prebuilt binary exists for it (prebuild-install); a source build is for the
 * host, which is why docs/packaging.md builds each OS's installers on that OS.
 * @param {string} root
 * @param {string} electronVersion
 * @param {{ platform: string; arch: string }} target
 */
export function rebuildOptions(root, electronVersion, target) {
  return {
    buildPath: root,
    electronVersion,
    arch: target.arch,
    platform: /** @type {NodeJS.Platform} */ (target.platform),
    onlyModules: [...NATIVE_MODULES],
    // Always rebuild: node_modules holds the Node build, which @electron/rebuild's cache check
    // could take for current.
    force: true,
    mode: /** @type {'sequential'} */ ('sequential'),
  };
}

/**
 * Copies the Node build (NODE_BUILD_FILES) aside. A backup left by a run
 * that was killed before it could restore is the Node build (it is only written before the
 * rebuild): it is restored first, never overwritten with what node_modules holds now.
 * @param {string} root
 * @returns {string[]} the files saved
 */
export function saveNodeBuild(root) {
  const backup = join(root, NODE_BUILD_BACKUP);
  if (existsSync(backup)) restoreNodeBuild(root);
  mkdirSync(backup, { recursive: true });
  const saved = [];
  for (const file of NODE_BUILD_FILES) {
    const source = join(root, file);
    if (!existsSync(source)) continue;
    const copy = join(backup, file);
    mkdirSync(join(copy, '..'), { recursive: true });
    copyFileSync(source, copy);
    saved.push(file);
  }
  return saved;
}

/**
 * Puts the saved Node build back and removes the backup. No backup: nothing to do.
 * @param {string} root
 * @returns {string[]} the files restored
 */
export function restoreNodeBuild(root) {
  const backup = join(root, NODE_BUILD_BACKUP);
  if (!existsSync(backup)) return [];
  const restored = [];
  for (const file of NODE_BUILD_FILES) {
    const copy = join(backup, file);
    if (!existsSync(copy)) continue;
    mkdirSync(join(root, file, '..'), { recursive: true });
    copyFileSync(copy, join(root, file));
    restored.push(file);
  }
  rmSync(backup, { recursive: true, force: true });
  return restored;
}

/**
 * onnxruntime-node's prebuilt binaries for the target: the binding and the shared libraries next
 * to it (asarUnpack keeps them together). Throws when the package has none for the target.
 * @param {string} root
 * @param {{ platform: string; arch: string }} target
 * @returns {string[]} file names in bin/napi-v6/<platform>/<arch>
 */
export function onnxRuntimeBinaries(root, target) {
  const dir = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', target.platform, target.arch);
  const files = existsSync(dir) ? readdirSync(dir) : [];
  if (!files.includes('onnxruntime_binding.node')) {
    throw new Error(
      `onnxruntime-node has no prebuilt binding for ${target.platform}/${target.arch} (looked in ${dir})`,
    );
  }
  return files.sort();
}
