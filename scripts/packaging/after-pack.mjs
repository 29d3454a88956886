// @ts-check
// electron-builder `afterPack` hook (electron-builder.yml): flips the Electron fuses of the packed
// app with @electron/fuses, then reads them back and fails the build if any is not as asked.
// afterPack runs after the app is copied into the Electron binary's folder and before signing,
// which is where fuses must be flipped (a signature covers the binary; flipping after would break
// it). Tested without Electron on a synthetic binary carrying a fuse wire (after-pack.test.ts).
import { join } from 'node:path';
import fusesModule from '@electron/fuses';
import { REBUILT_ENV } from './native.mjs';

const { FuseV1Options, FuseVersion, flipFuses, getCurrentFuseWire } = fusesModule;

/** A fuse's state in the wire: ASCII '0' / '1' ('r' = removed by this Electron version). */
export const FUSE_OFF = 0x30;
export const FUSE_ON = 0x31;
export const FUSE_REMOVED = 0x72;

/**
 * The fuses this app sets, and why (docs/packaging.md). Fuses not named here keep Electron's
 * default: LoadBrowserProcessSpecificV8Snapshot (off), GrantFileProtocolExtraPrivileges (on: the
 * packaged dashboard is a file:// page whose Vite bundle is a module script, which needs the
 * file: scheme's extra privileges), and any fuse newer than @electron/fuses.
 * @type {Readonly<Record<'RunAsNode' | 'EnableCookieEncryption' | 'EnableNodeOptionsEnvironmentVariable' | 'EnableNodeCliInspectArguments' | 'EnableEmbeddedAsarIntegrityValidation' | 'OnlyLoadAppFromAsar', boolean>>}
 */
export const APP_FUSES = Object.freeze({
  // `--headless` runs the daemon in Electron's main process and the workers are worker_threads:
  // nothing needs the binary to act as plain Node, so ELECTRON_RUN_AS_NODE=1 must not make it one.
  RunAsNode: false,
  // Cookies (and the session's other Chromium stores) encrypted at rest with the OS keystore.
  EnableCookieEncryption: true,
  // NODE_OPTIONS (--require, --inspect, ...) cannot inject code into the app.
  EnableNodeOptionsEnvironmentVariable: false,
  // --inspect / --inspect-brk on the command line cannot open a debugger on the main process.
  EnableNodeCliInspectArguments: false,
  // app.asar is checked against the hash electron-builder embeds (Info.plist on macOS, a resource
  // of the .exe on Windows; Electron has no such check on Linux).
  EnableEmbeddedAsarIntegrityValidation: true,
  // Only resources/app.asar is loaded: no resources/app folder or default_app can replace it.
  OnlyLoadAppFromAsar: true,
});

/**
 * The @electron/fuses config for a target. The ad-hoc signature is reset on Apple silicon builds
 * (arm64, universal): flipping fuses invalidates the binary's ad-hoc signature and arm64 macOS
 * refuses to run unsigned code; a real signature (when an identity is configured) comes after.
 * @param {{ platform: string; arch: string }} target electron platform name, electron-builder arch name
 */
export function fuseConfigFor(target) {
  const darwin = target.platform === 'darwin' || target.platform === 'mas';
  /** @type {import('@electron/fuses').FuseV1Config} */
  const config = {
    version: FuseVersion.V1,
    resetAdHocDarwinSignature: darwin && (target.arch === 'arm64' || target.arch === 'universal'),
  };
  for (const [name, value] of Object.entries(APP_FUSES)) {
    config[FuseV1Options[/** @type {keyof typeof FuseV1Options} */ (name)]] = value;
  }
  return config;
}

/** @param {number | string | undefined} state */
function describeState(state) {
  if (state === FUSE_ON) return 'on';
  if (state === FUSE_OFF) return 'off';
  if (state === FUSE_REMOVED) return 'removed';
  return state === undefined ? 'absent (fuse wire too short)' : `unknown (${String(state)})`;
}

/**
 * Every fuse of APP_FUSES whose state in `wire` (getCurrentFuseWire's result) differs from the
 * one asked for, as sentences; empty when all match.
 * @param {Record<string, unknown>} wire
 * @returns {string[]}
 */
export function fuseMismatches(wire) {
  const wrong = [];
  if (wire['version'] !== FuseVersion.V1)
    wrong.push(`fuse wire version ${String(wire['version'])}, expected ${FuseVersion.V1}`);
  for (const [name, on] of Object.entries(APP_FUSES)) {
    const index = FuseV1Options[/** @type {keyof typeof FuseV1Options} */ (name)];
    const state = /** @type {number | undefined} */ (wire[String(index)]);
    if (state !== (on ? FUSE_ON : FUSE_OFF))
      wrong.push(`${name}: expected ${on ? 'on' : 'off'}, found ${describeState(state)}`);
  }
  return wrong;
}

/**
 * Flips the app's fuses in the Electron binary at `binaryPath` (the executable on Linux and
 * Windows, the .app bundle on macOS) and reads them back; throws if any is not as asked.
 * @param {string} binaryPath
 * @param {{ platform: string; arch: string }} target
 * @returns {Promise<Record<string, string>>} each app fuse's state as read back
 */
export async function applyAppFuses(binaryPath, target) {
  await flipFuses(binaryPath, fuseConfigFor(target));
  const wire = /** @type {Record<string, unknown>} */ (await getCurrentFuseWire(binaryPath));
  const wrong = fuseMismatches(wire);
  if (wrong.length > 0) {
    throw new Error(`Electron fuses of ${binaryPath} are not as configured after flipping: ${wrong.join('; ')}`);
  }
  /** @type {Record<string, string>} */
  const states = {};
  for (const name of Object.keys(APP_FUSES)) {
    states[name] = describeState(
      /** @type {number} */ (wire[String(FuseV1Options[/** @type {keyof typeof FuseV1Options} */ (name)])]),
    );
  }
  return states;
}

/** electron-builder's Arch enum (builder-util), by value. */
const ARCH_NAMES = ['ia32', 'x64', 'armv7l', 'arm64', 'universal'];

/**
 * Where the packed Electron binary is, as electron-builder's own `addElectronFuses` finds it: the
 * Linux executable is `executableName`, the others are named after the product.
 * @param {Pick<PackContext, 'appOutDir' | 'electronPlatformName' | 'packager'>} context
 */
export function electronBinaryPath(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  switch (electronPlatformName) {
    case 'darwin':
    case 'mas':
      return join(appOutDir, `${packager.appInfo.productFilename}.app`);
    case 'win32':
      return join(appOutDir, `${packager.appInfo.productFilename}.exe`);
    default:
      if (!packager.executableName) throw new Error('afterPack: the Linux packager has no executableName');
      return join(appOutDir, packager.executableName);
  }
}

/**
 * @typedef {{
 *   appOutDir: string;
 *   electronPlatformName: string;
 *   arch: number;
 *   packager: { executableName?: string; appInfo: { productFilename: string }; info?: { framework?: { version?: string } } };
 * }} PackContext electron-builder's AfterPackContext, the parts used here
 */

/**
 * Refuses to package native modules that `npm run dist` did not rebuild for this Electron,
 * platform and arch (electron-builder.yml turns electron-builder's own rebuild off): running
 * `electron-builder` directly would ship better-sqlite3 built for Node, which Electron cannot load.
 * @param {PackContext} context
 * @param {NodeJS.ProcessEnv} env
 */
export function assertNativeRebuilt(context, env = process.env) {
  const stamp = env[REBUILT_ENV];
  if (!stamp) {
    throw new Error(
      'native modules were not rebuilt for Electron: package with `npm run dist`, not electron-builder directly',
    );
  }
  const [version, platform, arch] = stamp.split(' ');
  const wanted = {
    version: context.packager.info?.framework?.version ?? version,
    platform: context.electronPlatformName === 'mas' ? 'darwin' : context.electronPlatformName,
    arch: ARCH_NAMES[context.arch] ?? String(context.arch),
  };
  if (version !== wanted.version || platform !== wanted.platform || arch !== wanted.arch) {
    throw new Error(
      `native modules were rebuilt for Electron ${stamp.replaceAll(' ', ' / ')}, but this package is Electron ${wanted.version} / ${wanted.platform} / ${wanted.arch}: one target per \`npm run dist\``,
    );
  }
}

/**
 * The hook: native modules checked, then the fuses flipped and read back.
 * @param {PackContext} context
 */
export default async function afterPack(context) {
  assertNativeRebuilt(context);
  const binaryPath = electronBinaryPath(context);
  const arch = ARCH_NAMES[context.arch] ?? String(context.arch);
  const states = await applyAppFuses(binaryPath, { platform: context.electronPlatformName, arch });
  console.log(
    `  • fuses set and read back  file=${binaryPath} ${Object.entries(states)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
}
