import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

/**
 * Shared pieces of the fuzz suites. The case count comes from FUZZ_RUNS: small (200) when the
 * suites run inside `npm test`, 10,000 under `npm run fuzz` (scripts/fuzz/vitest.config.ts).
 */
export const FUZZ_RUNS = positiveInt(process.env.FUZZ_RUNS, 200);

/** Per-test timeout that scales with the case count (the default 20 s is for small runs). */
export function fuzzTimeout(msPerCase: number, floorMs = 20_000): number {
  return Math.max(floorMs, Math.ceil(FUZZ_RUNS * msPerCase));
}

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Outcomes of one target: cases that succeeded, rejections by type, crashes. */
export class Tally {
  cases = 0;
  ok = 0;
  readonly rejections: Record<string, number> = {};
  crashes = 0;
  readonly crashSamples: string[] = [];

  constructor(readonly target: string) {}

  succeeded(): void {
    this.cases++;
    this.ok++;
  }

  rejected(kind: string): void {
    this.cases++;
    this.rejections[kind] = (this.rejections[kind] ?? 0) + 1;
  }

  crashed(error: unknown, input: string): void {
    this.cases++;
    this.crashes++;
    if (this.crashSamples.length < 3) {
      const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
      this.crashSamples.push(`${stack}\ninput: ${input.slice(0, 2000)}`);
    }
  }

  /** Writes this target's figures where `npm run fuzz` collects them (FUZZ_SUMMARY_DIR), if set. */
  save(): void {
    const dir = process.env.FUZZ_SUMMARY_DIR;
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    const { target, cases, ok, rejections, crashes, crashSamples } = this;
    writeFileSync(
      join(dir, `${target.replace(/[^\w.-]/g, '_')}.json`),
      JSON.stringify({ target, cases, ok, rejections, crashes, crashSamples }),
    );
  }
}

/** How one mutation changes a byte string. */
type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      at: fc.nat(),
      value: fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x2c, 0x0a, 0x22),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 64 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('duplicate' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 64 }),
    }),
    weight: 1,
  },
);

export function applyMutations(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out: Uint8Array = Uint8Array.from(bytes);
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    switch (m.kind) {
      case 'flip':
        out[at] = out[at]! ^ (1 << m.bit);
        break;
      case 'set':
        out[at] = m.value;
        break;
      case 'truncate':
        out = out.slice(0, at);
        break;
      case 'insert':
        out = concat(out.subarray(0, at), m.bytes, out.subarray(at));
        break;
      case 'delete':
        out = concat(out.subarray(0, at), out.subarray(at + m.length));
        break;
      case 'duplicate':
        out = concat(out.subarray(0, at + m.length), out.subarray(at));
        break;
    }
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** A list of 1..maxCount mutations to apply to some valid bytes. */
export function mutations(maxCount = 4): fc.Arbitrary<Mutation[]> {
  return fc.array(mutation, { minLength: 1, maxLength: maxCount });
}

export function describeBytes(bytes: Uint8Array): string {
  return `${bytes.length} bytes: ${Buffer.from(bytes.subarray(0, 600)).toString('base64')}`;
}
