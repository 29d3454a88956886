import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ExportedTensor } from '../export';
import { errnoCode } from '../folder/model-folder-error';
import { nodeFolderFs, type FolderWriteFs } from '../folder/write-model-folder';
import type { TftConfig } from '../tft/config';
import { CheckpointError } from './checkpoint-file';
import type { SeasonalBlendFit } from './seasonal-blend';
import type { TrainTftResult } from './train-model';

/**
 * The finished members of an ensemble run, kept in the run's checkpoint folder until the model
 * folder is written: `member-<k>.onnx` (the member's exported graph) and `member-<k>.json` (what
 * the manifest says about it, and the graph's sha256). The JSON is written after the graph, each
 * atomically (temporary file, fsync, rename), so a member counts as finished only once both are
 * whole. A resumed run reuses them and trains only the members after them.
 */
export interface FinishedMember {
  /** 0-based position in the ensemble. */
  index: number;
  seed: number;
  onnxBytes: Uint8Array;
  onnx: { inputs: ExportedTensor[]; outputs: ExportedTensor[] };
  /** The configuration exported (with its seasonal blend). */
  config: TftConfig;
  training: Omit<TrainTftResult, 'model'>;
  blend: SeasonalBlendFit | null;
  paramCount: number;
  weightsSha256: string;
}

const SHA256 = z.string().regex(/^[0-9a-f]{64}$/);

const MemberFileSchema = z.strictObject({
  format: z.literal(1),
  index: z.number().int().min(0),
  seed: z.number().int(),
  onnxSha256: SHA256,
  // Loose: written by this module from values it just produced; a later build may add fields.
  onnx: z.strictObject({ inputs: z.array(z.looseObject({ name: z.string() })), outputs: z.array(z.looseObject({ name: z.string() })) }),
  config: z.looseObject({ hidden: z.number() }),
  training: z.looseObject({ history: z.array(z.looseObject({})), bestEpoch: z.number().int().min(0), settings: z.looseObject({ seed: z.number() }) }),
  blend: z.looseObject({ blend: z.array(z.number()) }).nullable(),
  paramCount: z.number().int().min(0),
  weightsSha256: SHA256,
});

const memberFiles = (dir: string, index: number): { onnx: string; json: string } => ({
  onnx: join(dir, `member-${index}.onnx`),
  json: join(dir, `member-${index}.json`),
});

async function writeAtomic(fs: FolderWriteFs, dir: string, file: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dir, `.member.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await fs.writeFileDurable(tmp, bytes);
    await fs.rename(tmp, file);
    await fs.syncDir(dir);
  } catch (error) {
    await fs.rm(tmp).catch(() => undefined);
    throw new CheckpointError(file, `writing a finished ensemble member failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Keeps a finished member in the run's checkpoint folder (graph first, then its JSON). */
export async function writeFinishedMember(dir: string, member: FinishedMember, fs: FolderWriteFs = nodeFolderFs): Promise<void> {
  const files = memberFiles(dir, member.index);
  await fs.mkdirp(dir);
  await writeAtomic(fs, dir, files.onnx, member.onnxBytes);
  const { onnxBytes, ...rest } = member;
  const json = { format: 1, ...rest, onnxSha256: createHash('sha256').update(onnxBytes).digest('hex') };
  await writeAtomic(fs, dir, files.json, new TextEncoder().encode(JSON.stringify(json)));
}

/**
 * The members `dir` holds finished, in order from member 0, up to the first missing one (those
 * after it are trained again). Each must be the member `seeds` asks for at its place, and its
 * graph must match its sha256: anything else is a CheckpointError naming the file.
 */
export async function readFinishedMembers(dir: string, seeds: readonly number[]): Promise<FinishedMember[]> {
  const out: FinishedMember[] = [];
  for (let index = 0; index < seeds.length; index++) {
    const files = memberFiles(dir, index);
    let text: string;
    try {
      text = await readFile(files.json, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') break;
      throw new CheckpointError(files.json, `cannot be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new CheckpointError(files.json, `not JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
    }
    const parsed = MemberFileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new CheckpointError(files.json, `not a finished ensemble member: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    const m = parsed.data;
    if (m.index !== index || m.seed !== seeds[index])
      throw new CheckpointError(files.json, `holds member ${m.index} (seed ${m.seed}), the run's member ${index} has seed ${seeds[index]}`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(files.onnx));
    } catch (error) {
      throw new CheckpointError(files.onnx, `cannot be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (createHash('sha256').update(bytes).digest('hex') !== m.onnxSha256) throw new CheckpointError(files.onnx, 'does not match the sha256 its member file records (corrupted)');
    out.push({
      index,
      seed: m.seed,
      onnxBytes: bytes,
      onnx: m.onnx as unknown as FinishedMember['onnx'],
      config: m.config as unknown as TftConfig,
      training: m.training as unknown as FinishedMember['training'],
      blend: m.blend as unknown as SeasonalBlendFit | null,
      paramCount: m.paramCount,
      weightsSha256: m.weightsSha256,
    });
  }
  return out;
}
