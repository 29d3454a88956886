import { describe, expect, it } from 'vitest';
import type { Ops } from '../ops';
import { OnnxBuildError } from './graph-builder';
import { OnnxOps, type WeightTensor } from './onnx-ops';
import { checkGraph, fitsStatic, type GraphFn, type InputDecl } from './testing/check-graph';
import { rng, uniform } from './testing/random';

const TOLERANCE = 1e-5;
const B = -1;

interface Case {
  name: string;
  fn: GraphFn;
  inputs: InputDecl[];
  weights?: ReadonlyMap<string, WeightTensor>;
}

const f = (shape: readonly number[], lo?: number, hi?: number): InputDecl => ({ shape, ...(lo !== undefined ? { lo } : {}), ...(hi !== undefined ? { hi } : {}) });

function weights(entries: Record<string, number[]>, seed = 3): Map<string, WeightTensor> {
  const random = rng(seed);
  return new Map(Object.entries(entries).map(([name, shape]) => [name, { data: uniform(random, shape.reduce((a, d) => a * d, 1)), shape }]));
}

// One case per Ops method (several where broadcasting or axes vary), each a one- or few-op graph.
const cases: Case[] = [
  { name: 'weight', fn: (o, [x]) => o.add(x!, o.weight('w')), inputs: [f([B, 3, 4])], weights: weights({ w: [4] }) },
  { name: 'constant', fn: (o, [x]) => o.mul(x!, o.constant([1, -2, 0.5, 3], [4])), inputs: [f([B, 4])] },
  { name: 'add (B,T,H) + (H)', fn: <T,>(o: Ops<T>, [a, b]: readonly T[]) => o.add(a!, b!), inputs: [f([B, 3, 4]), f([4])] },
  { name: 'add (B,1,H) + (B,T,H)', fn: (o, [a, b]) => o.add(a!, b!), inputs: [f([B, 1, 4]), f([B, 3, 4])] },
  { name: 'sub (T,1) - (B,T,H)', fn: (o, [a, b]) => o.sub(a!, b!), inputs: [f([3, 1]), f([B, 3, 4])] },
  { name: 'mul (B,T,H) * (B,T,H)', fn: (o, [a, b]) => o.mul(a!, b!), inputs: [f([B, 3, 4]), f([B, 3, 4])] },
  { name: 'div (B,T,H) / (B,T,1)', fn: (o, [a, b]) => o.div(a!, b!), inputs: [f([B, 3, 4]), f([B, 3, 1], 0.5, 2)] },
  { name: 'sigmoid', fn: (o, [x]) => o.sigmoid(x!), inputs: [f([B, 5], -6, 6)] },
  { name: 'tanh', fn: (o, [x]) => o.tanh(x!), inputs: [f([B, 5], -4, 4)] },
  { name: 'relu', fn: (o, [x]) => o.relu(x!), inputs: [f([B, 5])] },
  { name: 'elu', fn: (o, [x]) => o.elu(x!), inputs: [f([B, 2, 5], -4, 4)] },
  { name: 'exp', fn: (o, [x]) => o.exp(x!), inputs: [f([B, 5])] },
  { name: 'matMul (B,T,K) x (K,N)', fn: (o, [a]) => o.matMul(a!, o.weight('w')), inputs: [f([B, 3, 6])], weights: weights({ w: [6, 5] }) },
  { name: 'matMul (B,K) x (K,N)', fn: (o, [a, b]) => o.matMul(a!, b!), inputs: [f([B, 6]), f([6, 2])] },
  { name: 'matMul batched (B,h,M,K) x (B,h,K,N)', fn: (o, [a, b]) => o.matMul(a!, b!), inputs: [f([B, 2, 3, 4]), f([B, 2, 4, 5])] },
  { name: 'matMul broadcast batch (B,h,M,K) x (B,1,K,N)', fn: (o, [a, b]) => o.matMul(a!, b!), inputs: [f([B, 2, 3, 4]), f([B, 1, 4, 5])] },
  { name: 'softmax last axis', fn: (o, [x]) => o.softmax(x!, 2), inputs: [f([B, 3, 5], -3, 3)] },
  { name: 'softmax middle axis', fn: (o, [x]) => o.softmax(x!, 1), inputs: [f([B, 3, 5], -3, 3)] },
  { name: 'softmax with a -1e9 mask', fn: (o, [x]) => o.softmax(o.add(x!, o.constant([0, 0, -1e9], [3])), 1), inputs: [f([B, 3])] },
  {
    name: 'layerNorm',
    fn: (o, [x]) => o.layerNorm(x!, o.weight('g'), o.weight('b'), 1e-3),
    inputs: [f([B, 3, 6], -3, 3)],
    weights: weights({ g: [6], b: [6] }),
  },
  { name: 'concat axis 1', fn: (o, [a, b]) => o.concat([a!, b!], 1), inputs: [f([B, 2, 3]), f([B, 4, 3])] },
  { name: 'concat last axis, three parts', fn: (o, [a, b, c]) => o.concat([a!, b!, c!], 2), inputs: [f([B, 2, 3]), f([B, 2, 1]), f([B, 2, 2])] },
  { name: 'slice middle of axis 1', fn: (o, [x]) => o.slice(x!, [0, 1, 0], [-1, 2, -1]), inputs: [f([B, 5, 3])] },
  { name: 'slice two axes, to the end', fn: (o, [x]) => o.slice(x!, [0, 2, 1], [-1, -1, 2]), inputs: [f([B, 5, 4])] },
  { name: 'slice of a static first axis', fn: (o, [x]) => o.add(x!, o.slice(o.weight('w'), [1, 0], [2, -1])), inputs: [f([B, 2, 3])], weights: weights({ w: [4, 3] }) },
  { name: 'reshape (B,T,H) -> (-1,H) -> (-1,T,H)', fn: (o, [x]) => o.reshape(o.mul(o.reshape(x!, [-1, 4]), o.constant([2], [1])), [-1, 3, 4]), inputs: [f([B, 3, 4])] },
  { name: 'reshape (B,T,H) -> (B,T,h,d)', fn: (o, [x]) => o.reshape(x!, [-1, 3, 2, 2]), inputs: [f([B, 3, 4])] },
  { name: 'reshape static', fn: (o, [x]) => o.add(x!, o.reshape(o.weight('w'), [3, -1])), inputs: [f([B, 3, 4])], weights: weights({ w: [2, 6] }) },
  { name: 'transpose (0,2,1)', fn: (o, [x]) => o.transpose(x!, [0, 2, 1]), inputs: [f([B, 3, 4])] },
  { name: 'transpose (0,2,1,3)', fn: (o, [x]) => o.transpose(x!, [0, 2, 1, 3]), inputs: [f([B, 3, 2, 4])] },
  { name: 'expandDims middle', fn: (o, [x]) => o.expandDims(x!, 1), inputs: [f([B, 3])] },
  { name: 'expandDims last', fn: (o, [x]) => o.expandDims(x!, 2), inputs: [f([B, 3])] },
  { name: 'stack axis 1', fn: (o, [a, b, c]) => o.stack([a!, b!, c!], 1), inputs: [f([B, 4]), f([B, 4]), f([B, 4])] },
  { name: 'stack last axis', fn: (o, [a, b]) => o.stack([a!, b!], 2), inputs: [f([B, 4]), f([B, 4])] },
  { name: 'sum keepDims', fn: (o, [x]) => o.sum(x!, 1, true), inputs: [f([B, 3, 4])] },
  { name: 'sum', fn: (o, [x]) => o.sum(x!, 2, false), inputs: [f([B, 3, 4])] },
  { name: 'mean keepDims', fn: (o, [x]) => o.mean(x!, 2, true), inputs: [f([B, 3, 4])] },
  { name: 'mean', fn: (o, [x]) => o.mean(x!, 1, false), inputs: [f([B, 3, 4])] },
  { name: 'gather int32 indices', fn: (o, [i]) => o.gather(o.weight('emb'), i!), inputs: [{ shape: [B], dtype: 'int32', max: 7 }], weights: weights({ emb: [7, 5] }) },
  { name: 'gather int64 indices', fn: (o, [i]) => o.gather(o.weight('emb'), i!), inputs: [{ shape: [B], dtype: 'int64', max: 7 }], weights: weights({ emb: [7, 5] }) },
  { name: 'gather (B,T) indices', fn: (o, [i]) => o.gather(o.weight('emb'), i!), inputs: [{ shape: [B, 3], dtype: 'int32', max: 7 }], weights: weights({ emb: [7, 5] }) },
];

describe('OnnxOps against the TypeScript reference (onnxruntime CPU)', () => {
  it.each(cases)('$name', async ({ fn, inputs, weights: w }) => {
    const r = await checkGraph(fn, inputs, { batch: 3, ...(w ? { weights: w } : {}) });
    expect(r.ortDims).toEqual(r.refDims);
    expect(fitsStatic(r.staticShape, r.ortDims), `static ${JSON.stringify(r.staticShape)} vs ${JSON.stringify(r.ortDims)}`).toBe(true);
    expect(r.maxAbsDiff).toBeLessThanOrEqual(TOLERANCE);
  });

  it('keeps the batch dynamic: one graph runs at batch 1 and 17', async () => {
    const fn: GraphFn = (o, [x]) => o.softmax(o.matMul(x!, o.weight('w')), 2);
    const w = weights({ w: [4, 3] });
    for (const batch of [1, 17]) {
      const r = await checkGraph(fn, [f([B, 2, 4])], { batch, weights: w });
      expect(r.ortDims).toEqual([batch, 2, 3]);
      expect(r.staticShape).toEqual([-1, 2, 3]);
      expect(r.maxAbsDiff).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('shape() reports static shapes with -1 for the batch', () => {
    const o = new OnnxOps(weights({ w: [4, 6] }));
    const x = o.input({ name: 'x', dtype: 'float32', shape: [-1, 3, 4] });
    expect(o.shape(x)).toEqual([-1, 3, 4]);
    const y = o.matMul(x, o.weight('w'));
    expect(o.shape(y)).toEqual([-1, 3, 6]);
    expect(o.shape(o.reshape(y, [-1, 6]))).toEqual([-1, 6]);
    expect(o.shape(o.transpose(y, [0, 2, 1]))).toEqual([-1, 6, 3]);
    expect(o.shape(o.slice(y, [0, 1, 2], [-1, 2, -1]))).toEqual([-1, 2, 4]);
    expect(o.shape(o.expandDims(y, 3))).toEqual([-1, 3, 6, 1]);
    expect(o.shape(o.stack([y, y], 1))).toEqual([-1, 2, 3, 6]);
    expect(o.shape(o.sum(y, 1, false))).toEqual([-1, 6]);
    expect(o.shape(o.mean(y, 2, true))).toEqual([-1, 3, 1]);
    expect(o.shape(o.concat([y, x], 2))).toEqual([-1, 3, 10]);
  });

  it('refuses ill-shaped operations when the graph is built, naming the shapes', () => {
    const o = new OnnxOps(weights({ w: [5, 6] }));
    const x = o.input({ name: 'x', dtype: 'float32', shape: [-1, 3, 4] });
    const idx = o.input({ name: 'i', dtype: 'int32', shape: [-1] });
    expect(() => o.matMul(x, o.weight('w'))).toThrow(/inner dimensions differ, \(B, 3, 4\) x \(5, 6\)/);
    expect(() => o.add(x, o.constant([1, 2, 3], [3]))).toThrow(OnnxBuildError);
    expect(() => o.add(x, o.input({ name: 'y', dtype: 'float32', shape: [5, 3, 4] }))).toThrow(/do not broadcast/);
    expect(() => o.reshape(x, [2, 6])).toThrow(/dynamic dimension/);
    expect(() => o.reshape(x, [-1, 0])).toThrow(/positive/);
    expect(() => o.slice(x, [0, 2, 0], [-1, 2, -1])).toThrow(/outside axis 1/);
    expect(() => o.slice(x, [1, 0, 0], [-1, -1, -1])).toThrow(/dynamic and can only be taken whole/);
    expect(() => o.transpose(x, [0, 1, 1])).toThrow(/not a permutation/);
    expect(() => o.softmax(x, 3)).toThrow(/axis 3/);
    expect(() => o.concat([x, o.input({ name: 'z', dtype: 'float32', shape: [-1, 2, 3] })], 1)).toThrow(/does not fit/);
    expect(() => o.gather(o.weight('w'), x)).toThrow(/int32 or int64/);
    expect(() => o.sigmoid(idx)).toThrow(/float32 expected/);
    expect(() => o.weight('missing')).toThrow(/weight "missing" is not among/);
  });

  it('adds each weight once however often it is asked for, and reports unused ones', () => {
    const o = new OnnxOps(weights({ a: [4], b: [4], unused: [2] }));
    const x = o.input({ name: 'x', dtype: 'float32', shape: [-1, 4] });
    o.output(o.add(o.add(x, o.weight('a')), o.add(o.weight('a'), o.weight('b'))), 'y');
    expect(o.builder.initializerCount).toBe(2);
    expect(o.unusedWeights()).toEqual(['unused']);
  });

  it('shares the int64 constants of slices and reshapes', () => {
    const o = new OnnxOps(new Map());
    const x = o.input({ name: 'x', dtype: 'float32', shape: [-1, 8, 4] });
    for (let t = 0; t < 8; t++) o.reshape(o.slice(x, [0, t, 0], [-1, 1, -1]), [-1, 4]);
    // One-element int64 tensors [0]..[8] serve as starts, ends and axes alike; plus the shape [-1, 4].
    expect(o.builder.initializerCount).toBe(9 + 1);
  });
});
