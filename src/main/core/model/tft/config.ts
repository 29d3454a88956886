import type { FeatureSpec } from '../features/feature-spec';

/**
 * Everything that fixes the TFT's weights and graph. Data sizes come from the FeatureSpec
 * (`tftConfigFromSpec`); the hyper-parameters default to what trains fast on a 2-core machine
 * with the wasm backend (see bench/tft-train.bench.ts).
 */
export interface TftConfig {
  /** Encoder steps (history) and decoder steps (forecast horizon), in model steps. */
  contextSteps: number;
  horizonSteps: number;
  /** Observed channels C (each with a missing-value mask) and known calendar channels K. */
  observedChannels: number;
  knownChannels: number;
  /**
   * The encoder variable of each observed channel (length C, values 0..G-1): channels of one
   * metric (its mean, max, slope) form one variable, so selection weights read "memory", not
   * "memory:max", and the encoder selects among G + K variables instead of C + K. Absent: one
   * variable per channel.
   */
  observedGroups?: number[];
  /** Forecast targets and the quantiles predicted for each (ascending, e.g. [0.1, 0.5, 0.9]). */
  targets: number;
  quantiles: number[];
  /** Failure-mode classes, index 0 = none. */
  failureModes: number;
  /** Static vocabularies: profiles, and server hash buckets (bucket 0 = unknown server). */
  profiles: number;
  serverBuckets: number;

  /** Model width H. Default 24: 32 costs ~20% more per training step on wasm (README). */
  hidden: number;
  /** Attention heads; must divide `hidden`. Default 4. */
  heads: number;
  /**
   * Width of each input variable's embedding and of its GRN (pytorch-forecasting's
   * hidden_continuous_size). The selection-weighted sum of the variables is projected to `hidden`
   * when smaller. Default 8.
   */
  variableHidden: number;
  /**
   * Per-variable GRN weights: 'shared' runs one GRN over all variables' embeddings (each variable
   * still has its own input embedding), as one large 2-D product; 'per-variable' gives every
   * variable its own GRN weights (the paper), run as batched products; 'none' uses the
   * embeddings as they are. Default 'shared': see the README of this folder for the cost of each.
   */
  variableGrn: 'shared' | 'per-variable' | 'none';
  /** Layer-norm epsilon. Default 1e-5. */
  layerNormEpsilon: number;
  /**
   * Forecasts as a change from now: target g's quantiles are added to its level in the last
   * context step, read from observed channel `channels[g]` (the metric's mean) and brought back
   * from the standardised input to the target's scale (x * scale[g] + center[g]). A missing last
   * value reads as the training mean. Constants of the graph, not weights. Without it, a slow
   * metric like disk was forecast from scratch through every layer norm (MASE 4.7 against
   * yesterday's value).
   */
  forecastBase?: {
    channels: number[];
    center: number[];
    scale: number[];
    /**
     * Then each target's band is moved `blend[g]` of the way from its median towards the value
     * `lagSteps` before each horizon step (yesterday's, read from the same channel: the seasonal
     * naive forecast). Fitted on validation windows after training (train/seasonal-blend.ts);
     * absent or all zero during training, so the weights never depend on it.
     */
    seasonal?: { lagSteps: number; blend: number[] };
  };
}

export type TftHyperParams = Pick<TftConfig, 'hidden' | 'heads' | 'variableHidden' | 'variableGrn' | 'layerNormEpsilon'> & {
  /** Encoder variables from the spec's observed channels: one per 'metric' (default) or per 'channel'. */
  observedVariables: 'metric' | 'channel';
};

export const DEFAULT_HYPER_PARAMS: Readonly<TftHyperParams> = {
  hidden: 24,
  heads: 4,
  variableHidden: 8,
  variableGrn: 'shared',
  layerNormEpsilon: 1e-5,
  observedVariables: 'metric',
};

export function tftConfigFromSpec(spec: FeatureSpec, overrides: Partial<TftHyperParams> = {}): TftConfig {
  const { observedVariables, ...hyper } = { ...DEFAULT_HYPER_PARAMS, ...overrides };
  return validateConfig({
    contextSteps: spec.contextSteps,
    horizonSteps: spec.horizonSteps,
    observedChannels: spec.observed.length,
    knownChannels: spec.known.length,
    ...(observedVariables === 'metric' ? { observedGroups: groupsByMetric(spec.observed) } : {}),
    targets: spec.targets.length,
    quantiles: [...spec.quantiles],
    failureModes: spec.failureModes.length,
    profiles: spec.profiles.length,
    serverBuckets: spec.serverBuckets,
    ...hyper,
    ...forecastBaseOf(spec),
  });
}

/** The forecast base of every target (its ":mean" channel), when the spec is standardised and has them all. */
function forecastBaseOf(spec: FeatureSpec): { forecastBase?: NonNullable<TftConfig['forecastBase']> } {
  const n = spec.normalization;
  if (!n) return {};
  const channels = spec.targets.map((t) => spec.observed.indexOf(`${t}:mean`));
  if (channels.some((c) => c < 0)) return {};
  return { forecastBase: { channels, center: channels.map((c) => n.center[c]!), scale: channels.map((c) => n.scale[c]!) } };
}

/** "cpu_percent:mean", "cpu_percent:max" -> the same group, numbered in order of first appearance. */
function groupsByMetric(observed: readonly string[]): number[] {
  const index = new Map<string, number>();
  return observed.map((name) => {
    const metric = name.split(':')[0]!;
    if (!index.has(metric)) index.set(metric, index.size);
    return index.get(metric)!;
  });
}

/** Names of the variables behind the interpretation outputs (static, encoder, decoder weights). */
export function tftVariableNames(spec: Pick<FeatureSpec, 'observed' | 'known'>, c: TftConfig): { static: string[]; encoder: string[]; decoder: string[] } {
  const groups = c.observedGroups ?? spec.observed.map((_, i) => i);
  const observed: string[] = [];
  groups.forEach((g, i) => {
    const name = c.observedGroups ? spec.observed[i]!.split(':')[0]! : spec.observed[i]!;
    if (observed[g] === undefined) observed[g] = name;
  });
  return { static: ['profile', 'server'], encoder: [...observed, ...spec.known], decoder: [...spec.known] };
}

export function validateConfig(c: TftConfig): TftConfig {
  const positive: ('contextSteps' | 'horizonSteps' | 'observedChannels' | 'knownChannels' | 'targets' | 'hidden' | 'heads' | 'variableHidden' | 'profiles')[] = ['contextSteps', 'horizonSteps', 'observedChannels', 'knownChannels', 'targets', 'hidden', 'heads', 'variableHidden', 'profiles'];
  for (const k of positive) {
    const v: unknown = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`TFT config: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if (c.observedGroups) {
    const g = c.observedGroups;
    const count = new Set(g).size;
    if (g.length !== c.observedChannels || g.some((x) => !Number.isInteger(x) || x < 0 || x >= count)) {
      throw new Error(`TFT config: observedGroups must give each of the ${c.observedChannels} observed channels a group in 0..${count - 1}`);
    }
  }
  if (c.variableHidden < 2) throw new Error('TFT config: variableHidden must be >= 2');
  if (c.hidden % c.heads !== 0) throw new Error(`TFT config: heads (${c.heads}) must divide hidden (${c.hidden})`);
  if (c.quantiles.length === 0 || c.quantiles.some((q, i) => q <= 0 || q >= 1 || (i > 0 && q <= c.quantiles[i - 1]!))) {
    throw new Error(`TFT config: quantiles must be ascending in (0, 1), got [${c.quantiles.join(', ')}]`);
  }
  if (c.failureModes < 2) throw new Error('TFT config: failureModes needs "none" and at least one mode');
  if (c.serverBuckets < 1) throw new Error('TFT config: serverBuckets must be >= 1 (bucket 0 = unknown server)');
  const base = c.forecastBase;
  if (base) {
    if (base.channels.length !== c.targets || base.center.length !== c.targets || base.scale.length !== c.targets)
      throw new Error(`TFT config: forecastBase needs a channel, center and scale for each of the ${c.targets} targets`);
    if (base.channels.some((ch) => !Number.isInteger(ch) || ch < 0 || ch >= c.observedChannels))
      throw new Error(`TFT config: forecastBase channels must be observed channels 0..${c.observedChannels - 1}`);
    const seasonal = base.seasonal;
    if (seasonal) {
      if (!Number.isInteger(seasonal.lagSteps) || seasonal.lagSteps < c.horizonSteps || seasonal.lagSteps > c.contextSteps)
        throw new Error(
          `TFT config: forecastBase.seasonal.lagSteps must be an integer from horizonSteps (${c.horizonSteps}) to contextSteps (${c.contextSteps}), got ${seasonal.lagSteps}`,
        );
      if (seasonal.blend.length !== c.targets || seasonal.blend.some((b) => !(b >= 0 && b <= 1)))
        throw new Error(`TFT config: forecastBase.seasonal.blend needs one value in [0, 1] for each of the ${c.targets} targets`);
    }
  }
  return c;
}

/** Encoder variables: the observed groups (one per channel without groups), then every known channel. */
export const encoderVariables = (c: TftConfig): number => (c.observedGroups ? new Set(c.observedGroups).size : c.observedChannels) + c.knownChannels;

/** The encoder variable of every encoder input channel: observed channels, then known channels. */
export function encoderChannelVariables(c: TftConfig): number[] {
  const observed = c.observedGroups ?? Array.from({ length: c.observedChannels }, (_, i) => i);
  const g = encoderVariables(c) - c.knownChannels;
  return [...observed, ...Array.from({ length: c.knownChannels }, (_, k) => g + k)];
}
/** Decoder variables: the known channels. */
export const decoderVariables = (c: TftConfig): number => c.knownChannels;
/** Static variables: profile and server bucket. */
export const STATIC_VARIABLES = 2;
