import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ERROR_CODES, ApiError, METRIC_NAMES, api, dispatch, type Method } from '@shared/contract';
import { createCore, type Core } from '../../src/main/core/app';
import { createMemoryLogger } from '../../src/main/core/util/logger';
import { FUZZ_RUNS, Tally, fuzzTimeout } from './fuzz-kit';

/**
 * Every API method's input through `dispatch`, against a real core (temp data dir, no simulator,
 * no model): each call answers, or rejects with an ApiError whose code is a client-side one
 * (invalid_input, not_found, conflict, unavailable). An 'internal' error or any other exception
 * is a crash.
 */

const ACCEPTED: ReadonlySet<string> = new Set(['invalid_input', 'not_found', 'conflict', 'unavailable']);
const METHODS = Object.keys(api) as Method[];

let dir: string;
let core: Core;
const internal: string[] = [];
const tally = new Tally('api');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tftmp-fuzz-api-'));
  core = createCore({
    dataDir: dir,
    runtime: 'test',
    logger: createMemoryLogger(),
    heartbeatMs: 0,
    sourceBackoffMs: 60_000,
    integrationBackoffMs: 60_000,
  });
  await core.ready();
});

afterAll(async () => {
  tally.save();
  await core?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Field names, enum members and constants a method's schema names: the pool shaped inputs draw from. */
function schemaVocabulary(schema: z.ZodType): { keys: string[]; constants: unknown[] } {
  const keys = new Set<string>();
  const constants: unknown[] = [];
  let json: unknown;
  try {
    json = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' });
  } catch {
    return { keys: [], constants: [] };
  }
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (record.properties && typeof record.properties === 'object')
      for (const k of Object.keys(record.properties)) keys.add(k);
    if (Array.isArray(record.enum)) constants.push(...(record.enum as unknown[]));
    if ('const' in record) constants.push(record.const);
    for (const k of ['minimum', 'maximum', 'minLength', 'maxLength'])
      if (typeof record[k] === 'number') constants.push(record[k]);
    Object.values(record).forEach(walk);
  };
  walk(json);
  return { keys: [...keys], constants };
}

/** Values that reach past validation: names the core knows, paths that exist, URLs that answer fast (refused). */
const familiar = fc.constantFrom<unknown>(
  'ppml0001',
  'bundled',
  'default',
  'prometheus',
  'http://127.0.0.1:1',
  'http://127.0.0.1:1/prefix',
  '/tmp',
  '/nonexistent/dir',
  'metrics.csv',
  'YWJj',
  '2024-01-01T00:00:00Z',
  '2024-01-01T00:00:00.000Z',
  new Date(Date.UTC(2024, 0, 1)).getTime(),
  ...METRIC_NAMES,
  0,
  -1,
  1,
  1e9,
  Number.NaN,
  '',
  null,
  true,
  [],
  {},
);

function inputFor(method: Method): fc.Arbitrary<unknown> {
  const { keys, constants } = schemaVocabulary(api[method].input);
  const leaf = fc.oneof(
    { arbitrary: familiar, weight: 3 },
    { arbitrary: constants.length > 0 ? fc.constantFrom(...constants) : familiar, weight: 3 },
    { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
    { arbitrary: fc.double(), weight: 1 },
    { arbitrary: fc.integer(), weight: 1 },
    { arbitrary: fc.anything({ maxDepth: 2 }), weight: 1 },
  );
  const value = fc.oneof(
    { arbitrary: leaf, weight: 4 },
    { arbitrary: fc.array(leaf, { maxLength: 4 }), weight: 1 },
    { arbitrary: fc.dictionary(fc.constantFrom(...keys, 'x'), leaf, { maxKeys: 4 }), weight: 1 },
  );
  const shaped =
    keys.length > 0
      ? fc
          .tuple(fc.subarray(keys), fc.array(value, { minLength: keys.length, maxLength: keys.length }))
          .map(([chosen, values]) => Object.fromEntries(chosen.map((k, i) => [k, values[i]])))
      : fc.constant({});
  return fc.oneof(
    { arbitrary: shaped, weight: 6 },
    { arbitrary: fc.anything(), weight: 1 },
    { arbitrary: fc.constantFrom(undefined, null, {}, [], 'x', 0), weight: 1 },
  );
}

const call = fc.constantFrom(...METHODS).chain((method) => fc.tuple(fc.constant(method), inputFor(method)));

function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

describe('fuzz: every API method through dispatch', () => {
  it(
    `${FUZZ_RUNS} calls with random and schema-shaped inputs: an answer or a client-side ApiError, never internal`,
    async () => {
      expect(METHODS.length).toBeGreaterThan(20);
      await fc.assert(
        fc.asyncProperty(call, async ([method, input]) => {
          try {
            await dispatch(
              core,
              method,
              input,
              { transport: 'in-process' },
              {
                validateOutput: true,
                onInternalError: (m, e) =>
                  internal.push(`${m}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
              },
            );
            tally.succeeded();
          } catch (error) {
            if (error instanceof ApiError && ACCEPTED.has(error.code)) {
              tally.rejected(`ApiError:${error.code}`);
              return;
            }
            const detail =
              error instanceof ApiError && error.code === 'internal' ? (internal.at(-1) ?? error.message) : error;
            tally.crashed(detail instanceof Error ? detail : new Error(String(detail)), `${method} ${show(input)}`);
            throw new Error(
              `${method} ${show(input)} -> ${error instanceof ApiError ? error.code : 'exception'}: ${String(detail)}`,
            );
          }
        }),
        { numRuns: FUZZ_RUNS },
      );
      expect(API_ERROR_CODES).toContain('internal');
      expect(tally.crashes).toBe(0);
    },
    fuzzTimeout(15, 40_000),
  );
});
