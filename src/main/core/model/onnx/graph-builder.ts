import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';

/**
 * A small typed builder over the protobufjs-generated ONNX messages (`onnx-proto`): graph inputs
 * and outputs with names, element types, shapes and doc strings; initializers from typed arrays;
 * nodes with typed attributes; model metadata; serialisation to bytes.
 *
 * It knows nothing about shapes beyond what it is told: shape tracking lives in `OnnxOps`.
 */

const { onnx: proto } = onnxProto;

/**
 * Opset 17 / IR 8. onnxruntime-node 1.30 accepts up to IR 13 and opset 26 (probed), but 17 is
 * the first with LayerNormalization, every op we emit has had its current semantics since 17
 * (ReduceMean still takes `axes` as an attribute there), and the older the opset the more
 * kernels each execution provider registers for it: a WebGPU or CUDA kernel missing for a newer
 * opset version silently sends that node back to the CPU. IR 8 is the IR of ONNX 1.12, whose
 * highest opset is 17, and the highest IR the bundled onnx-proto (ONNX 1.10 messages) declares.
 */
export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

/** The symbolic name of the dynamic first dimension in every input and output. */
export const BATCH_DIM = 'batch';

export type ElementType = 'float32' | 'int32' | 'int64';

/** TensorProto.DataType codes. */
const DATA_TYPE: Record<ElementType, number> = { float32: 1, int32: 6, int64: 7 };

/**
 * A graph input or output as inference sees it: `shape` is static except -1, which marks the
 * dynamic batch (written as the symbolic dimension "batch" in the model).
 */
export interface IoSpec {
  name: string;
  dtype: ElementType;
  shape: readonly number[];
  doc?: string;
}

/** Attribute values are tagged: a bare number cannot say whether ONNX wants an INT or a FLOAT. */
export type AttributeValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'strings'; readonly value: readonly string[] };

export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): AttributeValue => ({ kind: 'floats', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  strings: (value: readonly string[]): AttributeValue => ({ kind: 'strings', value }),
} as const;

/** AttributeProto.AttributeType codes. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7, strings: 8 } as const;

export interface NodeOptions {
  /** Node name hint (made unique); defaults to the op type. */
  name?: string;
  /** How many outputs to create (default 1); their names derive from `outputHint`. */
  outputs?: number;
  outputHint?: string;
  attributes?: Readonly<Record<string, AttributeValue>>;
  /** Operator domain; '' (the default) is the standard ai.onnx domain. */
  domain?: string;
}

export interface ModelOptions {
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  modelVersion?: number;
  /** Written as ModelProto.metadata_props; onnxruntime exposes them as custom metadata. */
  metadata?: Readonly<Record<string, string>>;
}

export type InitializerData = Float32Array | Int32Array | BigInt64Array;

/** A mistake in how a graph is being built: a programming error, never bad user data. */
export class OnnxBuildError extends Error {
  override readonly name = 'OnnxBuildError';
}

const utf8 = new TextEncoder();

// Initializers are written as the host's bytes and ONNX raw_data is little-endian: refuse to
// write garbage on a big-endian host rather than byte-swap every weight (no such host ships).
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('ONNX export needs a little-endian host');

export class OnnxGraphBuilder {
  private readonly names = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly inputSpecs: IoSpec[] = [];
  private readonly outputSpecs: IoSpec[] = [];

  constructor(readonly graphName = 'main') {}

  /**
   * A name not used yet for any value or node: `hint` itself when free, else `hint_1`,
   * `hint_2`... Names from `input`, `initializer` with `exactName` and `output` are reserved
   * first-come, so generated names never collide with them.
   */
  uniqueName(hint: string): string {
    const base = hint.length > 0 ? hint : 'v';
    if (!this.names.has(base)) {
      this.names.add(base);
      return base;
    }
    let n = this.counters.get(base) ?? 0;
    let candidate: string;
    do {
      n += 1;
      candidate = `${base}_${n}`;
    } while (this.names.has(candidate));
    this.counters.set(base, n);
    this.names.add(candidate);
    return candidate;
  }

  private reserve(name: string, what: string): void {
    if (name.length === 0) throw new OnnxBuildError(`${what} needs a non-empty name`);
    if (this.names.has(name)) throw new OnnxBuildError(`${what} "${name}": the name is already used in this graph`);
    this.names.add(name);
  }

  /** Declares a graph input, shape with -1 for the batch. Returns its value name (= `spec.name`). */
  input(spec: IoSpec): string {
    this.reserve(spec.name, 'input');
    this.inputs.push(valueInfo(spec));
    this.inputSpecs.push({ ...spec, shape: [...spec.shape] });
    return spec.name;
  }

  /**
   * Declares `value` as a graph output named `spec.name`, through an Identity node: an output
   * name of our choosing whatever node produced the value (onnxruntime folds the Identity away).
   */
  output(value: string, spec: IoSpec): string {
    this.reserve(spec.name, 'output');
    this.nodes.push({ opType: 'Identity', input: [value], output: [spec.name], name: this.uniqueName(`out_${spec.name}`) });
    this.outputs.push(valueInfo(spec));
    this.outputSpecs.push({ ...spec, shape: [...spec.shape] });
    return spec.name;
  }

  /**
   * Adds a constant tensor; `data` is copied (little-endian raw bytes, as ONNX stores them).
   * With `exactName` the name is used as given (weights keep their training names) and must be
   * free; otherwise `name` is a hint.
   */
  initializer(name: string, data: InitializerData, shape: readonly number[], options: { exactName?: boolean; doc?: string } = {}): string {
    const size = shape.reduce((a, d) => a * d, 1);
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new OnnxBuildError(`initializer "${name}": shape [${shape.join(', ')}] must be non-negative integers`);
    if (size !== data.length) throw new OnnxBuildError(`initializer "${name}": ${data.length} values do not fill shape [${shape.join(', ')}]`);
    let unique: string;
    if (options.exactName) {
      this.reserve(name, 'initializer');
      unique = name;
    } else {
      unique = this.uniqueName(name);
    }
    const dataType = data instanceof Float32Array ? DATA_TYPE.float32 : data instanceof Int32Array ? DATA_TYPE.int32 : DATA_TYPE.int64;
    // A copy, so that a caller reusing its buffer cannot change a recorded weight.
    const rawData = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    this.initializers.push({ name: unique, dims: [...shape], dataType, rawData, ...(options.doc ? { docString: options.doc } : {}) });
    return unique;
  }

  /** Adds a node; returns the names of its outputs (unique, derived from `outputHint`). */
  node(opType: string, inputs: readonly string[], options: NodeOptions = {}): string[] {
    const count = options.outputs ?? 1;
    const hint = options.outputHint ?? opType.toLowerCase();
    const outputs = Array.from({ length: count }, () => this.uniqueName(hint));
    const attribute = Object.entries(options.attributes ?? {}).map(([name, value]) => attributeProto(name, value));
    this.nodes.push({
      opType,
      input: [...inputs],
      output: outputs,
      name: this.uniqueName(`${options.name ?? opType}_node`),
      ...(attribute.length > 0 ? { attribute } : {}),
      ...(options.domain ? { domain: options.domain } : {}),
    });
    return outputs;
  }

  /** The declared inputs and outputs, in declaration order (what inference should expect). */
  signature(): { inputs: IoSpec[]; outputs: IoSpec[] } {
    return { inputs: this.inputSpecs.map((s) => ({ ...s })), outputs: this.outputSpecs.map((s) => ({ ...s })) };
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  get initializerCount(): number {
    return this.initializers.length;
  }

  toModel(options: ModelOptions = {}): onnx.ModelProto {
    if (this.outputs.length === 0) throw new OnnxBuildError('a model needs at least one output');
    return proto.ModelProto.create({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: options.producerName ?? 'tft-monitoring-prediction',
      producerVersion: options.producerVersion ?? '',
      docString: options.docString ?? '',
      modelVersion: options.modelVersion ?? 1,
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
  }

  /** The serialised model (the bytes of model.onnx). */
  toBytes(options: ModelOptions = {}): Uint8Array {
    return proto.ModelProto.encode(this.toModel(options)).finish();
  }
}

/** Decodes model bytes (tests and tools: inspect what was written). */
export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  return proto.ModelProto.decode(bytes);
}

function valueInfo(spec: IoSpec): onnx.IValueInfoProto {
  if (spec.shape.some((d) => d !== -1 && (!Number.isInteger(d) || d < 1))) {
    throw new OnnxBuildError(`"${spec.name}": shape [${spec.shape.join(', ')}] must be positive integers, or -1 for the batch`);
  }
  return {
    name: spec.name,
    ...(spec.doc ? { docString: spec.doc } : {}),
    type: {
      tensorType: {
        elemType: DATA_TYPE[spec.dtype],
        shape: { dim: spec.shape.map((d) => (d === -1 ? { dimParam: BATCH_DIM } : { dimValue: d })) },
      },
    },
  };
}

function attributeProto(name: string, value: AttributeValue): onnx.IAttributeProto {
  switch (value.kind) {
    case 'int':
      return { name, type: ATTRIBUTE_TYPE.int, i: value.value };
    case 'float':
      return { name, type: ATTRIBUTE_TYPE.float, f: value.value };
    case 'ints':
      return { name, type: ATTRIBUTE_TYPE.ints, ints: [...value.value] };
    case 'floats':
      return { name, type: ATTRIBUTE_TYPE.floats, floats: [...value.value] };
    case 'string':
      return { name, type: ATTRIBUTE_TYPE.string, s: utf8.encode(value.value) };
    case 'strings':
      return { name, type: ATTRIBUTE_TYPE.strings, strings: value.value.map((s) => utf8.encode(s)) };
  }
}
