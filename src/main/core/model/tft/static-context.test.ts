import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticContextParams, staticContexts } from './static-context';
import { leakedTensors, useBackend } from './testing/fixtures';
import { TfjsOps } from './tfjs-ops';
import { WeightStore } from './weight-store';

let store: WeightStore;
let ops: TfjsOps;

beforeAll(async () => {
  await useBackend('wasm');
  store = WeightStore.create(staticContextParams('ctx', { hidden: 8 }), 2);
  ops = new TfjsOps(store);
});
afterAll(() => store.dispose());

describe('static covariate encoders', () => {
  it('(B, H) -> four distinct (B, H) contexts', () => {
    tf.tidy(() => {
      const c = staticContexts(ops, 'ctx', { hidden: 8 }, tf.randomNormal([3, 8]));
      const all = [c.selection, c.stateH, c.stateC, c.enrichment];
      for (const t of all) expect(t.shape).toEqual([3, 8]);
      for (let i = 1; i < all.length; i++) expect(Array.from(all[i]!.dataSync())).not.toEqual(Array.from(all[0]!.dataSync()));
    });
  });

  it('does not leak tensors, forward or backward', () => {
    const leaked = leakedTensors(() =>
      tf.tidy(() => {
        tf.grad((x: tf.Tensor) => {
          const c = staticContexts(ops, 'ctx', { hidden: 8 }, x);
          return tf.addN([c.selection, c.stateH, c.stateC, c.enrichment]).sum();
        })(tf.randomNormal([3, 8]));
      }),
    );
    expect(leaked).toBe(0);
  });
});
