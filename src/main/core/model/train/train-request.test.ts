import { describe, expect, it } from 'vitest';
import { DEFAULT_ENSEMBLE_SEEDS, resolveTrainRequest, trainOptionsOf } from './train-request';
import { TRAIN_DEFAULTS } from './train-model';

describe('resolveTrainRequest', () => {
  it('fills every default and makes the folders absolute', () => {
    const r = resolveTrainRequest({ dataset: 'training', output: 'models' });
    expect(r.dataset.startsWith('/')).toBe(true);
    expect(r.epochs).toBe(TRAIN_DEFAULTS.epochs);
    expect(r.patience).toBe(TRAIN_DEFAULTS.patience);
    expect(r.name).toBeUndefined();
  });

  it('takes a plain folder name for the model and refuses anything that is a path', () => {
    expect(resolveTrainRequest({ dataset: 'd', output: 'o', name: 'default' }).name).toBe('default');
    for (const bad of ['../default', 'a/b', '.hidden', '-x', ''])
      expect(() => resolveTrainRequest({ dataset: 'd', output: 'o', name: bad })).toThrow(/training request: name/);
  });

  it('seeds: the default ensemble unless a seed or seeds are given; one seed per member', () => {
    const base = { dataset: 'd', output: 'o' };
    expect(resolveTrainRequest(base)).toMatchObject({ seeds: [...DEFAULT_ENSEMBLE_SEEDS], seed: DEFAULT_ENSEMBLE_SEEDS[0] });
    expect(resolveTrainRequest({ ...base, seed: 5 })).toMatchObject({ seeds: [5], seed: 5 });
    expect(resolveTrainRequest({ ...base, seeds: [3, 4] })).toMatchObject({ seeds: [3, 4], seed: 3 });
    expect(() => resolveTrainRequest({ ...base, seed: 4, seeds: [3, 4] })).toThrow(/seed 4 is not seeds\[0\] \(3\)/);
    expect(() => resolveTrainRequest({ ...base, seeds: [3, 3] })).toThrow(/training request: seeds: each member needs its own seed/);
    expect(() => resolveTrainRequest({ ...base, seeds: [] })).toThrow(/training request: seeds: /);
    expect(() => resolveTrainRequest({ ...base, seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9] })).toThrow(/training request: seeds: /);
  });

  it("hands trainTft no spec of its own: the dataset's (with its fitted normalization) is used", () => {
    expect('spec' in trainOptionsOf(resolveTrainRequest({ dataset: 'd', output: 'o' }))).toBe(false);
  });
});
