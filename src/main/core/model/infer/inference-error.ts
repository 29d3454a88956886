export type InferenceErrorCode =
  /** The options are unusable (no model, both model sources, bad thread count...). */
  | 'bad_options'
  /** The model file cannot be read. */
  | 'model_unreadable'
  /** onnxruntime refused the model bytes (truncated, corrupted, not ONNX, unsupported opset). */
  | 'model_invalid'
  /** The model loads, but its inputs/outputs are not those expected (model.json and model.onnx disagree). */
  | 'model_mismatch'
  | 'input_missing'
  | 'input_unexpected'
  | 'input_dtype'
  | 'input_size'
  /** NaN or +-Infinity in a float input: the caller masks missing values before inference. */
  | 'input_not_finite'
  /** An index input outside its declared range (an embedding row that does not exist). */
  | 'input_out_of_range'
  | 'bad_batch'
  /** onnxruntime failed during the run. */
  | 'run_failed'
  /** The outputs are not those expected. */
  | 'output_mismatch'
  | 'session_closed';

/**
 * Every refusal of the inference module: typed by `code`, and naming the input (and the flat
 * element index, for values) it is about, so the caller can say which feature is wrong.
 */
export class InferenceError extends Error {
  override readonly name = 'InferenceError';
  readonly code: InferenceErrorCode;
  /** The input or output concerned, when there is one. */
  readonly tensor: string | null;
  /** Flat (row-major) index of the offending element, for value errors. */
  readonly index: number | null;

  constructor(code: InferenceErrorCode, message: string, options: { tensor?: string; index?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.tensor = options.tensor ?? null;
    this.index = options.index ?? null;
  }
}

/**
 * onnxruntime's messages start with a source location
 * ("/onnxruntime_src/...webgpu_context.cc:136 ... was false. Failed to get a WebGPU adapter: No
 * supported adapters"): keep the part a person can act on, for reports and the UI.
 */
export function summariseOrtError(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).trim();
  const afterAssert = message.split(' was false. ').pop() ?? message;
  const lines = afterAssert.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const line = lines[lines.length - 1] ?? afterAssert;
  return line.replace(/^\/onnxruntime_src\/\S+:\d+\s+/, '').slice(0, 500);
}
