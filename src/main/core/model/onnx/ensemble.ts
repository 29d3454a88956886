import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { decodeModel, OnnxBuildError } from './graph-builder';

const { onnx: proto } = onnxProto;

/**
 * An ensemble of models with the same signature as one ONNX graph: every member's nodes and
 * initializers under its own name prefix (`m0/`, `m1/`...), all reading the shared graph inputs,
 * and each graph output the element-wise `Mean` of the members' outputs of that name.
 *
 * For the TFT that is the usual deep-ensemble combination: the risk and the failure-mode
 * distribution are averaged probabilities, the forecast quantiles are averaged quantiles (a
 * quantile average of the members' bands), the interpretation outputs averaged weights. The
 * graph stays one file that one session runs, so inference, explanation and every consumer of
 * model.onnx work unchanged; it costs the members' compute, added up.
 *
 * The members must agree exactly on their inputs and outputs (names, element types, shapes),
 * their opsets and IR version; graph-valued attributes (If/Loop bodies) are refused, since their
 * names would need the same renaming inside.
 */
export interface EnsembleOptions {
  producerName?: string;
  docString?: string;
  /** Extra metadata_props; each member's own are kept under its prefix (`m0/tft_config`...). */
  metadata?: Readonly<Record<string, string>>;
}

export function mergeOnnxEnsemble(members: readonly Uint8Array[], options: EnsembleOptions = {}): Uint8Array {
  if (members.length < 2) throw new OnnxBuildError(`an ensemble needs at least 2 members, got ${members.length}`);
  const models = members.map((bytes, i) => {
    try {
      return decodeModel(bytes);
    } catch (e) {
      throw new OnnxBuildError(`member ${i}: not an ONNX model (${(e as Error).message})`);
    }
  });
  const first = models[0]!;
  const firstGraph = graphOf(first, 0);
  const inputSig = firstGraph.input?.map(signatureOf) ?? [];
  const outputSig = firstGraph.output?.map(signatureOf) ?? [];
  if (outputSig.length === 0) throw new OnnxBuildError('member 0 has no outputs');
  const opsets = JSON.stringify((first.opsetImport ?? []).map((o) => [o.domain ?? '', Number(o.version ?? 0)]));
  models.forEach((m, i) => {
    const g = graphOf(m, i);
    const inputs = g.input?.map(signatureOf) ?? [];
    const outputs = g.output?.map(signatureOf) ?? [];
    if (inputs.join('\n') !== inputSig.join('\n')) throw new OnnxBuildError(`member ${i}: inputs [${inputs.join('; ')}] differ from member 0's [${inputSig.join('; ')}]`);
    if (outputs.join('\n') !== outputSig.join('\n')) throw new OnnxBuildError(`member ${i}: outputs [${outputs.join('; ')}] differ from member 0's [${outputSig.join('; ')}]`);
    const o = JSON.stringify((m.opsetImport ?? []).map((x) => [x.domain ?? '', Number(x.version ?? 0)]));
    if (o !== opsets) throw new OnnxBuildError(`member ${i}: opsets ${o} differ from member 0's ${opsets}`);
    if (Number(m.irVersion ?? 0) !== Number(first.irVersion ?? 0)) throw new OnnxBuildError(`member ${i}: IR version ${String(m.irVersion)} differs from member 0's ${String(first.irVersion)}`);
  });

  const inputNames = new Set((firstGraph.input ?? []).map((v) => v.name ?? ''));
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  models.forEach((m, i) => {
    const g = graphOf(m, i);
    const prefix = `m${i}/`;
    const rename = (name: string): string => (name === '' || inputNames.has(name) ? name : prefix + name);
    for (const t of g.initializer ?? []) initializers.push({ ...t, name: rename(t.name ?? '') });
    if ((g.sparseInitializer ?? []).length > 0) throw new OnnxBuildError(`member ${i}: sparse initializers are not supported`);
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        if (a.g || (a.graphs ?? []).length > 0) throw new OnnxBuildError(`member ${i}: node ${n.name ?? n.opType ?? '?'} has a graph attribute (${a.name ?? '?'}), which an ensemble cannot rename`);
      }
      nodes.push({ ...n, name: prefix + (n.name ?? n.opType ?? 'node'), input: (n.input ?? []).map(rename), output: (n.output ?? []).map(rename) });
    }
  });
  for (const out of firstGraph.output ?? []) {
    const name = out.name ?? '';
    nodes.push({ opType: 'Mean', name: `ensemble_mean_${name}`, input: models.map((_, i) => `m${i}/${name}`), output: [name] });
  }

  const model = proto.ModelProto.create({
    irVersion: Number(first.irVersion ?? 0),
    opsetImport: first.opsetImport,
    producerName: options.producerName ?? first.producerName ?? '',
    producerVersion: first.producerVersion ?? '',
    docString: options.docString ?? `Ensemble of ${models.length} models: each output is the mean of the members'`,
    modelVersion: Number(first.modelVersion ?? 1),
    metadataProps: [
      ...models.flatMap((m, i) => (m.metadataProps ?? []).map((p) => ({ key: `m${i}/${p.key ?? ''}`, value: p.value ?? '' }))),
      ...Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    ],
    graph: {
      name: firstGraph.name ?? 'main',
      node: nodes,
      initializer: initializers,
      input: firstGraph.input,
      output: firstGraph.output,
    },
  });
  return proto.ModelProto.encode(model).finish();
}

function graphOf(m: onnx.ModelProto, i: number): onnx.IGraphProto {
  if (!m.graph) throw new OnnxBuildError(`member ${i}: the model has no graph`);
  return m.graph;
}

/** "name: elemType [dims]" of a graph input or output. */
function signatureOf(v: onnx.IValueInfoProto): string {
  const t = v.type?.tensorType;
  const dims = (t?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : String(d.dimValue ?? '?')));
  return `${v.name ?? ''}: ${String(t?.elemType ?? '?')} [${dims.join(', ')}]`;
}
