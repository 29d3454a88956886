import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, ModelFolderError, loadModelFolder, writeModelFolder } from './index';
import { fakeOnnxBytes, sampleDraft } from './testing/manifest-fixture';

/**
 * Whatever is done to model.json, the loader answers with a manifest or a ModelFolderError,
 * never another exception (which would escape resolveActive's fallback and take predictions
 * down), and a folder missing a required field never loads.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Keys the schema lets go missing. */
const OPTIONAL = new Set(['evaluation', 'notes', 'training.seed']);
/** Records with free keys: removing one of their entries is fine. */
const FREE_RECORDS = new Set(['hyperParameters', 'evaluation.figures']);

let dir: string;
let original: Json;
let paths: Path[];

beforeAll(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'model-prop-')), 'm');
  await writeModelFolder(dir, { onnxBytes: fakeOnnxBytes(256), manifest: sampleDraft() });
  original = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as Json;
  paths = allPaths(original);
});
afterAll(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true });
});

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function allPaths(value: Json, prefix: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...allPaths(v, [...prefix, i])]);
  if (isObject(value))
    return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...allPaths(v, [...prefix, k])]);
  return [];
}

function at(value: Json, path: Path): Json | undefined {
  let cur: Json | undefined = value;
  for (const key of path) {
    if (Array.isArray(cur) && typeof key === 'number') cur = cur[key];
    else if (isObject(cur) && typeof key === 'string' && Object.hasOwn(cur, key)) cur = cur[key];
    else return undefined;
  }
  return cur;
}

interface Mutation {
  path: number;
  op: 'delete' | 'replace';
  value: Json;
}

/** Applies in place; a mutation whose path no longer exists (an earlier one removed it) is a no-op. */
function mutate(json: Json, m: Mutation): void {
  const path = paths[m.path % paths.length]!;
  const parent = at(json, path.slice(0, -1));
  const key = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof key === 'number' && key < parent.length) {
    if (m.op === 'delete') parent.splice(key, 1);
    else parent[key] = m.value;
  } else if (isObject(parent) && typeof key === 'string') {
    if (m.op === 'delete') delete parent[key];
    else parent[key] = m.value;
  }
}

/** A key the schema requires, absent from an object that is still there. */
function requiredFieldGone(json: Json): string | null {
  for (const path of paths) {
    if (path.some((k) => typeof k === 'number')) continue; // array elements may come and go
    const name = path.join('.');
    const parentName = path.slice(0, -1).join('.');
    if (OPTIONAL.has(name) || FREE_RECORDS.has(parentName)) continue;
    const parent = path.length === 1 ? json : at(json, path.slice(0, -1));
    if (isObject(parent) && !Object.hasOwn(parent, path[path.length - 1]!)) return name;
  }
  return null;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  path: fc.nat(),
  op: fc.constantFrom<'delete' | 'replace'>('delete', 'replace'),
  value: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
});

async function loadOutcome(): Promise<{ ok: true; manifest: unknown } | { ok: false }> {
  try {
    return { ok: true, manifest: (await loadModelFolder(dir)).manifest };
  } catch (error) {
    if (!(error instanceof ModelFolderError)) throw new Error(`escaped as ${String(error)}`, { cause: error });
    expect(error.message.startsWith(`model folder "${dir}"`)).toBe(true);
    return { ok: false };
  }
}

describe('model.json under random mutation', () => {
  it('deleting or replacing fields: a ModelFolderError or a faithful load, never a load without a required field', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const json = structuredClone(original);
        for (const m of mutations) mutate(json, m);
        const text = JSON.stringify(json);
        await writeFile(join(dir, MANIFEST_FILE), text);
        const outcome = await loadOutcome();
        const gone = requiredFieldGone(json);
        if (gone !== null) expect(outcome.ok, `loaded without required field "${gone}"`).toBe(false);
        // Nothing coerced or dropped: what loads is what the file says.
        if (outcome.ok) expect(outcome.manifest).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('every single required field, deleted, is refused and named', async () => {
    let checked = 0;
    for (const path of paths) {
      if (path.some((k) => typeof k === 'number')) continue;
      const json = structuredClone(original);
      mutate(json, { path: paths.indexOf(path), op: 'delete', value: null });
      if (requiredFieldGone(json) === null) continue;
      checked += 1;
      await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(json));
      const error = await loadModelFolder(dir).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, path.join('.')).toBeInstanceOf(ModelFolderError);
      expect((error as ModelFolderError).code).toBe('bad_manifest');
      // The field itself, or (for feature spec entries checked as a whole) the object holding it.
      expect(path.join('.').startsWith((error as ModelFolderError).field ?? '?')).toBe(true);
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('corrupted text (truncated, bytes overwritten) is a ModelFolderError', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify(original, null, 2));
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: bytes.length }),
        fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        async (cut, edits) => {
          const copy = bytes.slice(0, cut);
          for (const [i, b] of edits) if (i < copy.length) copy[i] = b;
          await writeFile(join(dir, MANIFEST_FILE), copy);
          await loadOutcome();
        },
      ),
      { numRuns: 200 },
    );
  });
});
