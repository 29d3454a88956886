import * as tf from '@tensorflow/tfjs';
import { assertUniqueNames, type ParamInit, type ParamSpec } from './params';
import { seededRandom } from '../../util/seeded-random';

export { seededRandom };

let storeCounter = 0;

/** One weight as it leaves TF.js: row-major float32 values and their shape. */
export interface SerializedWeight {
  data: Float32Array;
  shape: number[];
}

/** name -> weight; plain object so it survives `postMessage` (worker -> main) and JSON-ish storage. */
export type SerializedWeights = Record<string, SerializedWeight>;

/**
 * The TF.js home of the model's weights: one named `tf.Variable` per declared parameter.
 *
 * Initialisation is deterministic per (seed, name), not per creation order, so adding a layer does
 * not reshuffle every other layer's start: a run is reproducible from its seed alone.
 */
export class WeightStore {
  private readonly vars = new Map<string, tf.Variable>();
  private readonly specs = new Map<string, ParamSpec>();
  /** Names read through `get` since the last `resetUsage` (tests: every declared weight is used). */
  readonly used = new Set<string>();

  private constructor(specs: readonly ParamSpec[], seed: number) {
    assertUniqueNames(specs);
    // TF.js variable names are global to the engine: prefix them so two stores (a model and its
    // reloaded copy, a training run and a validation model) can coexist.
    const prefix = `tft${++storeCounter}/`;
    for (const spec of specs) {
      this.specs.set(spec.name, spec);
      const values = initialValues(spec, seed);
      // Variables outlive every tidy scope: they are the model, released only by dispose().
      const initial = tf.tensor(values, [...spec.shape], 'float32');
      this.vars.set(spec.name, tf.variable(initial, true, prefix + spec.name));
      initial.dispose();
    }
  }

  static create(specs: readonly ParamSpec[], seed: number): WeightStore {
    return new WeightStore(specs, seed);
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`unknown weight: ${name}`);
    this.used.add(name);
    return v;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  spec(name: string): ParamSpec | undefined {
    return this.specs.get(name);
  }

  /** Every trainable variable, in declaration order (what the optimizer updates). */
  variables(): tf.Variable[] {
    return [...this.vars.values()];
  }

  /** Total number of scalar parameters. */
  paramCount(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  resetUsage(): void {
    this.used.clear();
  }

  /** Copies every weight out of TF.js (synchronous read: call between steps, not inside tidy). */
  serialize(): SerializedWeights {
    const out: SerializedWeights = {};
    for (const [name, v] of this.vars) {
      out[name] = { data: v.dataSync<'float32'>().slice(), shape: [...v.shape] };
    }
    return out;
  }

  /**
   * Loads weights by name. All-or-nothing: every declared weight must be present with its exact
   * shape, and nothing else may be, or nothing is assigned (a half-loaded model predicts garbage).
   */
  load(weights: SerializedWeights): void {
    const problems: string[] = [];
    for (const [name, v] of this.vars) {
      const w = weights[name];
      if (!w) problems.push(`missing ${name}`);
      else if (w.shape.length !== v.shape.length || w.shape.some((d, i) => d !== v.shape[i])) {
        problems.push(`${name}: shape [${w.shape.join(',')}], expected [${v.shape.join(',')}]`);
      } else if (w.data.length !== v.size) problems.push(`${name}: ${w.data.length} values, expected ${v.size}`);
    }
    for (const name of Object.keys(weights)) if (!this.vars.has(name)) problems.push(`unexpected ${name}`);
    if (problems.length > 0) throw new Error(`cannot load weights: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? ` (+${problems.length - 8} more)` : ''}`);
    tf.tidy(() => {
      for (const [name, v] of this.vars) {
        const w = weights[name]!;
        v.assign(tf.tensor(w.data, w.shape, 'float32'));
      }
    });
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

/** FNV-1a over the string: the per-weight stream id. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}


function initialValues(spec: ParamSpec, seed: number): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const init: ParamInit = spec.init;
  if (init === 'zeros') return out;
  if (init === 'ones') return out.fill(1);
  if (typeof init === 'object' && 'values' in init) {
    if (init.values.length !== size) throw new Error(`${spec.name}: ${init.values.length} initial values for ${size}`);
    out.set(init.values);
    return out;
  }
  let limit: number;
  if (init === 'glorot') {
    const r = spec.shape.length;
    const fanIn = r >= 2 ? spec.shape[r - 2]! : 1;
    const fanOut = spec.shape[r - 1] ?? 1;
    limit = Math.sqrt(6 / (fanIn + fanOut));
  } else {
    limit = init.uniform;
  }
  const rand = seededRandom(hash32(`${seed >>> 0}:${spec.name}`));
  for (let i = 0; i < size; i++) out[i] = (rand() * 2 - 1) * limit;
  return out;
}
