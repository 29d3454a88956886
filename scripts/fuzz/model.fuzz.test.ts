import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '@shared/contract';
import { FleetPredictor } from '../../src/main/core/fleet/fleet-predictor';
import { MANIFEST_FILE, ModelFolderError, loadModelFolder } from '../../src/main/core/model/folder';
import { bundledModelDir } from '../../src/main/core/paths';
import { openStore, type MetricsStore } from '../../src/main/core/store';
import { createMemoryLogger } from '../../src/main/core/util/logger';
import { FUZZ_RUNS, Tally, applyMutations, fuzzTimeout, mutations } from './fuzz-kit';

/**
 * The model folder loader fed mutated copies of the bundled model: model.json with fields
 * deleted, retyped or given random values (or its bytes mutated), model.onnx with bits flipped,
 * bytes inserted or cut short (with model.json's size and sha256 left as they were, or updated
 * so the mutated bytes get past the checksum). Every case is a ModelFolderError or a faithful
 * load. Then a running FleetPredictor on the bundled model is asked to switch to mutated copies:
 * it may refuse, but it keeps serving.
 */

const ROOT = resolve(__dirname, '..', '..');
const BUNDLED = bundledModelDir({ mainDir: join(ROOT, 'out', 'main') });
const ONNX = new Uint8Array(readFileSync(join(BUNDLED, 'model.onnx')));
const MANIFEST = JSON.parse(readFileSync(join(BUNDLED, MANIFEST_FILE), 'utf8')) as Record<string, unknown>;

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : value !== null && typeof value === 'object'
      ? Object.entries(value)
      : [];
  for (const [key, child] of entries) {
    out.push([...prefix, key]);
    pathsOf(child, [...prefix, key], out);
  }
  return out;
}
const PATHS = pathsOf(MANIFEST);

interface JsonEdit {
  kind: 'delete' | 'set';
  at: number;
  value: unknown;
}

const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<unknown>(
    null,
    '',
    0,
    -1,
    1e308,
    'x'.repeat(300),
    [],
    {},
    true,
    '9.0.0',
    '1.0.0',
    'model.onnx',
    '../model.onnx',
    '/etc/passwd',
  ),
  fc.string(),
  fc.double().filter(Number.isFinite),
);
const jsonEdit: fc.Arbitrary<JsonEdit> = fc.record({
  kind: fc.constantFrom('delete' as const, 'set' as const),
  at: fc.nat(),
  value: oddValue,
});

function applyEdits(manifest: Record<string, unknown>, edits: readonly JsonEdit[]): Record<string, unknown> {
  const copy = structuredClone(manifest);
  for (const edit of edits) {
    const paths = pathsOf(copy);
    if (paths.length === 0) break;
    const path = paths[edit.at % paths.length]!;
    let parent: unknown = copy;
    for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
    const last = path.at(-1)!;
    if (Array.isArray(parent) && typeof last === 'number') {
      if (edit.kind === 'delete') parent.splice(last, 1);
      else parent[last] = edit.value;
    } else if (parent !== null && typeof parent === 'object') {
      const record = parent as Record<string, unknown>;
      if (edit.kind === 'delete') delete record[String(last)];
      else record[String(last)] = edit.value;
    }
  }
  return copy;
}

interface ModelCase {
  json: Uint8Array;
  onnx: Uint8Array;
  description: string;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const modelCase: fc.Arbitrary<ModelCase> = fc.oneof(
  fc.array(jsonEdit, { minLength: 1, maxLength: 3 }).map((edits) => ({
    json: new TextEncoder().encode(JSON.stringify(applyEdits(MANIFEST, edits))),
    onnx: ONNX,
    description: `model.json edits ${JSON.stringify(edits.map((e) => ({ ...e, path: PATHS[e.at % PATHS.length] })))}`,
  })),
  mutations(3).map((ms) => ({
    json: applyMutations(new TextEncoder().encode(JSON.stringify(MANIFEST, null, 2)), ms),
    onnx: ONNX,
    description: `model.json bytes mutated ${JSON.stringify(ms, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))}`,
  })),
  fc.tuple(mutations(3), fc.boolean()).map(([ms, fixChecksum]) => {
    const onnx = applyMutations(ONNX, ms);
    const manifest = structuredClone(MANIFEST);
    if (fixChecksum) Object.assign(manifest.onnx as object, { sha256: sha256(onnx), sizeBytes: onnx.length });
    return {
      json: new TextEncoder().encode(JSON.stringify(manifest)),
      onnx,
      description: `model.onnx mutated (checksum ${fixChecksum ? 'updated' : 'kept'}) ${JSON.stringify(ms, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))}`,
    };
  }),
);

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tftmp-fuzz-model-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function writeCase(dir: string, c: ModelCase): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MANIFEST_FILE), c.json);
  writeFileSync(join(dir, 'model.onnx'), c.onnx);
}

describe('fuzz: model folder loader', () => {
  const tally = new Tally('model-loader');
  afterAll(() => tally.save());

  it(
    `${FUZZ_RUNS} mutated copies of the bundled model: a ModelFolderError or a faithful load`,
    async () => {
      const dir = join(root, 'loader');
      await fc.assert(
        fc.asyncProperty(modelCase, async (c) => {
          writeCase(dir, c);
          try {
            const loaded = await loadModelFolder(dir);
            // Faithful: the bytes are those on disk and match what the manifest records.
            expect(Buffer.compare(Buffer.from(loaded.onnxBytes), Buffer.from(c.onnx))).toBe(0);
            expect(sha256(loaded.onnxBytes)).toBe(loaded.manifest.onnx.sha256);
            expect(loaded.onnxBytes.length).toBe(loaded.manifest.onnx.sizeBytes);
            tally.succeeded();
          } catch (error) {
            if (error instanceof ModelFolderError) {
              tally.rejected(`ModelFolderError:${error.code}`);
              return;
            }
            tally.crashed(error, c.description);
            throw error;
          }
        }),
        { numRuns: FUZZ_RUNS },
      );
      expect(tally.crashes).toBe(0);
    },
    // Each case hashes the 2 MB model.onnx: 10 ms a case timed out at 2,000 cases on the 2 shared cores under load.
    fuzzTimeout(25, 60_000),
  );
});

describe('fuzz: FleetPredictor.switchModel to mutated copies', () => {
  const tally = new Tally('predictor-switch');
  const runs = Math.max(20, Math.round(FUZZ_RUNS / 10));
  let store: MetricsStore;
  let predictor: FleetPredictor;

  beforeAll(async () => {
    store = openStore(join(root, 'metrics.sqlite'));
    predictor = new FleetPredictor({
      config: { bundledDir: BUNDLED, provider: 'cpu', intraOpThreads: 1, persist: false },
      store,
      events: new EventBus(),
      logger: createMemoryLogger(),
      clock: () => Date.UTC(2026, 2, 3, 9, 0),
    });
    await predictor.start();
  });
  afterAll(async () => {
    tally.save();
    await predictor?.close();
    store?.close();
  });

  it(
    `${runs} switches: refused or switched, and the predictor keeps serving either way`,
    async () => {
      expect(predictor.status().state).toBe('ready');
      expect(predictor.modelInfo()).toMatchObject({ source: 'bundled' });
      let n = 0;
      await fc.assert(
        fc.asyncProperty(modelCase, async (c) => {
          const dir = join(root, `switch-${n++}`);
          writeCase(dir, c);
          const before = predictor.modelInfo();
          const cyclesBefore = predictor.status().cycles;
          try {
            await predictor.switchModel(dir);
            tally.succeeded();
          } catch (error) {
            if (!(error instanceof Error)) {
              tally.crashed(error, c.description);
              throw error;
            }
            tally.rejected(
              error instanceof ModelFolderError
                ? `ModelFolderError:${error.code}`
                : 'Error (session or servability refused)',
            );
            // Refused: the previous model is still the one serving.
            expect(predictor.modelInfo()).toEqual(before);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
          expect(predictor.status().state).toBe('ready');
          expect(predictor.modelInfo()).not.toBeNull();
          // And it still runs cycles.
          predictor.request(Date.UTC(2026, 2, 3, 9, 0));
          await predictor.idle();
          expect(predictor.status().cycles + predictor.status().skippedCycles).toBeGreaterThanOrEqual(cyclesBefore);
          expect(predictor.status().failedCycles).toBe(0);
        }),
        { numRuns: runs },
      );
      expect(tally.crashes).toBe(0);
    },
    fuzzTimeout(40, 40_000),
  );
});
