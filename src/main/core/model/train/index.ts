/** Training the TFT on a FeatureDataset (see train-model.ts). */
export {
  TRAIN_DEFAULTS,
  TrainingCancelled,
  evaluateLoss,
  sampleIndices,
  trainTft,
  type EpochRecord,
  type TrainProgress,
  type TrainTftOptions,
  type TrainTftResult,
} from './train-model';
