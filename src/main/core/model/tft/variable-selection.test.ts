import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grn } from './grn';
import { staticEmbedding, staticEmbeddingParams, variableEmbedding } from './input-embedding';
import { leakedTensors, maxAbsDiff, plainOps, useBackend } from './testing/fixtures';
import { TfjsOps } from './tfjs-ops';
import { variableSelection, vsnParams, type VsnArgs } from './variable-selection';
import { WeightStore } from './weight-store';

const real = (variableGrn: VsnArgs['variableGrn'], variableHidden = 4): VsnArgs => ({
  variables: 5,
  maskedChannels: 3,
  variableHidden,
  hidden: 8,
  contextSize: 8,
  variableGrn,
  input: 'real',
});
const embedded: VsnArgs = { variables: 2, variableHidden: 4, hidden: 8, contextSize: 0, variableGrn: 'shared', input: 'embedded' };

/** 6 channels grouped into 3 variables (a metric's aggregates share a variable); 4 have masks. */
const grouped: VsnArgs = {
  variables: 3,
  channels: 6,
  maskedChannels: 4,
  channelVariable: [0, 0, 1, 1, 2, 2],
  variableHidden: 4,
  hidden: 8,
  contextSize: 8,
  variableGrn: 'shared',
  input: 'real',
};

let store: WeightStore;
let ops: TfjsOps;

beforeAll(async () => {
  await useBackend('wasm');
  store = WeightStore.create(
    [
      ...vsnParams('shared', real('shared')),
      ...vsnParams('pervar', real('per-variable')),
      ...vsnParams('none', real('none')),
      ...vsnParams('wide', real('shared', 8)),
      ...vsnParams('static', embedded),
      ...vsnParams('grouped', grouped),
      ...staticEmbeddingParams('emb', { profiles: 3, serverBuckets: 4, width: 4 }),
    ],
    5,
  );
  ops = new TfjsOps(store);
});

afterAll(() => store.dispose());

function realInputs(): { values: tf.Tensor; masks: tf.Tensor; context: tf.Tensor } {
  return {
    values: ops.markData(tf.randomNormal([2, 7, 5], 0, 1, 'float32', 1)),
    masks: ops.markData(tf.cast(tf.greater(tf.randomUniform([2, 7, 3], 0, 1, 'float32', 2), 0.2), 'float32')),
    context: tf.randomNormal([2, 8], 0, 1, 'float32', 3),
  };
}

describe('variable selection network', () => {
  for (const mode of ['shared', 'per-variable', 'none'] as const) {
    it(`${mode}: values (B, T, V) -> output (B, T, H), weights (B, T, V) summing to 1`, () => {
      tf.tidy(() => {
        const name = mode === 'per-variable' ? 'pervar' : mode;
        const { values, masks, context } = realInputs();
        const out = variableSelection(ops, name, real(mode), { values, masks }, context);
        expect(out.output.shape).toEqual([2, 7, 8]);
        expect(out.weights.shape).toEqual([2, 7, 5]);
        for (const s of tf.sum(out.weights, 2).dataSync()) expect(s).toBeCloseTo(1, 5);
      });
    });
  }

  it('Hv = H: the plain weighted sum (no projection)', () => {
    tf.tidy(() => {
      const { values, masks, context } = realInputs();
      expect(variableSelection(ops, 'wide', real('shared', 8), { values, masks }, context).output.shape).toEqual([2, 7, 8]);
    });
  });

  it('static: embeddings (B, 1, 2, Hs) -> (B, 1, H); the unknown bucket 0 embeds like any other', () => {
    tf.tidy(() => {
      const se = staticEmbedding(ops, 'emb', { profiles: 3, serverBuckets: 4, width: 4 }, tf.tensor1d([0, 2], 'int32'), tf.tensor1d([0, 3], 'int32'));
      expect(se.shape).toEqual([2, 1, 2, 4]);
      const out = variableSelection(ops, 'static', embedded, { embeddings: se });
      expect(out.output.shape).toEqual([2, 1, 8]);
      expect(out.weights.shape).toEqual([2, 1, 2]);
    });
  });

  it('the composed first products equal the flattened GRN on the explicit embeddings', () => {
    tf.tidy(() => {
      const { values, masks, context } = realInputs();
      const args = real('shared');
      const fast = variableSelection(ops, 'shared', args, { values, masks }, context).weights;
      const e = variableEmbedding(ops, 'shared.embedding', { channels: 5, maskedChannels: 3, variables: 5, width: 4 }, values, masks);
      const logits = grn(ops, 'shared.flat', { inputSize: 20, hiddenSize: 5, outputSize: 5, contextSize: 8 }, tf.reshape(e, [2, 7, 20]), context);
      expect(maxAbsDiff(fast.dataSync(), tf.softmax(logits).dataSync())).toBeLessThan(1e-5);
    });
  });

  it('fast paths (fused bias, host embedding) and the bare Ops compute the same, gradients too', () => {
    tf.tidy(() => {
      const { values, masks, context } = realInputs();
      const plain = plainOps(ops);
      const f = (o: typeof plain) => (c: tf.Tensor): tf.Scalar => {
        const r = variableSelection(o, 'shared', real('shared'), { values, masks }, c);
        return tf.add<tf.Scalar>(tf.sum(tf.square(r.output)), tf.sum(tf.mul(r.weights, tf.range(0, 5).toFloat())));
      };
      expect(Math.abs(f(ops)(context).dataSync()[0]! - f(plain)(context).dataSync()[0]!)).toBeLessThan(1e-3);
      const vars = ['shared.embedding.value_w', 'shared.embedding.mask_w', 'shared.flat.fc1.w', 'shared.var.fc1.w', 'shared.proj.w'].map((n) => store.get(n));
      const g1 = tf.variableGrads(() => f(ops)(context), vars).grads;
      const g2 = tf.variableGrads(() => f(plain)(context), vars).grads;
      for (const v of vars) expect(maxAbsDiff(g1[v.name]!.dataSync(), g2[v.name]!.dataSync())).toBeLessThan(1e-3);
    });
  });

  it('grouped channels: selection over variables, and the generic block form equals the fast paths', () => {
    tf.tidy(() => {
      const values = ops.markData(tf.randomNormal([2, 7, 6], 0, 1, 'float32', 4));
      const masks = ops.markData(tf.cast(tf.greater(tf.randomUniform([2, 7, 4], 0, 1, 'float32', 5), 0.2), 'float32'));
      const context = tf.randomNormal([2, 8], 0, 1, 'float32', 6);
      const fast = variableSelection(ops, 'grouped', grouped, { values, masks }, context);
      expect(fast.weights.shape).toEqual([2, 7, 3]);
      const generic = variableSelection(plainOps(ops), 'grouped', grouped, { values, masks }, context);
      expect(maxAbsDiff(fast.output.dataSync(), generic.output.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDiff(fast.weights.dataSync(), generic.weights.dataSync())).toBeLessThan(1e-5);
      const e = variableEmbedding(plainOps(ops), 'grouped.embedding', { channels: 6, maskedChannels: 4, variables: 3, channelVariable: [0, 0, 1, 1, 2, 2], width: 4 }, values, masks);
      const logits = grn(ops, 'grouped.flat', { inputSize: 12, hiddenSize: 3, outputSize: 3, contextSize: 8 }, tf.reshape(e, [2, 7, 12]), context);
      expect(maxAbsDiff(fast.weights.dataSync(), tf.softmax(logits).dataSync())).toBeLessThan(1e-5);
      const vars = ['grouped.embedding.value_w', 'grouped.embedding.mask_w', 'grouped.embedding.b', 'grouped.flat.fc1.w'].map((n) => store.get(n));
      const loss = (o: ReturnType<typeof plainOps>) => () => tf.sum<tf.Scalar>(tf.square(variableSelection(o, 'grouped', grouped, { values, masks }, context).output));
      const g1 = tf.variableGrads(loss(ops), vars).grads;
      const g2 = tf.variableGrads(loss(plainOps(ops)), vars).grads;
      for (const v of vars) expect(maxAbsDiff(g1[v.name]!.dataSync(), g2[v.name]!.dataSync()), v.name).toBeLessThan(1e-3);
    });
  });

  it('does not leak tensors, forward or backward', () => {
    const leaked = leakedTensors(() =>
      tf.tidy(() => {
        const { values, masks, context } = realInputs();
        const vars = store.variables();
        for (const [name, mode] of [['shared', 'shared'], ['pervar', 'per-variable']] as const) {
          tf.variableGrads(() => tf.sum<tf.Scalar>(variableSelection(ops, name, real(mode), { values, masks }, context).output), vars.filter((v) => v.name.includes(`/${name}.`)));
        }
      }),
    );
    expect(leaked).toBe(0);
  });
});
