import { describe, expect, it } from 'vitest';
import { resolveTrainRequest, trainOptionsOf } from './train-request';
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

  it("hands trainTft no spec of its own: the dataset's (with its fitted normalization) is used", () => {
    expect('spec' in trainOptionsOf(resolveTrainRequest({ dataset: 'd', output: 'o' }))).toBe(false);
  });
});
