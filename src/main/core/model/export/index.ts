export {
  TFT_OUTPUT_NAMES,
  TftExportError,
  exportTftToOnnx,
  onnxSectionDraft,
  type ExportTftOptions,
  type ExportedTensor,
  type ExportedTft,
  type TftSource,
} from './export-tft';
export {
  TFT_EXPLANATION_OUTPUTS,
  TFT_INPUT_FIELDS,
  TFT_INPUT_NAMES,
  hasExplanationOutputs,
  tftFeeds,
  type TftExplanationOutputName,
  type TftInputName,
} from './feeds';
