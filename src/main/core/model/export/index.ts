export {
  TFT_INPUT_NAMES,
  TFT_OUTPUT_NAMES,
  TftExportError,
  exportTftToOnnx,
  onnxSectionDraft,
  type ExportTftOptions,
  type ExportedTensor,
  type ExportedTft,
  type TftSource,
} from './export-tft';
