import { describe, expect, it } from 'vitest';
import { createInferenceSession } from '../infer';
import { createMemoryLogger } from '../../util/logger';
import { BATCH_DIM, ONNX_IR_VERSION, ONNX_OPSET, OnnxBuildError, OnnxGraphBuilder, attr, decodeModel } from './graph-builder';

function tinyModel(): OnnxGraphBuilder {
  const g = new OnnxGraphBuilder('tiny');
  const x = g.input({ name: 'x', dtype: 'float32', shape: [-1, 3], doc: '(B, 3) scaled metrics' });
  const w = g.initializer('scale', new Float32Array([1, 2, 3]), [3]);
  const [y] = g.node('Mul', [x, w]);
  const [z] = g.node('Elu', [y!], { attributes: { alpha: attr.float(0.5) } });
  g.output(z!, { name: 'y', dtype: 'float32', shape: [-1, 3], doc: '(B, 3) the answer' });
  return g;
}

describe('OnnxGraphBuilder', () => {
  it('writes opset, IR version, producer, metadata and doc strings, with the batch symbolic', () => {
    const bytes = tinyModel().toBytes({ producerVersion: '0.1.0', docString: 'a test model', metadata: { contract: 'v1', quantiles: '0.1,0.5,0.9' } });
    const m = decodeModel(bytes);
    expect(Number(m.irVersion)).toBe(ONNX_IR_VERSION);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', ONNX_OPSET]]);
    expect(m.producerName).toBe('tft-monitoring-prediction');
    expect(m.docString).toBe('a test model');
    expect(m.metadataProps.map((p) => [p.key, p.value])).toEqual([['contract', 'v1'], ['quantiles', '0.1,0.5,0.9']]);
    const input = m.graph!.input![0]!;
    expect(input.docString).toBe('(B, 3) scaled metrics');
    expect(input.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual([BATCH_DIM, 3]);
    expect(m.graph!.output![0]!.docString).toBe('(B, 3) the answer');
    const elu = m.graph!.node!.find((n) => n.opType === 'Elu')!;
    expect(elu.attribute![0]!.f).toBeCloseTo(0.5);
  });

  it('stores initializers as little-endian raw data, copied', () => {
    const g = new OnnxGraphBuilder();
    const data = new Float32Array([1.5, -2, 3]);
    g.initializer('w', data, [3], { exactName: true });
    data[0] = 99; // must not change what was recorded
    g.output('w', { name: 'y', dtype: 'float32', shape: [3] });
    const t = decodeModel(g.toBytes()).graph!.initializer![0]!;
    expect(t.name).toBe('w');
    const raw = t.rawData!;
    expect(Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)))).toEqual([1.5, -2, 3]);
  });

  it('makes names unique, and refuses to reuse a declared name', () => {
    const g = new OnnxGraphBuilder();
    expect([g.uniqueName('h'), g.uniqueName('h'), g.uniqueName('h')]).toEqual(['h', 'h_1', 'h_2']);
    g.input({ name: 'x', dtype: 'float32', shape: [-1, 2] });
    const [a] = g.node('Relu', ['x']);
    const [b] = g.node('Relu', ['x']);
    expect(a).not.toBe(b);
    expect(() => g.input({ name: 'x', dtype: 'float32', shape: [-1, 2] })).toThrow(OnnxBuildError);
    expect(() => g.initializer('x', new Float32Array(2), [2], { exactName: true })).toThrow(/already used/);
    expect(g.initializer('x', new Float32Array(2), [2])).toBe('x_1');
    const nodeNames = decodeModel((g.output(a!, { name: 'y', dtype: 'float32', shape: [-1, 2] }), g.toBytes())).graph!.node!.map((n) => n.name);
    expect(new Set(nodeNames).size).toBe(nodeNames.length);
  });

  it('refuses malformed declarations', () => {
    const g = new OnnxGraphBuilder();
    expect(() => g.initializer('w', new Float32Array(5), [2, 3])).toThrow(/do not fill/);
    expect(() => g.input({ name: 'x', dtype: 'float32', shape: [-1, 0] })).toThrow(/positive/);
    expect(() => g.toBytes()).toThrow(/at least one output/);
  });

  it('produces a model onnxruntime loads and runs, with int attributes kept as ints', async () => {
    const g = new OnnxGraphBuilder();
    const x = g.input({ name: 'x', dtype: 'float32', shape: [-1, 2, 3] });
    const [s] = g.node('Softmax', [x], { attributes: { axis: attr.int(1) } });
    g.output(s!, { name: 'y', dtype: 'float32', shape: [-1, 2, 3] });
    const session = await createInferenceSession({
      modelBytes: g.toBytes(),
      expectedInputs: [{ name: 'x', dtype: 'float32', shape: [-1, 2, 3] }],
      expectedOutputs: [{ name: 'y', dtype: 'float32', shape: [-1, 2, 3] }],
      provider: 'cpu',
      logger: createMemoryLogger(),
    });
    const y = (await session.run({ x: new Float32Array([0, 0, 0, 1, 1, 1]) }, 1)).y!;
    await session.close();
    expect(Array.from(y.data as Float32Array).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([0.2689, 0.2689, 0.2689, 0.7311, 0.7311, 0.7311]);
  });
});
