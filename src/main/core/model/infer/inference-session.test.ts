import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../util/logger';
import { OnnxOps } from '../onnx/onnx-ops';
import { rng, uniform } from '../onnx/testing/random';
import { InferenceError, createInferenceSession, liveSessionCount, listExecutionProviders, type CreateInferenceSessionOptions, type InferenceSession, type TensorSpec } from '.';

/*
 * The inference module against real onnxruntime sessions. This machine has no GPU: webgpu fails
 * with "No supported adapters" and cuda's binaries are absent, which is exactly the fallback
 * path to prove. (On a machine with a GPU, the GPU branches of these tests apply instead.)
 */

const T = 4;
const C = 3;
const V = 5;
const inputs: TensorSpec[] = [
  { name: 'x', dtype: 'float32', shape: [-1, T, C] },
  { name: 'idx', dtype: 'int32', shape: [-1], range: [0, V - 1] },
];
const outputs: TensorSpec[] = [{ name: 'y', dtype: 'float32', shape: [-1, T, 2] }];

/** y = softmax(x W + emb[idx], axis 2): x (B, T, C), idx (B) -> (B, T, 2). */
function model(): Uint8Array {
  const random = rng(1);
  const o = new OnnxOps(
    new Map([
      ['w', { data: uniform(random, C * 2), shape: [C, 2] }],
      ['emb', { data: uniform(random, V * 2), shape: [V, 2] }],
    ]),
  );
  const x = o.input({ name: 'x', dtype: 'float32', shape: [-1, T, C] });
  const idx = o.input({ name: 'idx', dtype: 'int32', shape: [-1] });
  o.output(o.softmax(o.add(o.matMul(x, o.weight('w')), o.expandDims(o.gather(o.weight('emb'), idx), 1)), 2), 'y');
  return o.toBytes();
}
const MODEL = model();

function feeds(batch: number): { x: Float32Array; idx: Int32Array } {
  const random = rng(batch);
  return { x: uniform(random, batch * T * C), idx: Int32Array.from({ length: batch }, (_, i) => i % V) };
}

const tmp = mkdtempSync(join(tmpdir(), 'tftmp-infer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function options(overrides: Partial<CreateInferenceSessionOptions> = {}): CreateInferenceSessionOptions & { logger: ReturnType<typeof createMemoryLogger> } {
  return { modelBytes: MODEL, expectedInputs: inputs, expectedOutputs: outputs, provider: 'cpu', logger: createMemoryLogger(), ...overrides } as CreateInferenceSessionOptions & {
    logger: ReturnType<typeof createMemoryLogger>;
  };
}

async function expectRefusal(promise: Promise<unknown>, code: InferenceError['code'], tensor?: string): Promise<InferenceError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InferenceError);
  const e = error as InferenceError;
  expect(e.code, e.message).toBe(code);
  if (tensor !== undefined) expect(e.tensor).toBe(tensor);
  return e;
}

describe('createInferenceSession: providers', () => {
  it('lists the providers this build knows (webgpu bundled, cuda not)', () => {
    const names = listExecutionProviders();
    expect(names).toContainEqual({ name: 'cpu', bundled: true });
    expect(names).toContainEqual({ name: 'webgpu', bundled: true });
  });

  it('cpu: runs on the CPU, says so, with one thread per core', async () => {
    const session = await createInferenceSession(options());
    try {
      expect(session.provider).toBe('cpu');
      expect(session.fallbackReason).toBeNull();
      expect(session.report).toMatchObject({ requested: 'cpu', provider: 'cpu', reason: 'cpu requested', intraOpThreads: availableParallelism() });
      const out = await session.run(feeds(6), 6);
      expect(out.y!.dims).toEqual([6, T, 2]);
      const y = out.y!.data as Float32Array;
      for (let r = 0; r < 6 * T; r++) expect(y[2 * r]! + y[2 * r + 1]!).toBeCloseTo(1, 6);
    } finally {
      await session.close();
    }
  });

  it.each(['webgpu', 'cuda'] as const)('%s: falls back to the CPU explicitly when its session cannot be created', async (provider) => {
    const opts = options({ provider });
    const session = await createInferenceSession(opts);
    try {
      const attempt = session.report.attempts.find((a) => a.provider === provider)!;
      expect(attempt).toBeDefined();
      if (attempt.ok) {
        // A machine with a working GPU provider.
        expect(session.provider).toBe(provider);
        return;
      }
      expect(session.provider).toBe('cpu');
      expect(session.fallbackReason).toMatch(new RegExp(`^${provider} session could not be created: `));
      expect(session.fallbackReason).toMatch(provider === 'webgpu' ? /No supported adapters|adapter/i : /shared library|cuda/i);
      expect(session.report.reason).toContain('fell back to cpu');
      // Logged, never silent.
      expect(opts.logger.records).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('falling back to CPU') }));
      // And it works.
      expect((await session.run(feeds(2), 2)).y!.dims).toEqual([2, T, 2]);
    } finally {
      await session.close();
    }
  });

  it('auto: tries the GPU providers, and ends on the CPU here with the reason', async () => {
    const calibration = { inputs: feeds(16), batch: 16, runs: 3 };
    const session = await createInferenceSession(options({ provider: 'auto', calibration }));
    try {
      const tried = session.report.attempts.map((a) => a.provider);
      expect(tried).toEqual(['cpu', 'webgpu', 'cuda']);
      if (session.report.attempts.some((a) => a.provider !== 'cpu' && a.ok)) {
        // A GPU loaded: the choice was timed.
        expect(session.report.reason).toMatch(/^auto: fastest on a calibration batch of 16/);
        return;
      }
      expect(session.provider).toBe('cpu');
      expect(session.fallbackReason).toBeNull();
      expect(session.report.reason).toMatch(/^auto: no GPU provider could be created \(webgpu: .+; cuda: .+\); cpu$/);
    } finally {
      await session.close();
    }
  });

  it('auto: a calibration batch that breaks the expectations is refused, and nothing stays open', async () => {
    const before = liveSessionCount();
    const bad = { ...feeds(4), x: new Float32Array(3) };
    await expectRefusal(createInferenceSession(options({ provider: 'auto', calibration: { inputs: bad, batch: 4 } })), 'input_size', 'x');
    expect(liveSessionCount()).toBe(before);
  });

  it('never gives ONNX Runtime more threads than cores', async () => {
    const opts = options({ intraOpThreads: availableParallelism() + 7 });
    const session = await createInferenceSession(opts);
    await session.close();
    expect(session.report.intraOpThreads).toBe(availableParallelism());
    expect(opts.logger.records.some((r) => r.level === 'warn' && r.message.includes('capped'))).toBe(true);
    await expectRefusal(createInferenceSession(options({ intraOpThreads: 0 })), 'bad_options');
  });
});

describe('InferenceSession.run: inputs are checked before every run', () => {
  let session: InferenceSession;
  const fresh = async (): Promise<InferenceSession> => (session ??= await createInferenceSession(options()));
  afterAll(async () => session?.close());

  const refusals: [string, (f: ReturnType<typeof feeds>) => Record<string, unknown>, number, InferenceError['code'], string, RegExp][] = [
    ['a missing input', (f) => ({ x: f.x }), 3, 'input_missing', 'idx', /"idx" is missing/],
    ['an unknown input', (f) => ({ ...f, extra: new Float32Array(1) }), 3, 'input_unexpected', 'extra', /"extra" is not an input/],
    ['a float input as Float64Array', (f) => ({ ...f, x: Float64Array.from(f.x) }), 3, 'input_dtype', 'x', /"x" must be float32, got Float64Array/],
    ['an index input as Float32Array', (f) => ({ ...f, idx: Float32Array.from(f.idx) }), 3, 'input_dtype', 'idx', /must be int32, got float32/],
    ['an index input as int64', (f) => ({ ...f, idx: BigInt64Array.from(f.idx, BigInt) }), 3, 'input_dtype', 'idx', /must be int32, got int64/],
    ['a shape that does not fit the batch', (f) => f, 4, 'input_size', 'x', /"x" has 36 values; shape \[4, 4, 3\] \(batch 4\) needs 48/],
    ['a NaN', (f) => ({ ...f, x: f.x.map((v, i) => (i === 17 ? NaN : v)) }), 3, 'input_not_finite', 'x', /"x" holds NaN at index 17 \(position \[1, 1, 2\]\)/],
    ['an Infinity', (f) => ({ ...f, x: f.x.map((v, i) => (i === 0 ? -Infinity : v)) }), 3, 'input_not_finite', 'x', /-Infinity at index 0/],
    ['an index out of range (ONNX would wrap -1)', (f) => ({ ...f, idx: Int32Array.from([0, -1, 2]) }), 3, 'input_out_of_range', 'idx', /holds -1 at index 1 .* outside \[0, 4\]/],
    ['an index past the table', (f) => ({ ...f, idx: Int32Array.from([0, 1, 5]) }), 3, 'input_out_of_range', 'idx', /holds 5 at index 2/],
  ];

  it.each(refusals)('refuses %s, naming the input', async (_label, make, batch, code, tensor, message) => {
    const s = await fresh();
    const runsBefore = s.stats().runs;
    const e = await expectRefusal(s.run(make(feeds(3)) as Record<string, Float32Array>, batch), code, tensor);
    expect(e.message).toMatch(message);
    expect(s.stats().runs).toBe(runsBefore); // refused before onnxruntime saw it
  });

  it('refuses a batch that is not a positive integer', async () => {
    const s = await fresh();
    await expectRefusal(s.run(feeds(3), 0), 'bad_batch');
    await expectRefusal(s.run(feeds(3), 1.5), 'bad_batch');
  });
});

describe('InferenceSession lifecycle', () => {
  it('reuses one native session across runs, and releases it on close', async () => {
    const before = liveSessionCount();
    const session = await createInferenceSession(options());
    expect(liveSessionCount()).toBe(before + 1);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => session.run(feeds(i + 1), i + 1)));
    for (let i = 0; i < 20; i++) await session.run(feeds(8), 8);
    expect(results.map((r) => r.y!.dims[0])).toEqual([1, 2, 3, 4, 5]);
    expect(session.stats()).toEqual({ sessionsCreated: 1, runs: 25 });
    await session.close();
    await session.close(); // idempotent
    expect(liveSessionCount()).toBe(before);
    await expectRefusal(session.run(feeds(1), 1), 'session_closed');
  });

  it('close waits for a run in flight', async () => {
    const session = await createInferenceSession(options());
    const pending = session.run(feeds(64), 64);
    await session.close();
    expect((await pending).y!.dims).toEqual([64, T, 2]);
  });

  it('auto releases the sessions it does not keep', async () => {
    const before = liveSessionCount();
    const session = await createInferenceSession(options({ provider: 'auto' }));
    expect(liveSessionCount()).toBe(before + 1);
    expect(session.report.calibrationBatch).toBe(64);
    await session.close();
    expect(liveSessionCount()).toBe(before);
  });
});

describe('bad models get a typed error, never a crash', () => {
  it('a truncated model', async () => {
    await expectRefusal(createInferenceSession(options({ modelBytes: MODEL.subarray(0, MODEL.length >> 1) })), 'model_invalid');
  });

  it('random bytes', async () => {
    const random = rng(99);
    const bytes = Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256));
    const e = await expectRefusal(createInferenceSession(options({ modelBytes: bytes })), 'model_invalid');
    expect(e.message).toMatch(/onnxruntime cannot load the model: /);
  });

  it('a missing, an empty and a truncated file, named in the error', async () => {
    await expectRefusal(createInferenceSession(options({ modelBytes: undefined, modelPath: join(tmp, 'absent.onnx') })), 'model_unreadable');
    writeFileSync(join(tmp, 'empty.onnx'), new Uint8Array());
    await expectRefusal(createInferenceSession(options({ modelBytes: undefined, modelPath: join(tmp, 'empty.onnx') })), 'model_invalid');
    writeFileSync(join(tmp, 'cut.onnx'), MODEL.subarray(0, 100));
    const e = await expectRefusal(createInferenceSession(options({ modelBytes: undefined, modelPath: join(tmp, 'cut.onnx') })), 'model_invalid');
    expect(e.message).toContain('cut.onnx');
  });

  it('a model file whose inputs or outputs are not the expected ones', async () => {
    writeFileSync(join(tmp, 'ok.onnx'), MODEL);
    const path = { modelBytes: undefined, modelPath: join(tmp, 'ok.onnx') };
    await expectRefusal(createInferenceSession(options({ ...path, expectedInputs: [inputs[0]!, { ...inputs[1]!, name: 'profile' }] })), 'model_mismatch', 'profile');
    await expectRefusal(createInferenceSession(options({ ...path, expectedInputs: [{ ...inputs[0]!, shape: [-1, T, C + 1] }, inputs[1]!] })), 'model_mismatch', 'x');
    await expectRefusal(createInferenceSession(options({ ...path, expectedInputs: [inputs[0]!, { ...inputs[1]!, dtype: 'int64' }] })), 'model_mismatch', 'idx');
    await expectRefusal(createInferenceSession(options({ ...path, expectedInputs: [inputs[0]!] })), 'model_mismatch', 'idx');
    await expectRefusal(createInferenceSession(options({ ...path, expectedOutputs: [{ name: 'quantiles', dtype: 'float32', shape: [-1, 2] }] })), 'model_mismatch', 'quantiles');
    // The check also applies when a GPU was requested and the CPU took over.
    await expectRefusal(createInferenceSession(options({ ...path, provider: 'webgpu', expectedOutputs: [{ ...outputs[0]!, shape: [-1, T, 3] }] })), 'model_mismatch', 'y');
  });

  it('200 byte-mutated models: each one refused with a typed error, or loaded and run (or refused) cleanly', async () => {
    const random = rng(2024);
    const before = liveSessionCount();
    const outcomes = { refused: 0, ran: 0, runRefused: 0 };
    for (let n = 0; n < 200; n++) {
      const bytes = MODEL.slice();
      const flips = 1 + Math.floor(random() * 8);
      for (let k = 0; k < flips; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      let session: InferenceSession;
      try {
        session = await createInferenceSession(options({ modelBytes: bytes }));
      } catch (e) {
        expect(e).toBeInstanceOf(InferenceError);
        outcomes.refused += 1;
        continue;
      }
      try {
        await session.run(feeds(2), 2);
        outcomes.ran += 1;
      } catch (e) {
        expect(e).toBeInstanceOf(InferenceError);
        outcomes.runRefused += 1;
      } finally {
        await session.close();
      }
    }
    expect(outcomes.refused + outcomes.ran + outcomes.runRefused).toBe(200);
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(liveSessionCount()).toBe(before);
  });
});
