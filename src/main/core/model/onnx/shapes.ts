import { OnnxBuildError } from './graph-builder';

/** Static shapes: -1 marks a dimension known only at run time (the batch). */

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

export function formatShape(shape: readonly number[]): string {
  return `(${shape.map((d) => (d === -1 ? 'B' : String(d))).join(', ')})`;
}

/**
 * numpy broadcasting, right-aligned. A dynamic dim meets 1 or itself; against a fixed size > 1
 * it is refused: it would only work if the batch happened to equal that size, which is a bug in
 * the forward pass, not a model.
 */
export function broadcastShapes(a: readonly number[], b: readonly number[], what: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw new OnnxBuildError(`${what}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast`);
  }
  return out;
}
