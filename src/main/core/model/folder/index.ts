/**
 * The model folder: `model.onnx` + `model.json` (ARCHITECTURE.md, "Model artifacts"). Written
 * atomically, loaded only after the manifest, contract, size and sha256 check out; a refused
 * folder is a typed ModelFolderError naming folder, file and field, and resolveActiveModel keeps
 * the bundled model running when the preferred one is refused.
 */
export {
  DEFAULT_ONNX_FILE,
  DatasetSummarySchema,
  EvaluationSummarySchema,
  FeatureSpecSchema,
  MANIFEST_FILE,
  MODEL_FORMAT_VERSION,
  ModelManifestSchema,
  OnnxSectionSchema,
  TensorDocSchema,
  TrainingSummarySchema,
  expectedTensors,
  formatFieldPath,
  type DatasetSummary,
  type EvaluationSummary,
  type ModelManifest,
  type ModelManifestDraft,
  type OnnxSection,
  type TensorDoc,
  type TrainingSummary,
} from './model-manifest';
export {
  ModelFolderError,
  isModelFolderError,
  type ManifestIssue,
  type ModelFolderErrorCode,
} from './model-folder-error';
export {
  MAX_MANIFEST_BYTES,
  MAX_ONNX_BYTES,
  loadModelFolder,
  manifestIssues,
  parseManifest,
  verifyModelFolder,
  type LoadModelFolderOptions,
  type LoadedModelFolder,
} from './load-model-folder';
export {
  nodeFolderFs,
  writeModelFolder,
  type FolderWriteFs,
  type WriteModelFolderOptions,
  type WrittenModelFolder,
} from './write-model-folder';
export { ModelRegistry, resolveActiveModel, type ActiveModel, type ModelListing } from './model-registry';
