import { createInferenceSession, type InputTensor, type TensorSpec } from '../../infer';
import { createMemoryLogger } from '../../../util/logger';
import type { Ops } from '../../ops';
import type { ElementType, IoSpec } from '../graph-builder';
import { OnnxOps, type WeightTensor } from '../onnx-ops';
import { ReferenceOps, refTensor, type RefTensor } from './reference-ops';
import { rng, uniform } from './random';

/** A forward function written once against `Ops`, run by both the ONNX recorder and the reference. */
export type GraphFn = <T>(o: Ops<T>, xs: readonly T[]) => T;

export interface InputDecl {
  /** -1 = batch */
  shape: readonly number[];
  dtype?: ElementType;
  /** Floats: uniform range (default [-2, 2)); ints: [0, max) via `max`. */
  lo?: number;
  hi?: number;
  max?: number;
}

export interface GraphCheck {
  /** Largest |onnxruntime - reference| over the output. */
  maxAbsDiff: number;
  /** Output dims from onnxruntime and from the reference. */
  ortDims: readonly number[];
  refDims: readonly number[];
  /** OnnxOps's static shape of the output, -1 where dynamic. */
  staticShape: readonly number[];
  nodes: number;
}

/** IoSpec -> the inference module's TensorSpec, with index ranges where given. */
export function toTensorSpecs(specs: readonly IoSpec[], ranges: Readonly<Record<string, readonly [number, number]>> = {}): TensorSpec[] {
  return specs.map((s) => ({ name: s.name, dtype: s.dtype, shape: s.shape, ...(ranges[s.name] ? { range: ranges[s.name] } : {}) }));
}

/**
 * Records `fn` with OnnxOps (inputs x0, x1... of the declared shapes, output y), runs it in
 * onnxruntime (CPU) for `batch` rows of seeded random inputs, runs `fn` on the reference
 * backend with the same inputs, and compares.
 */
export async function checkGraph(fn: GraphFn, decls: readonly InputDecl[], options: { batch?: number; weights?: ReadonlyMap<string, WeightTensor>; seed?: number } = {}): Promise<GraphCheck> {
  const batch = options.batch ?? 3;
  const weights = options.weights ?? new Map<string, WeightTensor>();
  const o = new OnnxOps(weights);
  const xs = decls.map((d, i) => o.input({ name: `x${i}`, dtype: d.dtype ?? 'float32', shape: d.shape }));
  const y = fn(o, xs);
  o.output(y, 'y');
  const bytes = o.toBytes();
  const sig = o.builder.signature();

  const random = rng(options.seed ?? 42);
  const feeds: Record<string, InputTensor> = {};
  const refs: RefTensor[] = [];
  decls.forEach((d, i) => {
    const dims = d.shape.map((s) => (s === -1 ? batch : s));
    const n = dims.reduce((a, s) => a * s, 1);
    let data: InputTensor;
    if ((d.dtype ?? 'float32') === 'float32') data = uniform(random, n, d.lo ?? -2, d.hi ?? 2);
    else {
      const ints = Array.from({ length: n }, () => Math.floor(random() * (d.max ?? 4)));
      data = d.dtype === 'int64' ? BigInt64Array.from(ints, BigInt) : Int32Array.from(ints);
    }
    feeds[`x${i}`] = data;
    refs.push(refTensor(data, dims));
  });

  const session = await createInferenceSession({
    modelBytes: bytes,
    expectedInputs: toTensorSpecs(sig.inputs),
    expectedOutputs: toTensorSpecs(sig.outputs),
    provider: 'cpu',
    intraOpThreads: 1,
    logger: createMemoryLogger(),
  });
  try {
    const out = await session.run(feeds, batch);
    const got = out.y!;
    const ref = fn(new ReferenceOps(weights), refs);
    let maxAbsDiff = got.data.length === ref.data.length ? 0 : Infinity;
    for (let i = 0; i < ref.data.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(Number(got.data[i]) - ref.data[i]!));
    return { maxAbsDiff, ortDims: got.dims, refDims: ref.shape, staticShape: o.shape(y), nodes: o.builder.nodeCount };
  } finally {
    await session.close();
  }
}

/** Whether run-time `dims` fit a static shape (-1 matches anything). */
export function fitsStatic(staticShape: readonly number[], dims: readonly number[]): boolean {
  return staticShape.length === dims.length && staticShape.every((d, i) => d === -1 || d === dims[i]);
}
