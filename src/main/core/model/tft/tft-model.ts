import type { Ops } from '../ops';
import { attentionParams, interpretableAttention } from './attention';
import { STATIC_VARIABLES, decoderVariables, encoderChannelVariables, encoderVariables, type TftConfig } from './config';
import { sliceTime } from './dense';
import { gateAddNorm, gateAddNormParams, grn, grnParams } from './grn';
import { headsParams, outputHeads } from './heads';
import { staticEmbedding, staticEmbeddingParams } from './input-embedding';
import { genericLstmScan, lstmEncoderDecoder, lstmParams, type LstmLayer, type LstmScan } from './lstm';
import { assertUniqueNames, type ParamSpec } from './params';
import { staticContextParams, staticContexts } from './static-context';
import { variableSelection, vsnParams, type VsnArgs } from './variable-selection';

/**
 * The Temporal Fusion Transformer forward pass, written once against `Ops<T>` (TF.js for
 * training, the ONNX recorder for export). Lim et al. 2019 (arXiv 1912.09363), following
 * pytorch-forecasting's TemporalFusionTransformer where the paper leaves a choice open.
 *
 *   static (profile, server bucket) -> static VSN -> 4 static contexts
 *   encoder (observed + masks + known, Te steps) -> encoder VSN (selection context)
 *   decoder (known, Td steps)                      -> decoder VSN (selection context)
 *   -> LSTM encoder-decoder (initial state from the contexts)
 *   -> gate + add & norm (skip: the selected inputs)
 *   -> static enrichment GRN (enrichment context)
 *   -> interpretable multi-head attention (decoder queries, causal)
 *   -> gate + add & norm -> position-wise GRN -> gate + add & norm (skip: the LSTM block)
 *   -> quantile, risk and failure-mode heads
 */

/** Model inputs. Te = contextSteps, Td = horizonSteps, C observed channels, K known channels. */
export interface TftInputs<T> {
  /** (B, Te, C), scaled; 0 where missing. */
  observed: T;
  /** (B, Te, C): 1 where the channel reported in that step. */
  observedMask: T;
  /** (B, Te + Td, K): calendar features, known for the future too. */
  known: T;
  /** (B) int32: profile index. */
  profile: T;
  /** (B) int32: server hash bucket, 0 = unknown server. */
  serverBucket: T;
}

/** Model outputs, predictions and interpretation. */
export interface TftOutputs<T> {
  /** (B, Td, targets, Q): forecast quantiles per horizon step and target (scaled units). */
  quantiles: T;
  /** (B): logit and probability of an incident beginning within the horizon. */
  riskLogit: T;
  risk: T;
  /** (B, F): failure-mode logits and probabilities (class 0 = none). */
  failureLogits: T;
  failureMode: T;
  /** (B, 2): static variable importance [profile, server]. */
  staticWeights: T;
  /** (B, Te, G + K): encoder variable importance per step [observed groups..., known...] (tftVariableNames). */
  encoderWeights: T;
  /** (B, Td, K): decoder variable importance per step. */
  decoderWeights: T;
  /** (B, Td, Te + Td): attention of each horizon step over all steps, averaged over heads. */
  attention: T;
}

/**
 * The explanation outputs: the interpretation outputs summarised per window, what the app's
 * "why" reads (`fleet/explain.ts`). Computed from TftOutputs by `tftExplanation`, outside
 * `tftForward`, so training (which never calls it) runs exactly the same graph with or without
 * them. The static selection weights need no summary: `staticWeights` is already (B, 2).
 */
export interface TftExplanation<T> {
  /** (B, G + K): encoder variable selection weights averaged over the Te context steps; rows sum to 1. */
  pastVariableWeights: T;
  /** (B, K): decoder variable selection weights averaged over the Td horizon steps; rows sum to 1. */
  futureVariableWeights: T;
  /**
   * (B, Te): attention of the Td horizon steps (queries) onto the Te context steps (keys),
   * already averaged over heads, then averaged over the horizon steps and renormalised to sum
   * to 1 over the context (the share each query gave to horizon steps is dropped).
   */
  pastAttention: T;
}

/** Optional faster implementations of parts of the forward (same function, e.g. a fused LSTM). */
export interface TftKernels<T> {
  lstmScan?: LstmScan<T>;
  /** Each LSTM as one layer call (the ONNX export's LSTM nodes); takes precedence over lstmScan. */
  lstmLayer?: LstmLayer<T>;
}

function vsnArgs(c: TftConfig, variables: number, contextSize: number, input: 'embedded' | 'real'): VsnArgs {
  return { variables, variableHidden: c.variableHidden, hidden: c.hidden, contextSize, variableGrn: c.variableGrn, input, epsilon: c.layerNormEpsilon };
}

const staticVsnArgs = (c: TftConfig): VsnArgs => vsnArgs(c, STATIC_VARIABLES, 0, 'embedded');
const encoderVsnArgs = (c: TftConfig): VsnArgs => ({
  ...vsnArgs(c, encoderVariables(c), c.hidden, 'real'),
  channels: c.observedChannels + c.knownChannels,
  maskedChannels: c.observedChannels,
  channelVariable: encoderChannelVariables(c),
});
const decoderVsnArgs = (c: TftConfig): VsnArgs => vsnArgs(c, decoderVariables(c), c.hidden, 'real');

/** Every weight of the model: name, shape, initialisation. */
export function tftParams(c: TftConfig): ParamSpec[] {
  const h = c.hidden;
  const specs: ParamSpec[] = [
    ...staticEmbeddingParams('static_embedding', { profiles: c.profiles, serverBuckets: c.serverBuckets, width: c.variableHidden }),
    ...vsnParams('static_vsn', staticVsnArgs(c)),
    ...staticContextParams('static_context', { hidden: h }),
    ...vsnParams('encoder_vsn', encoderVsnArgs(c)),
    ...vsnParams('decoder_vsn', decoderVsnArgs(c)),
    ...lstmParams('lstm', { inputSize: h, hidden: h }),
    ...gateAddNormParams('post_lstm', { inputSize: h, outputSize: h }),
    ...grnParams('enrichment', { inputSize: h, hiddenSize: h, outputSize: h, contextSize: h }),
    ...attentionParams('attention', { hidden: h, heads: c.heads }),
    ...gateAddNormParams('post_attention', { inputSize: h, outputSize: h }),
    ...grnParams('positionwise', { inputSize: h, hiddenSize: h, outputSize: h }),
    ...gateAddNormParams('pre_output', { inputSize: h, outputSize: h }),
    ...headsParams('heads', { hidden: h, horizonSteps: c.horizonSteps, targets: c.targets, quantiles: c.quantiles.length, failureModes: c.failureModes }),
  ];
  assertUniqueNames(specs);
  return specs;
}

/** The forward pass. Shapes: see TftInputs and TftOutputs. */
export function tftForward<T>(ops: Ops<T>, c: TftConfig, inputs: TftInputs<T>, kernels: TftKernels<T> = {}): TftOutputs<T> {
  const h = c.hidden;
  const te = c.contextSteps;
  const td = c.horizonSteps;
  const eps = c.layerNormEpsilon;
  checkInputs(ops, c, inputs);

  // Static: two categorical variables -> one static embedding (B, H) -> four contexts.
  const se = staticEmbedding(ops, 'static_embedding', { profiles: c.profiles, serverBuckets: c.serverBuckets, width: c.variableHidden }, inputs.profile, inputs.serverBucket);
  const staticSel = variableSelection(ops, 'static_vsn', staticVsnArgs(c), { embeddings: se }); // (B, 1, H), (B, 1, 2)
  const staticVec = ops.reshape(staticSel.output, [-1, h]);
  const ctx = staticContexts(ops, 'static_context', { hidden: h, epsilon: eps }, staticVec);

  // Time-varying inputs, selected under the static selection context.
  const knownEncoder = sliceTime(ops, inputs.known, 0, te); // (B, Te, K)
  const knownDecoder = sliceTime(ops, inputs.known, te, td); // (B, Td, K)
  const encoderValues = ops.concat([inputs.observed, knownEncoder], 2); // (B, Te, C+K)
  const encoderSel = variableSelection(ops, 'encoder_vsn', encoderVsnArgs(c), { values: encoderValues, masks: inputs.observedMask }, ctx.selection); // (B, Te, H)
  const decoderSel = variableSelection(ops, 'decoder_vsn', decoderVsnArgs(c), { values: knownDecoder }, ctx.selection); // (B, Td, H)

  // Sequence: LSTM encoder-decoder, then gated skip back to the selected inputs.
  const lstmOut = lstmEncoderDecoder(ops, 'lstm', { inputSize: h, hidden: h }, encoderSel.output, decoderSel.output, ctx.stateH, ctx.stateC, kernels.lstmScan ?? genericLstmScan(ops), kernels.lstmLayer); // (B, T, H)
  const selected = ops.concat([encoderSel.output, decoderSel.output], 1); // (B, T, H)
  const temporal = gateAddNorm(ops, 'post_lstm', { inputSize: h, outputSize: h, epsilon: eps }, lstmOut, selected); // (B, T, H)

  // Static enrichment, then attention from the horizon steps over everything before them.
  const enriched = grn(ops, 'enrichment', { inputSize: h, hiddenSize: h, outputSize: h, contextSize: h, epsilon: eps }, temporal, ctx.enrichment); // (B, T, H)
  const att = interpretableAttention(ops, 'attention', { hidden: h, heads: c.heads }, enriched, te); // (B, Td, H), (B, Td, T)
  const attended = gateAddNorm(ops, 'post_attention', { inputSize: h, outputSize: h, epsilon: eps }, att.output, sliceTime(ops, enriched, te, td));
  const ff = grn(ops, 'positionwise', { inputSize: h, hiddenSize: h, outputSize: h, epsilon: eps }, attended);
  const features = gateAddNorm(ops, 'pre_output', { inputSize: h, outputSize: h, epsilon: eps }, ff, sliceTime(ops, temporal, te, td)); // (B, Td, H)

  const rawHeads = outputHeads(ops, 'heads', { hidden: h, horizonSteps: td, targets: c.targets, quantiles: c.quantiles.length, failureModes: c.failureModes }, features, ops.reshape(sliceTime(ops, temporal, te - 1, 1), [-1, h]));
  const heads = c.forecastBase ? { ...rawHeads, quantiles: withForecastBase(ops, c, c.forecastBase, rawHeads.quantiles, inputs.observed) } : rawHeads;
  return {
    ...heads,
    staticWeights: ops.reshape(staticSel.weights, [-1, STATIC_VARIABLES]),
    encoderWeights: encoderSel.weights,
    decoderWeights: decoderSel.weights,
    attention: att.weights,
  };
}

/** The explanation outputs of a forward's outputs; shapes in TftExplanation. */
export function tftExplanation<T>(ops: Ops<T>, c: TftConfig, y: Pick<TftOutputs<T>, 'encoderWeights' | 'decoderWeights' | 'attention'>): TftExplanation<T> {
  const past = ops.mean(ops.slice(y.attention, [0, 0, 0], [-1, -1, c.contextSteps]), 1, false); // (B, Te)
  return {
    pastVariableWeights: ops.mean(y.encoderWeights, 1, false), // (B, G + K)
    futureVariableWeights: ops.mean(y.decoderWeights, 1, false), // (B, K)
    pastAttention: ops.div(past, ops.sum(past, 1, true)), // (B, Te)
  };
}

/**
 * The quantile head's output (B, Td, targets, Q) as forecasts: plus each target's level now, then
 * (with `seasonal`) moved part of the way towards yesterday's value. The level, on the target
 * scale: observed (B, Te, C) -> last step (B, C) -> (B, targets) through one product with a
 * constant (C, targets) matrix that picks channel g and multiplies by scale[g], plus center ->
 * (B, 1, targets, 1). Yesterday's value of every horizon step comes the same way from the
 * context steps `lagSteps` before them -> (B, Td, targets, 1); the band moves by
 * blend[g] x (yesterday - median), keeping its width.
 */
function withForecastBase<T>(ops: Ops<T>, c: TftConfig, base: NonNullable<TftConfig['forecastBase']>, quantiles: T, observed: T): T {
  const C = c.observedChannels;
  const pick = ops.constant(
    (() => {
      const m = new Float32Array(C * c.targets);
      base.channels.forEach((ch, g) => (m[ch * c.targets + g] = base.scale[g]!));
      return m;
    })(),
    [C, c.targets],
  );
  const center = ops.constant(base.center, [c.targets]);
  const last = ops.reshape(sliceTime(ops, observed, c.contextSteps - 1, 1), [-1, C]);
  const level = ops.reshape(ops.add(ops.matMul(last, pick), center), [-1, 1, c.targets, 1]);
  const q = ops.add(quantiles, level);
  const seasonal = base.seasonal;
  if (!seasonal || seasonal.blend.every((b) => b === 0)) return q;
  const td = c.horizonSteps;
  const lagged = ops.reshape(sliceTime(ops, observed, c.contextSteps - seasonal.lagSteps, td), [-1, C]);
  const yesterday = ops.reshape(ops.add(ops.matMul(lagged, pick), center), [-1, td, c.targets, 1]);
  const median = ops.slice(q, [0, 0, 0, medianIndex(c.quantiles)], [-1, -1, -1, 1]);
  const shift = ops.mul(ops.sub(yesterday, median), ops.constant(seasonal.blend, [c.targets, 1]));
  return ops.add(q, shift);
}

/** The quantile closest to 0.5: the band's median. */
export function medianIndex(quantiles: readonly number[]): number {
  return quantiles.reduce((best, q, k) => (Math.abs(q - 0.5) < Math.abs(quantiles[best]! - 0.5) ? k : best), 0);
}

function checkInputs<T>(ops: Ops<T>, c: TftConfig, x: TftInputs<T>): void {
  const expect = (what: string, t: T, dims: number[]): void => {
    const s = ops.shape(t);
    // The batch (first axis) is free; -1 where the recorder leaves it dynamic.
    if (s.length !== dims.length || dims.some((d, i) => i > 0 && s[i] !== d)) {
      throw new Error(`TFT input ${what}: shape [${s.join(',')}], expected [B, ${dims.slice(1).join(', ')}]`);
    }
  };
  expect('observed', x.observed, [0, c.contextSteps, c.observedChannels]);
  expect('observedMask', x.observedMask, [0, c.contextSteps, c.observedChannels]);
  expect('known', x.known, [0, c.contextSteps + c.horizonSteps, c.knownChannels]);
  expect('profile', x.profile, [0]);
  expect('serverBucket', x.serverBucket, [0]);
}
