import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { Logger } from '../../util/logger';
import { InferenceError, summariseOrtError } from './inference-error';
import { checkInputs, dimsFor, dtypeOf, validateSpecs, type InputTensor, type TensorDType, type TensorSpec } from './tensor-checks';

/**
 * The one place that talks to onnxruntime-node: one session per model, reused for every run,
 * inputs checked before every run, and an execution-provider policy that never falls back
 * silently (shared/GPU.md):
 *   cpu           the CPU provider.
 *   webgpu, cuda  that provider; if its session cannot be created (no adapter, binaries
 *                 absent) the CPU one, with the reason recorded, logged and reported.
 *   auto          every GPU provider that loads is timed on a calibration batch against the
 *                 CPU; the faster is kept, the timings and the reason recorded.
 *
 * Note: onnxruntime-node's `run` executes synchronously on the calling thread (behind a
 * setImmediate), its intra-op pool helping: the event loop waits for the run. A caller that
 * cannot afford that (1,000 servers is hundreds of ms) runs this module in a worker thread.
 */

export type ProviderSetting = 'auto' | 'cpu' | 'webgpu' | 'cuda';
export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';

/** GPU providers `auto` tries, in order. */
const GPU_PROVIDERS: readonly ExecutionProvider[] = ['webgpu', 'cuda'];
/** Largest |gpu - cpu| on the calibration batch for `auto` to accept a GPU (float32 reordering is ~1e-6). */
const AUTO_TOLERANCE = 1e-3;

export interface OutputTensor {
  data: Float32Array | Int32Array | BigInt64Array;
  dims: readonly number[];
}

/** A batch to time providers with (`auto`); its inputs are checked like any run's. */
export interface CalibrationBatch {
  inputs: Readonly<Record<string, InputTensor>>;
  batch: number;
  /** Timed runs per provider, after one warm-up run (default 5). */
  runs?: number;
}

export type ModelSource = { modelPath: string; modelBytes?: undefined } | { modelBytes: Uint8Array; modelPath?: undefined };

export type CreateInferenceSessionOptions = ModelSource & {
  /** As model.json declares them; -1 marks the batch. */
  expectedInputs: readonly TensorSpec[];
  expectedOutputs: readonly TensorSpec[];
  provider: ProviderSetting;
  /** onnxruntime intra-op threads; default and maximum: the machine's cores (oversubscribing made runs 8x slower). */
  intraOpThreads?: number;
  /**
   * For `auto`. Without one, zeros (and the low end of each index range) for 64 rows are used:
   * fine for timing, but pass a real batch of the fleet's size to time what will actually run.
   */
  calibration?: CalibrationBatch;
  logger: Logger;
};

export interface ProviderAttempt {
  provider: ExecutionProvider;
  ok: boolean;
  /** Why the provider could not be used (onnxruntime's message, shortened). */
  error?: string;
  /** Session creation time (model load, optimisation, kernel setup). */
  createMs: number;
  /** Median of the calibration runs (`auto` only). */
  medianRunMs?: number;
  /** Largest |this provider - cpu| over the calibration outputs (`auto`, GPU providers only). */
  maxAbsDiffVsCpu?: number;
}

/** What /health and the UI show: which provider runs the model, and why. */
export interface ProviderReport {
  requested: ProviderSetting;
  provider: ExecutionProvider;
  /** One sentence: why this provider. */
  reason: string;
  /** Set when the requested provider (webgpu or cuda) could not be used and the CPU took over. */
  fallbackReason: string | null;
  attempts: ProviderAttempt[];
  intraOpThreads: number;
  /** Rows of the calibration batch (`auto` only). */
  calibrationBatch?: number;
}

export interface InferenceSession {
  readonly provider: ExecutionProvider;
  readonly fallbackReason: string | null;
  readonly report: ProviderReport;
  /**
   * Runs the model on `batch` rows. `inputs` maps each expected input name to its flat
   * row-major data of shape `expectedInputs[i].shape` with -1 = batch. Returns each expected
   * output with its dims. Throws InferenceError (checked before running) on a missing, extra,
   * mistyped or missized input, a NaN/Inf, an index out of range, and on a closed session.
   */
  run(inputs: Readonly<Record<string, InputTensor>>, batch: number): Promise<Record<string, OutputTensor>>;
  /** Sessions this object created (trial sessions of `auto` included) and runs made. */
  stats(): { sessionsCreated: number; runs: number };
  /** Waits for runs in flight, then releases the native session. Idempotent. */
  close(): Promise<void>;
}

let liveSessions = 0;

/** Native sessions created by this module and not yet released (a leak test watches it). */
export function liveSessionCount(): number {
  return liveSessions;
}

/** The providers this onnxruntime-node build knows; `bundled: false` ones need binaries installed. */
export function listExecutionProviders(): { name: string; bundled: boolean }[] {
  return ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
}

export async function createInferenceSession(options: CreateInferenceSessionOptions): Promise<InferenceSession> {
  const { logger } = options;
  validateSpecs(options.expectedInputs, 'input');
  validateSpecs(options.expectedOutputs, 'output');
  const intraOpThreads = resolveThreads(options.intraOpThreads, logger);
  const bytes = await loadModelBytes(options);
  let created = 0;
  // Every native session this call opens; all but the chosen one are released before returning.
  const opened: ort.InferenceSession[] = [];
  const release = async (session: ort.InferenceSession): Promise<void> => {
    liveSessions -= 1;
    await session.release();
  };

  const attempts: ProviderAttempt[] = [];
  const tryOpen = async (provider: ExecutionProvider): Promise<{ session?: ort.InferenceSession; error?: unknown; attempt: ProviderAttempt }> => {
    const t0 = performance.now();
    try {
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: [provider],
        intraOpNumThreads: intraOpThreads,
        // One model, one request at a time: the parallelism is inside the operators.
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
      created += 1;
      liveSessions += 1;
      opened.push(session);
      const attempt: ProviderAttempt = { provider, ok: true, createMs: round(performance.now() - t0) };
      attempts.push(attempt);
      return { session, attempt };
    } catch (error) {
      const attempt: ProviderAttempt = { provider, ok: false, error: summariseOrtError(error), createMs: round(performance.now() - t0) };
      attempts.push(attempt);
      return { error, attempt };
    }
  };

  let chosen: { provider: ExecutionProvider; session: ort.InferenceSession };
  let reason: string;
  let fallbackReason: string | null = null;
  let calibrationBatch: number | undefined;
  try {
    const openCpu = async (): Promise<ort.InferenceSession> => {
      const cpu = await tryOpen('cpu');
      if (!cpu.session) {
        // Even the CPU provider cannot load it: the model is at fault, not a GPU.
        const others = attempts.filter((a) => a.provider !== 'cpu' && !a.ok).map((a) => `; ${a.provider}: ${a.error ?? '?'}`).join('');
        throw new InferenceError('model_invalid', `onnxruntime cannot load the model${describeSource(options)}: ${cpu.attempt.error ?? 'unknown error'}${others}`, { cause: cpu.error });
      }
      checkSignature(cpu.session, options.expectedInputs, options.expectedOutputs, describeSource(options));
      return cpu.session;
    };

    if (options.provider === 'cpu') {
      chosen = { provider: 'cpu', session: await openCpu() };
      reason = 'cpu requested';
    } else if (options.provider === 'webgpu' || options.provider === 'cuda') {
      // The GPU first: where it works, no CPU session is built for nothing (a large graph takes
      // seconds to optimise).
      const gpu = await tryOpen(options.provider);
      if (gpu.session) {
        checkSignature(gpu.session, options.expectedInputs, options.expectedOutputs, describeSource(options));
        chosen = { provider: options.provider, session: gpu.session };
        reason = `${options.provider} requested and its session was created`;
      } else {
        chosen = { provider: 'cpu', session: await openCpu() };
        fallbackReason = `${options.provider} session could not be created: ${gpu.attempt.error ?? 'unknown error'}`;
        reason = `${options.provider} requested; fell back to cpu (${fallbackReason})`;
        logger.warn('inference: GPU provider unavailable, falling back to CPU', { requested: options.provider, error: gpu.attempt.error });
      }
    } else {
      const calibration = options.calibration ?? syntheticCalibration(options.expectedInputs, 64);
      checkInputs(options.expectedInputs, calibration.inputs, calibration.batch);
      calibrationBatch = calibration.batch;
      const runs = Math.max(1, calibration.runs ?? 5);
      // The CPU first: it is a candidate anyway, and a model it cannot load is refused at once.
      const cpuSession = await openCpu();
      const candidates: { provider: ExecutionProvider; session: ort.InferenceSession; attempt: ProviderAttempt }[] = [
        { provider: 'cpu', session: cpuSession, attempt: attempts[0]! },
      ];
      for (const provider of GPU_PROVIDERS) {
        const gpu = await tryOpen(provider);
        if (gpu.session) candidates.push({ provider, session: gpu.session, attempt: gpu.attempt });
      }
      if (candidates.length === 1) {
        chosen = { provider: 'cpu', session: cpuSession };
        const failures = attempts.filter((a) => !a.ok).map((a) => `${a.provider}: ${a.error ?? 'unknown error'}`);
        reason = `auto: no GPU provider could be created (${failures.join('; ')}); cpu`;
      } else {
        let cpuOutputs: ort.InferenceSession.OnnxValueMapType | undefined;
        for (const c of candidates) {
          try {
            const timed = await timeRuns(c.session, options.expectedInputs, calibration, runs);
            c.attempt.medianRunMs = round(timed.medianMs, 2);
            if (c.provider === 'cpu') cpuOutputs = timed.outputs;
            else if (cpuOutputs) {
              // A GPU that is fast but wrong (a driver or kernel bug) must not win.
              const diff = maxAbsDiff(cpuOutputs, timed.outputs, options.expectedOutputs);
              c.attempt.maxAbsDiffVsCpu = diff;
              if (!(diff <= AUTO_TOLERANCE)) {
                c.attempt.ok = false;
                c.attempt.error = `outputs differ from cpu by ${diff} (> ${AUTO_TOLERANCE})`;
              }
            }
          } catch (error) {
            // A provider that creates a session but fails to run (a kernel it lacks at run time) is out.
            c.attempt.ok = false;
            c.attempt.error = `calibration run failed: ${summariseOrtError(error)}`;
          }
        }
        let best: (typeof candidates)[number] | undefined;
        for (const c of candidates) {
          const ms = c.attempt.medianRunMs;
          if (c.attempt.ok && ms !== undefined && (best === undefined || ms < best.attempt.medianRunMs!)) best = c;
        }
        if (!best) {
          throw new InferenceError('run_failed', `auto: the calibration batch failed on every provider (${candidates.map((c) => `${c.provider}: ${c.attempt.error ?? '?'}`).join('; ')})`);
        }
        chosen = { provider: best.provider, session: best.session };
        const timings = candidates.filter((c) => c.attempt.ok).map((c) => `${c.provider} ${c.attempt.medianRunMs} ms`).join(', ');
        reason = `auto: fastest on a calibration batch of ${calibration.batch} (median of ${runs} runs: ${timings})`;
      }
    }
  } catch (error) {
    // Nothing half-made stays open.
    await Promise.allSettled(opened.map(release));
    throw error;
  }
  await Promise.allSettled(opened.filter((s) => s !== chosen.session).map(release));

  const report: ProviderReport = {
    requested: options.provider,
    provider: chosen.provider,
    reason,
    fallbackReason,
    attempts,
    intraOpThreads,
    ...(calibrationBatch !== undefined ? { calibrationBatch } : {}),
  };
  logger.info('inference: session ready', { provider: report.provider, reason, intraOpThreads, attempts });
  return new ReusedSession(chosen.session, report, options.expectedInputs, options.expectedOutputs, () => created, release);
}

class ReusedSession implements InferenceSession {
  private closed = false;
  private runs = 0;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly session: ort.InferenceSession,
    readonly report: ProviderReport,
    private readonly inputs: readonly TensorSpec[],
    private readonly outputs: readonly TensorSpec[],
    private readonly created: () => number,
    private readonly releaseSession: (s: ort.InferenceSession) => Promise<void>,
  ) {}

  get provider(): ExecutionProvider {
    return this.report.provider;
  }

  get fallbackReason(): string | null {
    return this.report.fallbackReason;
  }

  stats(): { sessionsCreated: number; runs: number } {
    return { sessionsCreated: this.created(), runs: this.runs };
  }

  async run(inputs: Readonly<Record<string, InputTensor>>, batch: number): Promise<Record<string, OutputTensor>> {
    if (this.closed) throw new InferenceError('session_closed', 'the inference session is closed');
    checkInputs(this.inputs, inputs, batch);
    const pending = runChecked(this.session, this.inputs, this.outputs, inputs, batch);
    this.inFlight.add(pending);
    try {
      const result = await pending;
      this.runs += 1;
      return result;
    } finally {
      this.inFlight.delete(pending);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    await this.releaseSession(this.session);
  }
}

/** Feeds already-checked inputs to onnxruntime and checks what comes back. */
async function runChecked(
  session: ort.InferenceSession,
  inputSpecs: readonly TensorSpec[],
  outputSpecs: readonly TensorSpec[],
  inputs: Readonly<Record<string, InputTensor>>,
  batch: number,
): Promise<Record<string, OutputTensor>> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of inputSpecs) feeds[spec.name] = new ort.Tensor(spec.dtype, inputs[spec.name]!, dimsFor(spec, batch));
  let results: ort.InferenceSession.OnnxValueMapType;
  try {
    results = await session.run(feeds);
  } catch (error) {
    throw new InferenceError('run_failed', `onnxruntime failed to run the model: ${summariseOrtError(error)}`, { cause: error });
  }
  const out: Record<string, OutputTensor> = {};
  for (const spec of outputSpecs) {
    const t = results[spec.name];
    if (!t) throw new InferenceError('output_mismatch', `output "${spec.name}" was not produced`, { tensor: spec.name });
    const dims = dimsFor(spec, batch);
    const data: unknown = t.data;
    if (dtypeOf(data) !== spec.dtype || t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
      throw new InferenceError('output_mismatch', `output "${spec.name}" is ${t.type} [${t.dims.join(', ')}], expected ${spec.dtype} [${dims.join(', ')}]`, { tensor: spec.name });
    }
    out[spec.name] = { data: data as OutputTensor['data'], dims };
  }
  return out;
}

/**
 * Median wall time (ms) of `runs` runs after one warm-up (the first run allocates and, on a GPU,
 * compiles its shaders), and the warm-up's outputs.
 */
async function timeRuns(
  session: ort.InferenceSession,
  specs: readonly TensorSpec[],
  calibration: CalibrationBatch,
  runs: number,
): Promise<{ medianMs: number; outputs: ort.InferenceSession.OnnxValueMapType }> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of specs) feeds[spec.name] = new ort.Tensor(spec.dtype, calibration.inputs[spec.name]!, dimsFor(spec, calibration.batch));
  const outputs = await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  return { medianMs: times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2, outputs };
}

/** Largest |a - b| over the expected outputs; Infinity when one is missing or either holds NaN. */
function maxAbsDiff(a: ort.InferenceSession.OnnxValueMapType, b: ort.InferenceSession.OnnxValueMapType, specs: readonly TensorSpec[]): number {
  let m = 0;
  for (const spec of specs) {
    const x: unknown = a[spec.name]?.data;
    const y: unknown = b[spec.name]?.data;
    if (!ArrayBuffer.isView(x) || !ArrayBuffer.isView(y)) return Infinity;
    const xs = x as unknown as ArrayLike<number | bigint>;
    const ys = y as unknown as ArrayLike<number | bigint>;
    if (xs.length !== ys.length) return Infinity;
    for (let i = 0; i < xs.length; i++) {
      const d = Math.abs(Number(xs[i]) - Number(ys[i]));
      if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
    }
  }
  return m;
}

/** The model's declared inputs/outputs must be the expected ones: model.json and model.onnx agree. */
function checkSignature(session: ort.InferenceSession, inputs: readonly TensorSpec[], outputs: readonly TensorSpec[], source: string): void {
  const compare = (kind: 'input' | 'output', specs: readonly TensorSpec[], metadata: readonly ort.InferenceSession.ValueMetadata[]): void => {
    const byName = new Map(metadata.map((m) => [m.name, m]));
    for (const spec of specs) {
      const m = byName.get(spec.name);
      if (!m) {
        throw new InferenceError('model_mismatch', `the model${source} has no ${kind} "${spec.name}" (it has: ${metadata.map((x) => x.name).join(', ')})`, { tensor: spec.name });
      }
      if (!m.isTensor) throw new InferenceError('model_mismatch', `${kind} "${spec.name}" of the model${source} is not a tensor`, { tensor: spec.name });
      // A symbolic dimension ("batch") reads as a string; the expectation says -1 there.
      const shapeOk = m.shape.length === spec.shape.length && m.shape.every((d, i) => (spec.shape[i] === -1 ? typeof d === 'string' || d === -1 : d === spec.shape[i]));
      if (m.type !== spec.dtype || !shapeOk) {
        throw new InferenceError(
          'model_mismatch',
          `${kind} "${spec.name}" of the model${source} is ${m.type} [${m.shape.join(', ')}], expected ${spec.dtype} [${spec.shape.join(', ')}]`,
          { tensor: spec.name },
        );
      }
    }
    if (kind === 'input') {
      // Every model input must be fed; extra outputs are harmless (we just do not read them).
      const expected = new Set(specs.map((s) => s.name));
      const extra = metadata.filter((m) => !expected.has(m.name)).map((m) => m.name);
      if (extra.length > 0) throw new InferenceError('model_mismatch', `the model${source} has inputs not expected: ${extra.join(', ')}`, { tensor: extra[0]! });
    }
  };
  compare('input', inputs, session.inputMetadata);
  compare('output', outputs, session.outputMetadata);
}

async function loadModelBytes(options: ModelSource): Promise<Uint8Array> {
  if (options.modelBytes !== undefined && options.modelPath !== undefined) {
    throw new InferenceError('bad_options', 'give modelPath or modelBytes, not both');
  }
  if (options.modelBytes !== undefined) {
    if (!(options.modelBytes instanceof Uint8Array) || options.modelBytes.length === 0) throw new InferenceError('model_invalid', 'modelBytes is empty');
    return options.modelBytes;
  }
  if (options.modelPath === undefined) throw new InferenceError('bad_options', 'give modelPath or modelBytes');
  // Read here, once: onnxruntime would read the file again for every trial session.
  try {
    const bytes = await readFile(options.modelPath);
    if (bytes.length === 0) throw new InferenceError('model_invalid', `${options.modelPath}: the model file is empty`);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (error) {
    if (error instanceof InferenceError) throw error;
    throw new InferenceError('model_unreadable', `${options.modelPath}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function resolveThreads(requested: number | undefined, logger: Logger): number {
  const cores = Math.max(1, availableParallelism());
  if (requested === undefined) return cores;
  if (!Number.isInteger(requested) || requested < 1) throw new InferenceError('bad_options', `intraOpThreads must be a positive integer, got ${requested}`);
  if (requested > cores) {
    logger.warn('inference: intraOpThreads capped at the core count', { requested, cores });
    return cores;
  }
  return requested;
}

/** Zeros (floats) and each range's low end (indices) for `batch` rows: a timing batch when the caller gives none. */
function syntheticCalibration(specs: readonly TensorSpec[], batch: number): CalibrationBatch {
  const inputs: Record<string, InputTensor> = {};
  for (const spec of specs) {
    const size = dimsFor(spec, batch).reduce((a, d) => a * d, 1);
    const low = spec.range?.[0] ?? 0;
    inputs[spec.name] = makeTensor(spec.dtype, size, low);
  }
  return { inputs, batch, runs: 5 };
}

function makeTensor(dtype: TensorDType, size: number, fill: number): InputTensor {
  if (dtype === 'float32') return new Float32Array(size).fill(fill);
  if (dtype === 'int32') return new Int32Array(size).fill(fill);
  return new BigInt64Array(size).fill(BigInt(fill));
}

function describeSource(options: ModelSource): string {
  return options.modelPath !== undefined ? ` (${options.modelPath})` : '';
}

function round(x: number, digits = 1): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}
