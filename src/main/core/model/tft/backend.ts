import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/**
 * Picks the TF.js backend for training, fastest first:
 *   node-gpu  `@tensorflow/tfjs-node-gpu` (libtensorflow + CUDA), when the user installed it;
 *   node      `@tensorflow/tfjs-node` (libtensorflow, CPU), when the user installed it;
 *   wasm      `@tensorflow/tfjs-backend-wasm` (XNNPACK, ships with the app; the default here);
 *   cpu       plain JavaScript kernels (always there, ~3x slower than wasm).
 *
 * The two native packages download libtensorflow at install time, which this project cannot do
 * for its users, so they are never dependencies: they are `require`d at run time inside
 * try/catch, and their absence is a normal outcome, recorded in `tried`. They must resolve to the
 * same `@tensorflow/tfjs-core` copy as `@tensorflow/tfjs` (same version, deduplicated by npm),
 * or they register their backend with a different engine and we would not see it.
 *
 * Where the wasm binaries are found: Emscripten looks next to the JavaScript that loads them,
 * which breaks once a bundler moves that JavaScript (electron-vite's main bundle, a worker
 * chunk). So the folder is always set explicitly: `options.wasmDir`, else `TFT_WASM_DIR`, else
 * `@tensorflow/tfjs-backend-wasm/dist/` resolved through Node's module resolution from this file
 * (works from node_modules in dev and tests, and from a packaged app where node_modules sits
 * beside the bundle — inside app.asar is fine too, the files are read with fs). A bundle that
 * inlines tfjs-backend-wasm and ships without node_modules must copy `dist/*.wasm` and point
 * `TFT_WASM_DIR` (or `wasmDir`) at them.
 */
export type TfBackendName = 'node-gpu' | 'node' | 'wasm' | 'cpu';

export const BACKEND_ORDER: readonly TfBackendName[] = ['node-gpu', 'node', 'wasm', 'cpu'];

export interface BackendOptions {
  /** Candidates in order of preference; default BACKEND_ORDER. */
  prefer?: readonly TfBackendName[];
  /** Folder holding `tfjs-backend-wasm*.wasm`; default: see the file comment. */
  wasmDir?: string;
  /** XNNPACK threads on wasm (only where the runtime supports wasm threads; Node: 1). */
  wasmThreads?: number;
}

export interface BackendInfo {
  /** What is in use. */
  name: TfBackendName;
  /** TF.js's own name for it (`tensorflow`, `wasm`, `cpu`). */
  tfName: string;
  /** Candidates tried before it and why each was passed over. */
  tried: { name: TfBackendName; reason: string }[];
  /** The wasm folder, when wasm is in use. */
  wasmDir?: string;
}

let current: BackendInfo | undefined;
let wasmPathsSet = false;

/** The backend chosen by the last `selectBackend`, if any. */
export function backendInUse(): BackendInfo | undefined {
  return current && tf.getBackend() === current.tfName ? current : undefined;
}

/** The folder of the wasm binaries (see the file comment for the order). */
export function resolveWasmDir(explicit?: string): string {
  if (explicit) return withSlash(explicit);
  const fromEnv = process.env.TFT_WASM_DIR;
  if (fromEnv) return withSlash(fromEnv);
  const req = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
  return withSlash(join(dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
}

function withSlash(dir: string): string {
  return dir.endsWith('/') || dir.endsWith('\\') ? dir : `${dir}/`;
}

/** Loads an optional native binding; `undefined` when it is not installed or does not load. */
function tryRequire(name: string): { ok: true } | { ok: false; reason: string } {
  try {
    const req = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
    req(name);
    return { ok: true };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    return { ok: false, reason: `${name} not loadable: ${message}` };
  }
}

async function activate(name: TfBackendName, options: BackendOptions): Promise<{ tfName: string; wasmDir?: string }> {
  switch (name) {
    case 'node-gpu':
    case 'node': {
      const pkg = name === 'node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      const loaded = tryRequire(pkg);
      if (!loaded.ok) throw new Error(loaded.reason);
      // Both packages register the same TF.js backend name.
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not initialise`);
      return { tfName: 'tensorflow' };
    }
    case 'wasm': {
      const wasmDir = resolveWasmDir(options.wasmDir);
      // setWasmPaths throws once wasm has initialised; the first folder wins for the process.
      if (!wasmPathsSet) {
        setWasmPaths(wasmDir);
        if (options.wasmThreads !== undefined) setThreadsCount(options.wasmThreads);
        wasmPathsSet = true;
      }
      if (!(await tf.setBackend('wasm'))) throw new Error(`wasm backend did not initialise (binaries looked for in ${wasmDir})`);
      return { tfName: 'wasm', wasmDir };
    }
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not initialise');
      return { tfName: 'cpu' };
  }
}

/**
 * Activates the first candidate that works and reports it. Never throws while `cpu` is among the
 * candidates; otherwise throws with every candidate's reason.
 */
export async function selectBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const tried: BackendInfo['tried'] = [];
  for (const name of options.prefer ?? BACKEND_ORDER) {
    try {
      const { tfName, wasmDir } = await activate(name, options);
      await tf.ready();
      current = { name, tfName, tried, ...(wasmDir ? { wasmDir } : {}) };
      return current;
    } catch (error) {
      tried.push({ name, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  throw new Error(`no TF.js backend could start: ${tried.map((t) => `${t.name}: ${t.reason}`).join('; ')}`);
}
