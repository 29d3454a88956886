/**
 * The feature pipeline: samples -> model windows (see feature-spec.ts for the layout and
 * semantics model.json records). Training and evaluation use buildDataset / buildWindows;
 * the live loop uses buildInferenceBatch; both go through the same aggregation.
 */
export * from './feature-spec';
export * from './scaling';
export { calendarAt, CalendarTable } from './calendar';
export { aggregateSteps, type ServerSteps, type AggregateOptions, type AggregateResult } from './step-series';
export {
  buildWindows,
  labelAt,
  SKIP_REASONS,
  type BuildWindowsOptions,
  type Label,
  type SkipReason,
  type WindowIndex,
  type WindowSelectionOptions,
  type WindowStats,
} from './windows';
export {
  buildDataset,
  FeatureDataset,
  pickHeldOutServers,
  type DatasetOptions,
  type DatasetStats,
  type MiniBatchOptions,
  type SplitName,
  type SplitStats,
} from './dataset';
export {
  buildInferenceBatch,
  contextSamples,
  inferenceTime,
  type InferenceBatch,
  type InferenceOptions,
  type InferenceSkip,
} from './inference';
