import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { errnoCode } from '../folder/model-folder-error';
import { nodeFolderFs, type FolderWriteFs } from '../folder/write-model-folder';
import type { SerializedWeights } from '../tft/weight-store';
import type { TrainCheckpointState } from './checkpoint-state';
import type { TrainTftResult } from './train-model';
import { TrainRunRequestSchema, type TrainRunRequest } from './train-request';

/**
 * Training checkpoints on disk.
 *
 * Where: `<output>/.checkpoints/<run>/checkpoint.bin`, `<run>` = `tft_run_YYYYMMDD_HHMMSS` (UTC
 * start time, `_2`, `_3`... when taken). The folder is hidden, so the model registry never
 * lists it. One file per run, replaced after every epoch: written to a hidden temporary file
 * beside it, fsynced, renamed over the previous one, the folder fsynced. A crash at any point
 * leaves the previous epoch's checkpoint or the new one, never half of one (and a stale
 * `.checkpoint.bin.tmp-*` that the next write removes). When the run's model folder is written,
 * the run's checkpoint folder is removed (and `.checkpoints/` with it when empty).
 *
 * Format (little-endian, version 1):
 *   bytes 0-7    "TFTCKPT1"
 *   bytes 8-11   u32 length H of the header
 *   bytes 12-15  0
 *   16..16+H     header: UTF-8 JSON (CheckpointHeaderSchema): run name, the resolved request
 *                (settings, dataset and output folders, feature spec), the dataset files'
 *                sha256, the training state's scalars and history, the tensor table, and the
 *                payload's length and sha256
 *   then zero padding to a multiple of 8, then the payload: float32 tensors back to back
 *   (weights, best weights, Adam first and second moments), as the tensor table places them.
 * `head -c 4000 checkpoint.bin` shows the header.
 */

export const CHECKPOINTS_DIR = '.checkpoints';
export const CHECKPOINT_FILE = 'checkpoint.bin';
const MAGIC = 'TFTCKPT1';
const PREFIX_BYTES = 16;
const TMP_PREFIX = `.${CHECKPOINT_FILE}.tmp-`;

/** A checkpoint that cannot be read or written: the message names the file. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${detail}`, options);
  }
}

/** Which dataset a run trains on, by content: a resume refuses a dataset that changed. */
export interface DatasetIdentity {
  metricsFile: string;
  metricsSha256: string;
  metadataSha256: string;
}

/** One checkpoint: the run it belongs to and the training state after its last epoch. */
export interface TrainCheckpoint {
  runName: string;
  request: TrainRunRequest;
  dataset: DatasetIdentity;
  /** Which member of an ensemble run the state belongs to (0-based; absent: 0). */
  member?: number;
  state: TrainCheckpointState;
}

const SHA256 = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().min(0);
const GROUPS = ['weights', 'best', 'adam.m', 'adam.v'] as const;

const CheckpointHeaderSchema = z.strictObject({
  format: z.literal(1),
  writtenAt: z.string(),
  runName: z.string().min(1),
  request: TrainRunRequestSchema,
  dataset: z.strictObject({ metricsFile: z.string(), metricsSha256: SHA256, metadataSha256: SHA256 }),
  member: count.optional(),
  state: z.strictObject({
    epoch: z.number().int().min(1),
    // Loose: a setting or history field added by a later build travels through unchanged.
    settings: z.looseObject({}),
    positiveWeight: z.number(),
    history: z.array(
      z.looseObject({ epoch: z.number().int().min(1), trainLoss: z.number(), validationLoss: z.number().nullable(), seconds: z.number() }),
    ),
    best: z.strictObject({ epoch: z.number().int().min(1), loss: z.number() }).nullable(),
    sinceBest: count,
    stopped: z.boolean(),
    stepsDone: count,
    samplesDone: count,
    stepMs: z.number().min(0),
    validationMs: z.number().min(0),
    elapsedMs: z.number().min(0),
    rngDraws: z.strictObject({ augmentation: count }),
    optimizerStep: count,
  }),
  tensors: z.array(
    z.strictObject({ group: z.enum(GROUPS), name: z.string().min(1), shape: z.array(count), offset: count, length: count }),
  ),
  payloadBytes: count,
  payloadSha256: SHA256,
});
type CheckpointHeader = z.infer<typeof CheckpointHeaderSchema>;

/** The bytes of a checkpoint file. */
export function encodeCheckpoint(checkpoint: TrainCheckpoint, writtenAt = new Date()): Uint8Array {
  const { state } = checkpoint;
  const tensors: CheckpointHeader['tensors'] = [];
  const arrays: Float32Array[] = [];
  let offset = 0;
  const add = (group: (typeof GROUPS)[number], name: string, data: Float32Array, shape: number[]): void => {
    tensors.push({ group, name, shape: [...shape], offset, length: data.length });
    arrays.push(data);
    offset += data.length;
  };
  const addWeights = (group: 'weights' | 'best', weights: SerializedWeights): void => {
    for (const name of Object.keys(weights).sort()) add(group, name, weights[name]!.data, weights[name]!.shape);
  };
  addWeights('weights', state.weights);
  if (state.best) addWeights('best', state.best.weights);
  for (const name of Object.keys(state.optimizer.m).sort()) add('adam.m', name, state.optimizer.m[name]!, [state.optimizer.m[name]!.length]);
  for (const name of Object.keys(state.optimizer.v).sort()) add('adam.v', name, state.optimizer.v[name]!, [state.optimizer.v[name]!.length]);

  const payload = new Uint8Array(offset * 4);
  let at = 0;
  for (const a of arrays) {
    payload.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  const header: CheckpointHeader = {
    format: 1,
    writtenAt: writtenAt.toISOString(),
    runName: checkpoint.runName,
    request: checkpoint.request,
    dataset: checkpoint.dataset,
    ...(checkpoint.member === undefined ? {} : { member: checkpoint.member }),
    state: {
      epoch: state.epoch,
      settings: state.settings,
      positiveWeight: state.positiveWeight,
      history: state.history as CheckpointHeader['state']['history'],
      best: state.best ? { epoch: state.best.epoch, loss: state.best.loss } : null,
      sinceBest: state.sinceBest,
      stopped: state.stopped,
      stepsDone: state.stepsDone,
      samplesDone: state.samplesDone,
      stepMs: state.stepMs,
      validationMs: state.validationMs,
      elapsedMs: state.elapsedMs,
      rngDraws: { ...state.rngDraws },
      optimizerStep: state.optimizer.step,
    },
    tensors,
    payloadBytes: payload.length,
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const payloadStart = Math.ceil((PREFIX_BYTES + json.length) / 8) * 8;
  const out = new Uint8Array(payloadStart + payload.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, json.length, true);
  view.setUint32(12, 0, true);
  out.set(json, PREFIX_BYTES);
  out.set(payload, payloadStart);
  return out;
}

/** Parses checkpoint bytes; every problem is a CheckpointError naming `file`. */
export function decodeCheckpoint(bytes: Uint8Array, file: string): TrainCheckpoint {
  const bad = (detail: string, cause?: unknown): CheckpointError =>
    new CheckpointError(file, `not a usable training checkpoint: ${detail}`, cause === undefined ? undefined : { cause });
  if (bytes.length < PREFIX_BYTES || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw bad(`it does not start with ${MAGIC}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getUint32(8, true);
  if (PREFIX_BYTES + headerBytes > bytes.length) throw bad(`truncated (header of ${headerBytes} bytes, file of ${bytes.length})`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes)));
  } catch (error) {
    throw bad(`its header is not JSON (${error instanceof Error ? error.message : String(error)})`, error);
  }
  const parsed = CheckpointHeaderSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw bad(`header field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const header = parsed.data;
  const payloadStart = Math.ceil((PREFIX_BYTES + headerBytes) / 8) * 8;
  const payload = bytes.subarray(payloadStart);
  if (payload.length !== header.payloadBytes) throw bad(`truncated or padded: payload of ${payload.length} bytes, the header says ${header.payloadBytes}`);
  if (createHash('sha256').update(payload).digest('hex') !== header.payloadSha256) throw bad('the payload does not match its sha256 (corrupted)');

  const weights: SerializedWeights = {};
  const best: SerializedWeights = {};
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  for (const t of header.tensors) {
    const elements = t.shape.reduce((a, b) => a * b, 1);
    if (elements !== t.length) throw bad(`tensor ${t.group}/${t.name}: shape [${t.shape.join(',')}] holds ${elements} values, the table says ${t.length}`);
    if ((t.offset + t.length) * 4 > payload.length) throw bad(`tensor ${t.group}/${t.name} lies beyond the payload`);
    // Copied out: the file's buffer need not be 4-byte aligned, and the state must own its arrays.
    const data = new Float32Array(t.length);
    new Uint8Array(data.buffer).set(payload.subarray(t.offset * 4, (t.offset + t.length) * 4));
    if (t.group === 'weights') weights[t.name] = { data, shape: t.shape };
    else if (t.group === 'best') best[t.name] = { data, shape: t.shape };
    else if (t.group === 'adam.m') m[t.name] = data;
    else v[t.name] = data;
  }
  const s = header.state;
  if ((s.best === null) !== (Object.keys(best).length === 0)) throw bad('the best epoch and the best weights disagree');
  const state: TrainCheckpointState = {
    epoch: s.epoch,
    settings: s.settings as TrainTftResult['settings'],
    positiveWeight: s.positiveWeight,
    weights,
    optimizer: { step: s.optimizerStep, m, v },
    history: s.history,
    best: s.best ? { epoch: s.best.epoch, loss: s.best.loss, weights: best } : null,
    sinceBest: s.sinceBest,
    stopped: s.stopped,
    stepsDone: s.stepsDone,
    samplesDone: s.samplesDone,
    stepMs: s.stepMs,
    validationMs: s.validationMs,
    elapsedMs: s.elapsedMs,
    rngDraws: s.rngDraws,
  };
  return { runName: header.runName, request: header.request, dataset: header.dataset, ...(header.member === undefined ? {} : { member: header.member }), state };
}

/**
 * Writes `<dir>/checkpoint.bin` atomically (see the file comment); creates `dir`. Returns the
 * file's path. Throws CheckpointError; the previous checkpoint, if any, is then unchanged.
 */
export async function writeCheckpoint(dir: string, checkpoint: TrainCheckpoint, fs: FolderWriteFs = nodeFolderFs): Promise<string> {
  const file = join(dir, CHECKPOINT_FILE);
  const bytes = encodeCheckpoint(checkpoint);
  const tmp = join(dir, `${TMP_PREFIX}${randomBytes(6).toString('hex')}`);
  let step = 'creating the folder';
  try {
    await fs.mkdirp(dir);
    step = 'removing stale temporary files';
    for (const name of await readdir(dir)) if (name.startsWith(TMP_PREFIX)) await fs.rm(join(dir, name));
    step = 'writing the temporary file';
    await fs.writeFileDurable(tmp, bytes);
    step = 'renaming it into place';
    await fs.rename(tmp, file);
    step = 'syncing the folder';
    await fs.syncDir(dir);
    return file;
  } catch (error) {
    await fs.rm(tmp).catch(() => undefined);
    throw new CheckpointError(file, `${step} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** The checkpoint file of `path`: the file itself, or `checkpoint.bin` in a run folder. */
export async function checkpointFileOf(path: string): Promise<string> {
  const full = resolve(path);
  try {
    return (await stat(full)).isDirectory() ? join(full, CHECKPOINT_FILE) : full;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new CheckpointError(full, 'does not exist');
    throw new CheckpointError(full, `cannot be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Reads a run's checkpoint (`path`: the run folder or its checkpoint.bin). Throws CheckpointError. */
export async function readCheckpoint(path: string): Promise<TrainCheckpoint & { file: string; dir: string }> {
  const file = await checkpointFileOf(path);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT')
      throw new CheckpointError(file, 'missing: no epoch of this run had finished, there is nothing to resume (start it again)', { cause: error });
    throw new CheckpointError(file, `cannot be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return { ...decodeCheckpoint(bytes, file), file, dir: dirname(file) };
}

/** tft_run_YYYYMMDD_HHMMSS (UTC). */
export function runNameFor(now: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `tft_run_${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}_${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
}

/**
 * Creates a new run's checkpoint folder, `<output>/.checkpoints/<run>/` (a suffix when the name
 * is taken), and returns its name and path.
 */
export async function createRunDir(output: string, now: Date, fs: FolderWriteFs = nodeFolderFs): Promise<{ runName: string; dir: string }> {
  const parent = join(resolve(output), CHECKPOINTS_DIR);
  await fs.mkdirp(parent);
  const base = runNameFor(now);
  for (let n = 1; ; n++) {
    const runName = n === 1 ? base : `${base}_${n}`;
    const dir = join(parent, runName);
    try {
      await fs.mkdir(dir);
      return { runName, dir };
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST' || n >= 1000) throw error;
    }
  }
}

/** Removes a run's checkpoint folder, and `.checkpoints/` above it when that is left empty. */
export async function removeRunDir(dir: string, fs: FolderWriteFs = nodeFolderFs): Promise<void> {
  await fs.rm(dir);
  const parent = dirname(dir);
  if (basename(parent) !== CHECKPOINTS_DIR) return;
  // rmdir, not rm: it fails when another run has put its folder there meanwhile.
  await rmdir(parent).catch(() => undefined);
}

/** sha256 of a file's content (the dataset identity of a checkpoint). */
export async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}
