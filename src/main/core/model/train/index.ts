/** Training the TFT on a FeatureDataset (see train-model.ts), and whole runs on a worker thread (train-worker.ts). */
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
export { assertResumable, type TrainCheckpointState } from './checkpoint-state';
export {
  CHECKPOINTS_DIR,
  CHECKPOINT_FILE,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  readCheckpoint,
  writeCheckpoint,
  type TrainCheckpoint,
} from './checkpoint-file';
export {
  DatasetError,
  buildTrainingDataset,
  loadTrainingData,
  parseIncidents,
  type LoadedTrainingData,
} from './training-data';
export {
  DEFAULT_ENSEMBLE_SEEDS,
  MAX_ENSEMBLE_MEMBERS,
  resolveTrainRequest,
  type TrainJob,
  type TrainRequestInput,
  type TrainRunRequest,
} from './train-request';
export { modelFolderName, runTraining, type MemberRef, type RunTrainingOptions, type TrainRunEvent, type TrainRunSummary } from './run-training';
export { MemberTracker } from './member-tracker';
export { startTraining, type StartTrainingOptions, type TrainWorkerFactory, type TrainingHandle } from './train-worker';
