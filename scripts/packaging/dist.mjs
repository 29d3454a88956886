// @ts-check
// `npm run dist [-- electron-builder flags]`, after `electron-vite build`:
//   1. saves node_modules' Node build of better-sqlite3 (native.mjs);
//   2. rebuilds the native modules for the Electron version in node_modules with @electron/rebuild
//      (electron-builder.yml has npmRebuild: false, so electron-builder does not do it again);
//   3. checks onnxruntime-node's prebuilt binaries for the target;
//   4. runs electron-builder with the flags given (its afterPack hook sets the fuses);
//   5. puts the Node build back, also when a step failed or the run was interrupted.
// Needs internet (Electron headers or prebuilt binaries, the Electron binary, packaging tools).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  NATIVE_MODULES,
  REBUILT_ENV,
  electronVersionOf,
  onnxRuntimeBinaries,
  rebuildOptions,
  restoreNodeBuild,
  saveNodeBuild,
  targetFromBuilderArgs,
} from './native.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);

/** @param {string} message */
function log(message) {
  console.log(`[dist] ${message}`);
}

/**
 * Runs electron-builder's CLI; resolves with its exit code. Ctrl-C reaches it too (same process
 * group); this process waits for it so that the Node build is restored afterwards.
 * @param {string[]} builderArgs
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<number>}
 */
function runElectronBuilder(builderArgs, env) {
  const cli = require.resolve('electron-builder/cli.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...builderArgs], { cwd: root, stdio: 'inherit', env });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function main() {
  if (!existsSync(join(root, 'out', 'main', 'index.js'))) {
    throw new Error('out/main/index.js is missing: run `electron-vite build` first (`npm run dist` does)');
  }
  const target = targetFromBuilderArgs(args);
  const electronVersion = electronVersionOf(root);
  const saved = saveNodeBuild(root);
  log(`saved the Node build: ${saved.join(', ') || 'nothing to save'}`);
  // Interrupted: let the child stop, then restore (the finally below) before exiting.
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    log(`rebuilding ${NATIVE_MODULES.join(', ')} for Electron ${electronVersion} ${target.platform}/${target.arch}`);
    const { rebuild } = await import('@electron/rebuild');
    await rebuild(rebuildOptions(root, electronVersion, target));
    if (interrupted) return 130;
    log(`onnxruntime-node (Node-API, prebuilt): ${onnxRuntimeBinaries(root, target).join(', ')}`);
    const env = { ...process.env, [REBUILT_ENV]: `${electronVersion} ${target.platform} ${target.arch}` };
    return await runElectronBuilder(args, env);
  } finally {
    const restored = restoreNodeBuild(root);
    log(`restored the Node build: ${restored.join(', ') || 'nothing to restore'}`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`[dist] ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
