import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { denseParams, layerNormParams, type ParamSpec } from './params';
import { useBackend } from './testing/fixtures';
import { WeightStore } from './weight-store';

beforeAll(async () => {
  await useBackend('wasm');
});

const specs: ParamSpec[] = [...denseParams('layer', 20, 10), ...layerNormParams('norm', 10), { name: 'custom', shape: [3], init: { values: [1, 2, 3] } }];

describe('WeightStore', () => {
  it('initialises deterministically per (seed, name): glorot in range, zero biases, unit gammas', () => {
    const a = WeightStore.create(specs, 7);
    const b = WeightStore.create(specs, 7);
    const c = WeightStore.create(specs, 8);
    const w = a.get('layer.w').dataSync();
    expect(Array.from(b.get('layer.w').dataSync())).toEqual(Array.from(w));
    expect(Array.from(c.get('layer.w').dataSync())).not.toEqual(Array.from(w));
    const limit = Math.sqrt(6 / 30);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(limit * 0.8);
    expect(Array.from(a.get('layer.b').dataSync())).toEqual(new Array(10).fill(0));
    expect(Array.from(a.get('norm.gamma').dataSync())).toEqual(new Array(10).fill(1));
    expect(Array.from(a.get('custom').dataSync())).toEqual([1, 2, 3]);
    expect(a.paramCount()).toBe(20 * 10 + 10 + 20 + 3);
    // Order independence: the same weight in a different declaration order starts the same.
    const reversed = WeightStore.create([...specs].reverse(), 7);
    expect(Array.from(reversed.get('layer.w').dataSync())).toEqual(Array.from(w));
    [a, b, c, reversed].forEach((s) => s.dispose());
  });

  it('serialises and loads back exactly, and two stores with the same names coexist', () => {
    const a = WeightStore.create(specs, 1);
    const b = WeightStore.create(specs, 2);
    const saved = a.serialize();
    expect(saved['layer.w']!.shape).toEqual([20, 10]);
    expect(saved['layer.w']!.data).toBeInstanceOf(Float32Array);
    b.load(saved);
    for (const name of a.names()) expect(Array.from(b.get(name).dataSync())).toEqual(Array.from(a.get(name).dataSync()));
    a.dispose();
    b.dispose();
  });

  it('refuses a partial or mis-shaped load and assigns nothing', () => {
    const a = WeightStore.create(specs, 1);
    const before = Array.from(a.get('layer.w').dataSync());
    const good = a.serialize();
    const { ['norm.beta']: _missing, ...partial } = good;
    expect(() => a.load(partial)).toThrow(/missing norm.beta/);
    expect(() => a.load({ ...good, 'layer.b': { data: new Float32Array(3), shape: [3] } })).toThrow(/layer.b: shape \[3\], expected \[10\]/);
    expect(() => a.load({ ...good, extra: { data: new Float32Array(1), shape: [1] } })).toThrow(/unexpected extra/);
    expect(Array.from(a.get('layer.w').dataSync())).toEqual(before);
    a.dispose();
  });

  it('rejects duplicate names and unknown weights', () => {
    expect(() => WeightStore.create([...specs, ...denseParams('layer', 1, 1)], 1)).toThrow(/duplicate parameter name: layer.w/);
    const a = WeightStore.create(specs, 1);
    expect(() => a.get('nope')).toThrow(/unknown weight: nope/);
    a.dispose();
  });

  it('dispose releases every variable', () => {
    const before = tf.memory().numTensors;
    WeightStore.create(specs, 1).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
