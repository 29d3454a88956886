export {
  createInferenceSession,
  listExecutionProviders,
  liveSessionCount,
  type CalibrationBatch,
  type CreateInferenceSessionOptions,
  type ExecutionProvider,
  type InferenceSession,
  type ModelSource,
  type OutputTensor,
  type ProviderAttempt,
  type ProviderReport,
  type ProviderSetting,
} from './inference-session';
export { InferenceError, type InferenceErrorCode } from './inference-error';
export { checkInputs, type InputTensor, type TensorDType, type TensorSpec } from './tensor-checks';
