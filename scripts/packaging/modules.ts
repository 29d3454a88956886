/**
 * Typed loaders for the packaging scripts, for the tests. The scripts are plain .mjs because
 * electron-builder and `npm run dist` run them with Node, untranspiled; TypeScript does not check
 * .mjs here (no allowJs), so their shape is declared once, here.
 */
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(__dirname, '..', '..');

export interface Target {
  platform: string;
  arch: string;
}

export interface PackContext {
  appOutDir: string;
  electronPlatformName: string;
  arch: number;
  packager: {
    executableName?: string;
    appInfo: { productFilename: string };
    info?: { framework?: { version?: string } };
  };
}

export type AppFuseName =
  | 'RunAsNode'
  | 'EnableCookieEncryption'
  | 'EnableNodeOptionsEnvironmentVariable'
  | 'EnableNodeCliInspectArguments'
  | 'EnableEmbeddedAsarIntegrityValidation'
  | 'OnlyLoadAppFromAsar';

export interface AfterPackModule {
  FUSE_OFF: number;
  FUSE_ON: number;
  FUSE_REMOVED: number;
  APP_FUSES: Readonly<Record<AppFuseName, boolean>>;
  fuseConfigFor(target: Target): Record<string, unknown>;
  fuseMismatches(wire: Record<string, unknown>): string[];
  applyAppFuses(binaryPath: string, target: Target): Promise<Record<AppFuseName, string>>;
  electronBinaryPath(context: Pick<PackContext, 'appOutDir' | 'electronPlatformName' | 'packager'>): string;
  assertNativeRebuilt(context: PackContext, env?: NodeJS.ProcessEnv): void;
  default(context: PackContext): Promise<void>;
}

export interface NativeModule {
  NATIVE_MODULES: readonly string[];
  NODE_BUILD_FILES: readonly string[];
  NODE_BUILD_BACKUP: string;
  REBUILT_ENV: string;
  electronVersionOf(root: string): string;
  targetFromBuilderArgs(args: readonly string[], host?: Target): Target;
  rebuildOptions(
    root: string,
    electronVersion: string,
    target: Target,
  ): {
    buildPath: string;
    electronVersion: string;
    arch: string;
    platform: string;
    onlyModules: string[];
    force: boolean;
    mode: string;
  };
  saveNodeBuild(root: string): string[];
  restoreNodeBuild(root: string): string[];
  onnxRuntimeBinaries(root: string, target: Target): string[];
}

async function load<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(join(__dirname, file)).href)) as T;
}

export const loadAfterPack = (): Promise<AfterPackModule> => load<AfterPackModule>('after-pack.mjs');
export const loadNative = (): Promise<NativeModule> => load<NativeModule>('native.mjs');

/** Requires a module as electron-builder's own code resolves it (app-builder-lib's dependencies). */
export const requireFromBuilder = createRequire(
  createRequire(join(ROOT, 'package.json')).resolve('app-builder-lib/package.json'),
);
