/**
 * Parameter declarations. `Ops.weight(name)` only names a weight; its shape and initialisation are
 * declared here, once per layer family (`grnParams`, `vsnParams`, ...), so the TF.js weight store
 * can create it and the ONNX exporter can check the trained weights it is given.
 */

/** How a weight starts. Glorot uses the last two axes as (fanIn, fanOut): leading axes are groups. */
export type ParamInit = 'glorot' | 'zeros' | 'ones' | { readonly uniform: number } | { readonly values: readonly number[] };

export interface ParamSpec {
  /** Unique, stable, dot-separated (`encoder_vsn.flat_grn.fc1.w`): the name in the model file. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: ParamInit;
}

/** A dense layer's weight `${name}.w` (inSize, outSize) and, unless `bias` is false, `${name}.b` (outSize). */
export function denseParams(name: string, inSize: number, outSize: number, bias = true): ParamSpec[] {
  const specs: ParamSpec[] = [{ name: `${name}.w`, shape: [inSize, outSize], init: 'glorot' }];
  if (bias) specs.push({ name: `${name}.b`, shape: [outSize], init: 'zeros' });
  return specs;
}

/** Layer-norm scale (ones) and offset (zeros), both (size). */
export function layerNormParams(name: string, size: number): ParamSpec[] {
  return [
    { name: `${name}.gamma`, shape: [size], init: 'ones' },
    { name: `${name}.beta`, shape: [size], init: 'zeros' },
  ];
}

export function paramCount(specs: readonly ParamSpec[]): number {
  return specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** Throws on a duplicated name: two layers writing the same weight is always a bug. */
export function assertUniqueNames(specs: readonly ParamSpec[]): void {
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name)) throw new Error(`duplicate parameter name: ${s.name}`);
    seen.add(s.name);
  }
}
