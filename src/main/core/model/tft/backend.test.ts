import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { backendInUse, resolveWasmDir, selectBackend } from './backend';
import { tinyConfig } from './testing/fixtures';
import { syntheticBatch } from './testing/synthetic';
import { TftModel } from './tft-tfjs';

describe('backend selection', () => {
  it('falls through the native bindings (not installed here) to wasm and reports why', async () => {
    const info = await selectBackend();
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.tried.map((t) => t.name)).toEqual(['node-gpu', 'node']);
    expect(info.tried[0]!.reason).toMatch(/@tensorflow\/tfjs-node-gpu not loadable/);
    expect(info.wasmDir).toBe(resolveWasmDir());
    expect(backendInUse()?.name).toBe('wasm');
  });

  it('finds the wasm binaries from node_modules, or where TFT_WASM_DIR / wasmDir say', () => {
    const dir = resolveWasmDir();
    expect(existsSync(join(dir, 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
    expect(resolveWasmDir('/opt/app/wasm')).toBe('/opt/app/wasm/');
    process.env.TFT_WASM_DIR = '/from/env';
    try {
      expect(resolveWasmDir()).toBe('/from/env/');
    } finally {
      delete process.env.TFT_WASM_DIR;
    }
  });

  it('the model gives the same predictions on cpu and wasm', async () => {
    const c = tinyConfig();
    const batch = syntheticBatch(c, { count: 4, seed: 3 });
    await selectBackend({ prefer: ['wasm'] });
    const onWasm = new TftModel(c, { seed: 2 });
    const a = onWasm.predict(batch);
    const weights = onWasm.serialize();
    onWasm.dispose();
    const info = await selectBackend({ prefer: ['cpu'] });
    expect(info.name).toBe('cpu');
    const onCpu = new TftModel(c, { seed: 2 });
    onCpu.load(weights);
    const b = onCpu.predict(batch);
    for (let i = 0; i < a.risk.length; i++) expect(b.risk[i]).toBeCloseTo(a.risk[i]!, 4);
    for (let i = 0; i < a.quantiles.length; i++) expect(b.quantiles[i]).toBeCloseTo(a.quantiles[i]!, 4);
    onCpu.dispose();
  });

  it('throws with every reason when no candidate starts', async () => {
    await expect(selectBackend({ prefer: ['node'] })).rejects.toThrow(/no TF.js backend could start: node: @tensorflow\/tfjs-node not loadable/);
  });
});
