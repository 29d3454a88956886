import type { Ops } from '../ops';
import { grn, grnParams } from './grn';
import type { ParamSpec } from './params';

/**
 * Static covariate encoders (Lim et al. 2019, sec. 4.3): four GRNs read the static embedding and
 * produce the contexts that condition the rest of the network on "which server, which profile":
 *   selection   -> the encoder and decoder variable selection networks
 *   stateH      -> the LSTM's initial hidden state
 *   stateC      -> the LSTM's initial cell state
 *   enrichment  -> the static enrichment GRN
 * Four plain GRNs on (B, H): tiny products, which XNNPACK runs faster than one batched
 * (grouped) GRN would on wasm (its batched kernel is the naive one, and the shared input would
 * have to be tiled).
 */
export interface StaticContextArgs {
  /** Width H of the static embedding and of every context. */
  hidden: number;
  /** Layer-norm epsilon. Default 1e-5. */
  epsilon?: number;
}

export interface StaticContexts<T> {
  /** (B, H) each. */
  selection: T;
  stateH: T;
  stateC: T;
  enrichment: T;
}

const ORDER = ['selection', 'stateH', 'stateC', 'enrichment'] as const;

export function staticContextParams(name: string, args: StaticContextArgs): ParamSpec[] {
  const h = args.hidden;
  return ORDER.flatMap((context) => grnParams(`${name}.${context}`, { inputSize: h, hiddenSize: h, outputSize: h }));
}

/** staticEmbedding (B, H) -> four contexts (B, H). */
export function staticContexts<T>(ops: Ops<T>, name: string, args: StaticContextArgs, staticEmbedding: T): StaticContexts<T> {
  const h = args.hidden;
  const one = (context: (typeof ORDER)[number]): T => grn(ops, `${name}.${context}`, { inputSize: h, hiddenSize: h, outputSize: h, epsilon: args.epsilon }, staticEmbedding);
  return { selection: one('selection'), stateH: one('stateH'), stateC: one('stateC'), enrichment: one('enrichment') };
}
