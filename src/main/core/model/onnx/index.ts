export {
  BATCH_DIM,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  OnnxBuildError,
  OnnxGraphBuilder,
  attr,
  decodeModel,
  type AttributeValue,
  type ElementType,
  type InitializerData,
  type IoSpec,
  type ModelOptions,
  type NodeOptions,
} from './graph-builder';
export { OnnxOps, type OnnxValue, type WeightTensor } from './onnx-ops';
export { broadcastShapes, formatShape, sizeOf } from './shapes';
export { mergeOnnxEnsemble, type EnsembleOptions } from './ensemble';
