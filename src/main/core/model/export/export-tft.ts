import type { FeatureSpec } from '../features/feature-spec';
import { type TFT_INPUT_NAMES } from './feeds';
import { OnnxOps, type OnnxValue, type WeightTensor } from '../onnx/onnx-ops';
import { ONNX_OPSET } from '../onnx/graph-builder';
import { tftVariableNames, validateConfig, type TftConfig } from '../tft/config';
import { tftExplanation, tftForward, tftParams, type TftInputs, type TftOutputs } from '../tft/tft-model';
import type { SerializedWeights } from '../tft/weight-store';

/**
 * Export of the Temporal Fusion Transformer to ONNX (opset 17): the same `tftForward` that TF.js
 * trains, replayed on the ONNX recorder (`OnnxOps`) through the plain `Ops` surface only (no
 * fused kernels: TfjsOps' fast paths compute the same function), with the weights as
 * initializers. Each LSTM is one ONNX LSTM node. Batch is the only dynamic dimension. The
 * explanation outputs (`tftExplanation`) are computed in the graph after the forward.
 *
 * The returned signature is what model.json records (`onnx.inputs` / `onnx.outputs`): names,
 * dtypes, shapes with -1 for the batch, a doc string per tensor, and the valid range of the two
 * index inputs (createInferenceSession refuses an index outside it before running).
 */

/** One graph input or output as model.json's TensorDoc and createInferenceSession's TensorSpec take it. */
export interface ExportedTensor {
  name: string;
  dtype: 'float32' | 'int32';
  /** Static sizes, -1 for the batch (always the first axis). */
  shape: number[];
  /** Shape, dtype, units and scaling, for people (docs/model.md, the Models view). */
  doc: string;
  /** Index inputs only: inclusive valid range. */
  range?: [number, number];
}

export interface ExportedTft {
  bytes: Uint8Array;
  inputs: ExportedTensor[];
  outputs: ExportedTensor[];
  /** Nodes in the graph (before onnxruntime's optimisations). */
  nodes: number;
}

/** Anything that carries a TFT's configuration and trained weights (TftModel does). */
export type TftSource = { config: TftConfig; serialize(): SerializedWeights } | { config: TftConfig; weights: SerializedWeights };

export interface ExportTftOptions {
  /** ModelProto.doc_string; default a one-line description of the config. */
  docString?: string;
  /** Extra ModelProto.metadata_props (the exporter adds `tft_config` and `variables`). */
  metadata?: Readonly<Record<string, string>>;
  /**
   * Include the explanation outputs (past_variable_weights, future_variable_weights,
   * past_attention). Default true; false writes the graph models had before them (tests of
   * older model folders).
   */
  explanation?: boolean;
  /**
   * Extra outputs for debugging parity: named intermediate values of the recorded forward.
   * Called with the recorder and the forward's outputs; whatever it returns becomes outputs.
   */
  extraOutputs?: (ops: OnnxOps, outputs: TftOutputs<OnnxValue>) => Readonly<Record<string, OnnxValue>>;
}

/**
 * Graph output names: predictions, then the per-step interpretation, then the explanation
 * outputs (`tftExplanation`, names in TFT_EXPLANATION_OUTPUTS), which models exported before
 * them lack.
 */
export const TFT_OUTPUT_NAMES = [
  'quantiles',
  'risk',
  'failure_mode',
  'static_weights',
  'encoder_weights',
  'decoder_weights',
  'attention',
  'past_variable_weights',
  'future_variable_weights',
  'past_attention',
] as const;

export class TftExportError extends Error {
  override readonly name = 'TftExportError';
}

export function exportTftToOnnx(source: TftSource, spec: FeatureSpec, options: ExportTftOptions = {}): ExportedTft {
  const c = validateConfig(source.config);
  checkConfigMatchesSpec(c, spec);
  const serialized = 'weights' in source ? source.weights : source.serialize();
  const weights = weightMap(c, serialized);
  const names = tftVariableNames(spec, c);

  const ops = new OnnxOps(weights);
  const te = c.contextSteps;
  const td = c.horizonSteps;
  const C = c.observedChannels;
  const K = c.knownChannels;
  const docs = inputDocs(c, spec);
  const input = (name: (typeof TFT_INPUT_NAMES)[number], dtype: 'float32' | 'int32', shape: number[]): OnnxValue => ops.input({ name, dtype, shape, doc: docs[name] });
  const inputs: TftInputs<OnnxValue> = {
    observed: input('observed', 'float32', [-1, te, C]),
    observedMask: input('observed_mask', 'float32', [-1, te, C]),
    known: input('known', 'float32', [-1, te + td, K]),
    profile: input('profile', 'int32', [-1]),
    serverBucket: input('server_bucket', 'int32', [-1]),
  };
  // Each LSTM as one ONNX LSTM node (the recurrence of lstm.ts; the parity tests hold it to TF.js).
  const y = tftForward(ops, c, inputs, { lstmLayer: (x, wx, wh, b, h0, c0) => ops.lstm(x, wx, wh, b, h0, c0) });
  const withExplanation = options.explanation ?? true;
  const e = withExplanation ? tftExplanation(ops, c, y) : null;

  const outDocs = outputDocs(c, spec, names);
  const expected: Record<(typeof TFT_OUTPUT_NAMES)[number], { value: OnnxValue | undefined; shape: number[] }> = {
    quantiles: { value: y.quantiles, shape: [-1, td, c.targets, c.quantiles.length] },
    risk: { value: y.risk, shape: [-1] },
    failure_mode: { value: y.failureMode, shape: [-1, c.failureModes] },
    static_weights: { value: y.staticWeights, shape: [-1, 2] },
    encoder_weights: { value: y.encoderWeights, shape: [-1, te, names.encoder.length] },
    decoder_weights: { value: y.decoderWeights, shape: [-1, td, names.decoder.length] },
    attention: { value: y.attention, shape: [-1, td, te + td] },
    past_variable_weights: { value: e?.pastVariableWeights, shape: [-1, names.encoder.length] },
    future_variable_weights: { value: e?.futureVariableWeights, shape: [-1, names.decoder.length] },
    past_attention: { value: e?.pastAttention, shape: [-1, te] },
  };
  for (const name of TFT_OUTPUT_NAMES) {
    const { value, shape } = expected[name];
    if (value === undefined) continue; // an explanation output left out (options.explanation false)
    if (value.shape.join(',') !== shape.join(',')) {
      throw new TftExportError(`output ${name}: the recorded graph gives [${value.shape.join(', ')}], the signature promises [${shape.join(', ')}]`);
    }
    ops.output(value, name, outDocs[name]);
  }
  for (const [name, value] of Object.entries(options.extraOutputs?.(ops, y) ?? {})) ops.output(value, name, `debug: ${name}`);

  const unused = ops.unusedWeights();
  if (unused.length > 0) throw new TftExportError(`weights the forward never used (config and weights disagree): ${unused.slice(0, 8).join(', ')}`);

  const bytes = ops.toBytes({
    producerName: 'tft-export',
    docString: options.docString ?? `Temporal Fusion Transformer: ${te} context + ${td} horizon steps of ${spec.stepMinutes} min, hidden ${c.hidden}, ${c.heads} heads`,
    metadata: { ...options.metadata, tft_config: JSON.stringify(c), variables: JSON.stringify(names) },
  });

  const ranges: Partial<Record<string, [number, number]>> = { profile: [0, c.profiles - 1], server_bucket: [0, c.serverBuckets - 1] };
  const sig = ops.builder.signature();
  const toTensor = (s: { name: string; dtype: string; shape: readonly number[]; doc?: string }): ExportedTensor => {
    if (s.dtype !== 'float32' && s.dtype !== 'int32') throw new TftExportError(`${s.name}: unexpected dtype ${s.dtype}`);
    const range = ranges[s.name];
    return { name: s.name, dtype: s.dtype, shape: [...s.shape], doc: s.doc ?? '', ...(range ? { range } : {}) };
  };
  return { bytes, inputs: sig.inputs.map(toTensor), outputs: sig.outputs.map(toTensor), nodes: ops.builder.nodeCount };
}

/** The data sizes of the config must be the spec's: model.json records the spec next to the graph. */
function checkConfigMatchesSpec(c: TftConfig, spec: FeatureSpec): void {
  const pairs: [string, number, number][] = [
    ['contextSteps', c.contextSteps, spec.contextSteps],
    ['horizonSteps', c.horizonSteps, spec.horizonSteps],
    ['observedChannels', c.observedChannels, spec.observed.length],
    ['knownChannels', c.knownChannels, spec.known.length],
    ['targets', c.targets, spec.targets.length],
    ['quantiles', c.quantiles.length, spec.quantiles.length],
    ['failureModes', c.failureModes, spec.failureModes.length],
    ['profiles', c.profiles, spec.profiles.length],
    ['serverBuckets', c.serverBuckets, spec.serverBuckets],
  ];
  const bad = pairs.filter(([, a, b]) => a !== b).map(([k, a, b]) => `${k} ${a} (config) vs ${b} (spec)`);
  if (c.quantiles.some((q, i) => q !== spec.quantiles[i])) bad.push(`quantiles [${c.quantiles.join(', ')}] vs [${spec.quantiles.join(', ')}]`);
  if (bad.length > 0) throw new TftExportError(`TFT config does not match the feature spec: ${bad.join('; ')}`);
}

/** Every declared weight, with its declared shape; nothing else. */
function weightMap(c: TftConfig, serialized: SerializedWeights): Map<string, WeightTensor> {
  const out = new Map<string, WeightTensor>();
  const problems: string[] = [];
  const declared = tftParams(c);
  for (const p of declared) {
    const w = serialized[p.name];
    const n = p.shape.reduce((a, d) => a * d, 1);
    if (!w) problems.push(`missing ${p.name}`);
    else if (w.shape.join(',') !== p.shape.join(',') || w.data.length !== n) problems.push(`${p.name}: [${w.shape.join(', ')}] (${w.data.length} values), expected [${p.shape.join(', ')}]`);
    else if (w.data.some((v) => !Number.isFinite(v))) problems.push(`${p.name}: not finite`);
    else out.set(p.name, { data: w.data, shape: [...p.shape] });
  }
  const known = new Set(declared.map((p) => p.name));
  for (const name of Object.keys(serialized)) if (!known.has(name)) problems.push(`unexpected ${name}`);
  if (problems.length > 0) throw new TftExportError(`cannot export: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? ` (+${problems.length - 8} more)` : ''}`);
  return out;
}

const list = (xs: readonly string[]): string => xs.join(', ');

function inputDocs(c: TftConfig, spec: FeatureSpec): Record<(typeof TFT_INPUT_NAMES)[number], string> {
  const te = c.contextSteps;
  const t = c.contextSteps + c.horizonSteps;
  const step = `${spec.stepMinutes}-minute steps`;
  return {
    observed:
      `(batch, ${te}, ${c.observedChannels}) float32: the context window, ${te} ${step} ending at the forecast time t (oldest first), ` +
      `observed channels [${list(spec.observed)}], each scaled by featureSpec.scaling (linear: x / scale; log1p: log1p(x / scale) / log1p(reference / scale); ` +
      `slope channels in scaled units per hour)` +
      (spec.normalization ? `, then standardised by featureSpec.normalization ((scaled - center[f]) / scale[f], fitted on the training split)` : '') +
      `; 0 where the channel has no valid sample (see observed_mask).`,
    observed_mask:
      `(batch, ${te}, ${c.observedChannels}) float32 in [0, 1]: share of the step's sample slots that held a valid value for the channel's metric; ` +
      `0 = missing (observed is then 0).`,
    known:
      `(batch, ${t}, ${c.knownChannels}) float32: calendar channels [${list(spec.known)}] for the ${c.contextSteps} context steps then the ` +
      `${c.horizonSteps} horizon steps, from each step's start (UTC shifted by ${spec.utcOffsetMinutes} min); sin/cos in [-1, 1], weekend 0 or 1.`,
    profile: `(batch) int32: index into featureSpec.profiles [${list(spec.profiles)}], in [0, ${c.profiles - 1}].`,
    server_bucket: `(batch) int32: server hash bucket in [0, ${c.serverBuckets - 1}]; 0 = a server unknown to the model (predicted through its profile).`,
  };
}

function outputDocs(c: TftConfig, spec: FeatureSpec, names: { static: string[]; encoder: string[]; decoder: string[] }): Record<(typeof TFT_OUTPUT_NAMES)[number], string> {
  const te = c.contextSteps;
  const td = c.horizonSteps;
  return {
    quantiles:
      `(batch, ${td}, ${c.targets}, ${c.quantiles.length}) float32: forecast quantiles [${list(spec.quantiles.map(String))}] of targets [${list(spec.targets)}] ` +
      `for each of the ${td} horizon steps after t, in scaled units (invert featureSpec.scaling for metric units); not forced to be monotone.`,
    risk: `(batch) float32 in [0, 1]: probability that an incident begins within the horizon (t, t + ${td * spec.stepMinutes} min].`,
    failure_mode: `(batch, ${c.failureModes}) float32, rows sum to 1: probabilities of failure modes [${list(spec.failureModes)}] (index 0 = none).`,
    static_weights: `(batch, 2) float32, rows sum to 1: static variable selection weights [${list(names.static)}].`,
    encoder_weights: `(batch, ${te}, ${names.encoder.length}) float32, each step sums to 1: encoder variable selection weights per context step [${list(names.encoder)}].`,
    decoder_weights: `(batch, ${td}, ${names.decoder.length}) float32, each step sums to 1: decoder variable selection weights per horizon step [${list(names.decoder)}].`,
    attention:
      `(batch, ${td}, ${te + td}) float32, each row sums to 1: attention of each horizon step over the ${te} context and ${td} horizon steps ` +
      `(causal: zero after the query step), averaged over the ${c.heads} heads.`,
    past_variable_weights:
      `(batch, ${names.encoder.length}) float32, rows sum to 1: encoder variable selection weights averaged over the ${te} context steps ` +
      `[${list(names.encoder)}] (explanation output).`,
    future_variable_weights:
      `(batch, ${names.decoder.length}) float32, rows sum to 1: decoder variable selection weights averaged over the ${td} horizon steps ` +
      `[${list(names.decoder)}] (explanation output).`,
    past_attention:
      `(batch, ${te}) float32, rows sum to 1: attention of the ${td} horizon steps onto the ${te} context steps (oldest first), ` +
      `averaged over heads and horizon steps and renormalised over the context (explanation output).`,
  };
}

/** The ONNX section of a model.json draft for an export (the writer adds file, sha256 and size). */
export function onnxSectionDraft(exported: Pick<ExportedTft, 'inputs' | 'outputs'>): { opset: number; inputs: ExportedTensor[]; outputs: ExportedTensor[] } {
  return { opset: ONNX_OPSET, inputs: exported.inputs, outputs: exported.outputs };
}
