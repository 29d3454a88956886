import type { HostAdamState } from '../tft/host-adam';
import type { SerializedWeights } from '../tft/weight-store';
import type { EpochRecord, TrainTftResult } from './train-model';

/**
 * Everything trainTft needs to continue a run after an epoch as if it had never stopped: the
 * weights, the optimizer, the early-stopping bookkeeping and the position of every random
 * stream whose draws depend on what came before. What is a pure function of (seed, epoch) —
 * the epoch's window order, the validation subset, the initial weights — is recomputed, not
 * stored. A new stateful random stream in the training loop must add its draw count to
 * `rngDraws`, or resumed runs stop matching uninterrupted ones (checkpoint.test.ts says so).
 *
 * trainTft hands one to its `checkpoint` option after every epoch and takes one back as
 * `resumeFrom`; checkpoint-file.ts writes it to disk.
 */
export interface TrainCheckpointState {
  /** 1-based number of the last completed epoch. */
  epoch: number;
  /** The run's settings after defaults; a resume must use the same (assertResumable). */
  settings: TrainTftResult['settings'];
  positiveWeight: number;
  /** The weights after `epoch` (not the best ones: training continues from these). */
  weights: SerializedWeights;
  optimizer: HostAdamState;
  history: EpochRecord[];
  /** The best epoch so far and its weights; null before any. */
  best: { epoch: number; loss: number; weights: SerializedWeights } | null;
  /** Epochs since the best one (early stopping's patience counter). */
  sinceBest: number;
  /** Early stopping ended the run at this epoch: a resume goes straight to the result. */
  stopped: boolean;
  stepsDone: number;
  samplesDone: number;
  /** Time spent in training steps and in validation so far (rates and ETA continue from them). */
  stepMs: number;
  validationMs: number;
  /** Wall time of the run so far, all sessions together. */
  elapsedMs: number;
  /** Numbers drawn so far from each stateful random stream (a resume skips as many). */
  rngDraws: { augmentation: number };
}

/** Refuses a checkpoint taken under other settings: continuing it would not be the same run. */
export function assertResumable(state: TrainCheckpointState, settings: TrainTftResult['settings'], positiveWeight: number): void {
  const differences: string[] = [];
  const keys = new Set([...Object.keys(state.settings), ...Object.keys(settings)]);
  for (const key of keys) {
    const had = (state.settings as Record<string, unknown>)[key];
    const has = (settings as Record<string, unknown>)[key];
    if (had !== has) differences.push(`${key} ${String(had)} -> ${String(has)}`);
  }
  if (state.positiveWeight !== positiveWeight) differences.push(`positiveWeight ${state.positiveWeight} -> ${positiveWeight} (another dataset?)`);
  if (differences.length > 0) throw new Error(`cannot resume: the checkpoint was taken with other settings (${differences.join(', ')})`);
  if (state.history.length !== state.epoch) throw new Error(`cannot resume: the checkpoint of epoch ${state.epoch} holds ${state.history.length} epochs of history`);
}
