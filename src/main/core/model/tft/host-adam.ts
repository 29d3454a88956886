import * as tf from '@tensorflow/tfjs';

/**
 * Adam (Kingma & Ba 2015) whose update runs in plain JavaScript over Float32Arrays.
 *
 * Why: tf.train.adam issues ~15 kernels per variable per step; with ~130 weight tensors that is
 * ~2,000 dispatches, 30-50 ms a step on the wasm backend, for arithmetic on 80k numbers that a
 * JS loop does in well under a millisecond. Here each variable costs one gradient read and one
 * assign. The moments live in JS memory, so nothing leaks into TF.js's tensor count.
 *
 * Same update as tf.train.adam (bias-corrected moments), plus optional global-norm gradient
 * clipping (LSTMs occasionally spike) and decoupled weight decay (AdamW; 0 = plain Adam).
 */
export interface HostAdamArgs {
  /** Step size. Default 1e-3. */
  learningRate?: number;
  /** Moment decay rates. Defaults 0.9 and 0.999. */
  beta1?: number;
  beta2?: number;
  /** Denominator guard. Default 1e-7 (TF.js's default). */
  epsilon?: number;
  /** Rescale all gradients together when their global L2 norm exceeds this; 0 = off. Default 0. */
  clipNorm?: number;
  /** Decoupled weight decay per step, multiplied by the learning rate; 0 = off. Default 0. */
  weightDecay?: number;
}

/** Moments and step count, for checkpoints (resume continues the same trajectory). */
export interface HostAdamState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/** State is keyed by weight name without the store's engine prefix (`tft3/`), so it survives a restart. */
const stableName = (name: string): string => name.replace(/^tft\d+\//, '');

export class HostAdam extends tf.Optimizer {
  static get className(): string {
    return 'HostAdam';
  }

  learningRate: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly clipNorm: number;
  private readonly weightDecay: number;
  private step = 0;
  private m = new Map<string, Float32Array>();
  private v = new Map<string, Float32Array>();
  /** Global gradient norm of the last step, before clipping (a training-health signal). */
  lastGradNorm = 0;

  constructor(args: HostAdamArgs = {}) {
    super();
    this.learningRate = args.learningRate ?? 1e-3;
    this.beta1 = args.beta1 ?? 0.9;
    this.beta2 = args.beta2 ?? 0.999;
    this.epsilon = args.epsilon ?? 1e-7;
    this.clipNorm = args.clipNorm ?? 0;
    this.weightDecay = args.weightDecay ?? 0;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    // `minimize` with a varList passes every variable, with no tensor for those that did not
    // influence the loss (e.g. an unused failure head in a batch without incidents): skip those.
    const entries = (
      Array.isArray(variableGradients) ? variableGradients.map((g): [string, tf.Tensor | undefined] => [g.name, g.tensor]) : Object.entries(variableGradients)
    ).filter((e): e is [string, tf.Tensor] => e[1] instanceof tf.Tensor);
    const registered = tf.engine().registeredVariables;
    const grads = entries.map(([name, g]) => {
      const variable = registered[name];
      if (!variable) throw new Error(`HostAdam: no variable named ${name}`);
      return { name: stableName(name), variable, g: g.dataSync<'float32'>() };
    });

    let sq = 0;
    for (const { g } of grads) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
    this.lastGradNorm = Math.sqrt(sq);
    const scale = this.clipNorm > 0 && this.lastGradNorm > this.clipNorm ? this.clipNorm / this.lastGradNorm : 1;

    this.step++;
    this.incrementIterations();
    const b1 = this.beta1;
    const b2 = this.beta2;
    // Bias corrections applied to the moments themselves (epsilon outside the correction), as
    // tf.train.adam does: the same trajectory, also for parameters with near-zero gradients.
    const c1 = 1 - b1 ** this.step;
    const c2 = 1 - b2 ** this.step;
    const lr = this.learningRate;
    const decay = 1 - this.learningRate * this.weightDecay;
    for (const { name, variable, g } of grads) {
      if (!variable.trainable) continue;
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        m = new Float32Array(g.length);
        v = new Float32Array(g.length);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const w = variable.dataSync<'float32'>().slice();
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]! * scale;
        const mi = b1 * m[i]! + (1 - b1) * gi;
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i]! * decay - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + this.epsilon);
      }
      const next = tf.tensor(w, variable.shape, 'float32');
      variable.assign(next);
      next.dispose();
    }
  }

  getState(): HostAdamState {
    const copy = (src: Map<string, Float32Array>): Record<string, Float32Array> => Object.fromEntries([...src].map(([k, a]) => [k, a.slice()]));
    return { step: this.step, m: copy(this.m), v: copy(this.v) };
  }

  setState(state: HostAdamState): void {
    this.step = state.step;
    this.m = new Map(Object.entries(state.m).map(([k, a]) => [k, a.slice()]));
    this.v = new Map(Object.entries(state.v).map(([k, a]) => [k, a.slice()]));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      clipNorm: this.clipNorm,
      weightDecay: this.weightDecay,
    };
  }
}
