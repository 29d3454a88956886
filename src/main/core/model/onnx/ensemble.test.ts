import { describe, expect, it } from 'vitest';
import { createInferenceSession, type OutputTensor } from '../infer';
import { createMemoryLogger } from '../../util/logger';
import { mergeOnnxEnsemble } from './ensemble';
import { decodeModel, OnnxBuildError } from './graph-builder';
import { OnnxOps } from './onnx-ops';
import { toTensorSpecs } from './testing/check-graph';
import { DEFAULT_WORKLOAD, buildWorkloadModel, workloadInputs, workloadWeights, type BuiltWorkload, type WorkloadConfig } from './testing/workload-model';

/*
 * The ensemble graph run by onnxruntime against its members run one by one: every output is
 * the element-wise mean of the members' (float32 sums in another order: 1e-6).
 */

const CFG: WorkloadConfig = { ...DEFAULT_WORKLOAD, contextSteps: 12, horizonSteps: 4, observed: 6, hidden: 8, heads: 2, lstm: 'fused' };
const RANGES = { profile: [0, CFG.profiles - 1], server_bucket: [0, CFG.serverBuckets - 1] } as const;

async function run(model: Pick<BuiltWorkload, 'bytes' | 'inputs' | 'outputs'>, batch: number): Promise<Record<string, OutputTensor>> {
  const session = await createInferenceSession({
    modelBytes: model.bytes,
    expectedInputs: toTensorSpecs(model.inputs, RANGES),
    expectedOutputs: toTensorSpecs(model.outputs),
    provider: 'cpu',
    logger: createMemoryLogger(),
  });
  try {
    return await session.run(workloadInputs(CFG, batch, 5), batch);
  } finally {
    await session.close();
  }
}

describe('mergeOnnxEnsemble', () => {
  it('runs as one graph whose every output is the mean of its members', async () => {
    const members = [3, 4, 5].map((seed) => buildWorkloadModel(CFG, workloadWeights(CFG, seed)));
    const bytes = mergeOnnxEnsemble(
      members.map((m) => m.bytes),
      { metadata: { ensemble: 'three workloads' } },
    );
    const batch = 4;
    const merged = await run({ bytes, inputs: members[0]!.inputs, outputs: members[0]!.outputs }, batch);
    const each = await Promise.all(members.map((m) => run(m, batch)));
    for (const name of ['quantiles', 'risk', 'attention']) {
      const got = merged[name]!;
      expect(got.dims).toEqual(each[0]![name]!.dims);
      const data = got.data as Float32Array;
      let maxDiff = 0;
      let spread = 0;
      for (let i = 0; i < data.length; i++) {
        const values = each.map((o) => (o[name]!.data as Float32Array)[i]!);
        const mean = values.reduce((a, v) => a + v, 0) / values.length;
        maxDiff = Math.max(maxDiff, Math.abs(data[i]! - mean));
        spread = Math.max(spread, Math.max(...values) - Math.min(...values));
      }
      expect(maxDiff).toBeLessThanOrEqual(1e-5);
      // The members differ, so the mean is not any one of them.
      expect(spread).toBeGreaterThan(1e-3);
    }

    const proto = decodeModel(bytes);
    const g = proto.graph!;
    expect(g.input!.map((v) => v.name)).toEqual(members[0]!.inputs.map((s) => s.name));
    expect(g.output!.map((v) => v.name)).toEqual(members[0]!.outputs.map((s) => s.name));
    expect(g.node!.filter((n) => n.opType === 'Mean').map((n) => n.input!.length)).toEqual([3, 3, 3]);
    // Each member's weights once, under its prefix; its metadata too.
    const names = g.initializer!.map((t) => t.name!);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => n.startsWith('m2/')).length).toBe(decodeModel(members[2]!.bytes).graph!.initializer!.length);
    const meta = Object.fromEntries((proto.metadataProps ?? []).map((p) => [p.key, p.value]));
    expect(meta['m1/lstm']).toBe('fused');
    expect(meta.ensemble).toBe('three workloads');
  });

  it('refuses fewer than two members, and members whose signatures differ, naming the member', () => {
    const a = buildWorkloadModel(CFG, workloadWeights(CFG, 3));
    expect(() => mergeOnnxEnsemble([a.bytes])).toThrow(/at least 2 members, got 1/);
    const wider = { ...CFG, horizonSteps: 5 };
    const b = buildWorkloadModel(wider, workloadWeights(wider, 3));
    expect(() => mergeOnnxEnsemble([a.bytes, b.bytes])).toThrow(OnnxBuildError);
    expect(() => mergeOnnxEnsemble([a.bytes, b.bytes])).toThrow(/member 1: inputs .*known: 1 \[batch, 17, /);

    const o = new OnnxOps(new Map());
    const x = o.input({ name: 'observed', dtype: 'float32', shape: [-1, 3] });
    o.output(o.sigmoid(x), 'risk');
    expect(() => mergeOnnxEnsemble([a.bytes, o.toBytes()])).toThrow(/member 1: inputs \[observed: 1 \[batch, 3\]\] differ from member 0's/);
    expect(() => mergeOnnxEnsemble([a.bytes, new Uint8Array([1, 2, 3, 250])])).toThrow(/member 1: not an ONNX model/);
  });
});
