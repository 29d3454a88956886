import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type z } from 'zod';
import { DATA_CONTRACT_VERSION, isCompatibleContract } from '@shared/contract';
import { ModelFolderError, describeFsError, errnoCode, type ManifestIssue } from './model-folder-error';
import {
  MANIFEST_FILE,
  MODEL_FORMAT_VERSION,
  ModelManifestSchema,
  formatFieldPath,
  type ModelManifest,
} from './model-manifest';

/** Largest ONNX file loaded: checked on the file's size before a byte is read. */
export const MAX_ONNX_BYTES = 512 * 1024 * 1024;
/**
 * Largest model.json: generous (the training server list of a 100,000-server fleet is a few
 * MB) but bounded, since the whole file is parsed in memory.
 */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** Hashing chunk: large enough that syscalls do not dominate, small enough to stay in cache. */
const CHUNK_BYTES = 1024 * 1024;

export interface LoadModelFolderOptions {
  /** Default MAX_ONNX_BYTES. */
  maxOnnxBytes?: number;
  /** Default MAX_MANIFEST_BYTES. */
  maxManifestBytes?: number;
}

export interface LoadedModelFolder {
  /** Absolute path of the folder. */
  dir: string;
  manifest: ModelManifest;
  /** The ONNX file, verified against the manifest's size and sha256. */
  onnxBytes: Uint8Array;
}

/**
 * Reads a model folder and checks it, refusing it at the first problem:
 *   1. the folder exists;
 *   2. model.json is under the size limit, UTF-8, JSON, an object;
 *   3. its formatVersion is one this build reads and its contract major version is ours
 *      (checked on the raw JSON before the schema: a model from another contract or format
 *      fails the schema in ways that hide the real cause, so the version is reported first);
 *   4. it matches ModelManifestSchema (every issue located by field path);
 *   5. the ONNX file exists, is under the size limit (checked before reading), has the size
 *      and then the sha256 model.json records (hashed while it is read, one pass).
 * Every failure is a ModelFolderError naming the folder, the file and the field; file system
 * errors are wrapped, so a caller deciding "use this model or keep the previous one" needs
 * to catch one type only.
 */
export async function loadModelFolder(dir: string, options: LoadModelFolderOptions = {}): Promise<LoadedModelFolder> {
  const loaded = await checkFolder(dir, options, true);
  return { dir: loaded.dir, manifest: loaded.manifest, onnxBytes: loaded.onnxBytes ?? new Uint8Array() };
}

/**
 * The same checks as loadModelFolder, with the ONNX file hashed through a fixed buffer and not
 * kept: for listing many folders without holding every model in memory.
 */
export async function verifyModelFolder(
  dir: string,
  options: LoadModelFolderOptions = {},
): Promise<{ dir: string; manifest: ModelManifest }> {
  const checked = await checkFolder(dir, options, false);
  return { dir: checked.dir, manifest: checked.manifest };
}

/**
 * Validates a manifest object (parsed JSON, or what a writer is about to write). Throws
 * ModelFolderError: unsupported_format, contract_mismatch or bad_manifest.
 */
export function parseManifest(raw: unknown, dir: string): ModelManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const kind = raw === null ? 'null' : Array.isArray(raw) ? 'an array' : `a ${typeof raw}`;
    throw new ModelFolderError('bad_json', `the top level must be a JSON object, found ${kind}`, {
      dir,
      file: MANIFEST_FILE,
    });
  }
  const record = raw as Record<string, unknown>;
  const format = record.formatVersion;
  if (typeof format === 'number' && format !== MODEL_FORMAT_VERSION)
    throw new ModelFolderError(
      'unsupported_format',
      `folder format ${format}, this build reads format ${MODEL_FORMAT_VERSION}: use a matching version of the app`,
      { dir, file: MANIFEST_FILE, field: 'formatVersion' },
    );
  const contract = record.contractVersion;
  if (typeof contract === 'string' && /^\d+\.\d+\.\d+$/.test(contract) && !isCompatibleContract(contract))
    throw new ModelFolderError(
      'contract_mismatch',
      `trained on data contract ${contract}, this build uses ${DATA_CONTRACT_VERSION} (major versions differ): retrain the model on current data`,
      { dir, file: MANIFEST_FILE, field: 'contractVersion' },
    );
  const parsed = ModelManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = manifestIssues(parsed.error);
    const first = issues[0] ?? { field: '(root)', message: 'does not match the manifest schema' };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    throw new ModelFolderError('bad_manifest', `${first.message}${more}`, {
      dir,
      file: MANIFEST_FILE,
      field: first.field,
      issues,
    });
  }
  return parsed.data;
}

/** zod issues as field paths; an unknown key is reported at its own path, not its parent's. */
export function manifestIssues(error: z.ZodError): ManifestIssue[] {
  return error.issues.flatMap((issue): ManifestIssue[] => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({
        field: formatFieldPath([...issue.path, key]),
        message: 'unknown field (not part of the model.json format)',
      }));
    return [{ field: formatFieldPath(issue.path), message: issue.message }];
  });
}

interface Checked {
  dir: string;
  manifest: ModelManifest;
  onnxBytes: Uint8Array | null;
}

async function checkFolder(dirIn: string, options: LoadModelFolderOptions, keepBytes: boolean): Promise<Checked> {
  const dir = resolve(dirIn);
  const maxOnnx = options.maxOnnxBytes ?? MAX_ONNX_BYTES;
  const maxManifest = options.maxManifestBytes ?? MAX_MANIFEST_BYTES;
  // The file being worked on, so a wrapped fs error can still name it.
  let file: string | null = null;
  try {
    await checkIsFolder(dir);
    file = MANIFEST_FILE;
    const raw = await readManifestJson(dir, maxManifest);
    const manifest = parseManifest(raw, dir);
    file = manifest.onnx.file;
    const onnxBytes = await readVerifiedOnnx(dir, manifest, maxOnnx, keepBytes);
    return { dir, manifest, onnxBytes };
  } catch (error) {
    if (error instanceof ModelFolderError) throw error;
    throw new ModelFolderError('unreadable', describeFsError(error), { dir, file, cause: error });
  }
}

async function checkIsFolder(dir: string): Promise<void> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new ModelFolderError('missing_folder', 'is not a folder', { dir });
  } catch (error) {
    if (error instanceof ModelFolderError) throw error;
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new ModelFolderError('missing_folder', 'does not exist', { dir, cause: error });
    throw error;
  }
}

/** Opens a file of the folder; ENOENT becomes missing_file, a non-file `unreadable`. */
async function openInFolder(
  dir: string,
  file: string,
  field: string | null,
): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(join(dir, file), 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT')
      throw new ModelFolderError('missing_file', 'is missing', { dir, file, field, cause: error });
    throw error;
  }
  try {
    // fstat on the open handle: the size checked is the size of the file then read.
    const info = await handle.stat();
    if (!info.isFile()) throw new ModelFolderError('unreadable', 'is not a regular file', { dir, file, field });
    return { handle, size: info.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function readManifestJson(dir: string, maxBytes: number): Promise<unknown> {
  const { handle, size } = await openInFolder(dir, MANIFEST_FILE, null);
  let bytes: Buffer;
  try {
    if (size > maxBytes)
      throw new ModelFolderError('too_large', `is ${size} bytes, over the ${maxBytes}-byte limit for a manifest`, {
        dir,
        file: MANIFEST_FILE,
      });
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  let text: string;
  try {
    // fatal: a corrupted byte is an error, not a U+FFFD that might still parse. A BOM is dropped.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new ModelFolderError('bad_json', 'is not valid UTF-8 text', { dir, file: MANIFEST_FILE, cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ModelFolderError('bad_json', `is not valid JSON (${why})`, { dir, file: MANIFEST_FILE, cause: error });
  }
}

async function readVerifiedOnnx(
  dir: string,
  manifest: ModelManifest,
  maxBytes: number,
  keepBytes: boolean,
): Promise<Uint8Array | null> {
  const file = manifest.onnx.file;
  const { handle, size } = await openInFolder(dir, file, 'onnx.file');
  try {
    if (size > maxBytes)
      throw new ModelFolderError('too_large', `is ${size} bytes, over the ${maxBytes}-byte limit for a model`, {
        dir,
        file,
        field: 'onnx.sizeBytes',
      });
    const sizeMismatch = (detail: string): ModelFolderError =>
      new ModelFolderError('size_mismatch', detail, { dir, file, field: 'onnx.sizeBytes' });
    if (size !== manifest.onnx.sizeBytes)
      throw sizeMismatch(
        `is ${size} bytes but model.json records ${manifest.onnx.sizeBytes} (truncated, or replaced without updating model.json)`,
      );

    // One pass: each chunk is hashed as it lands, straight into the result buffer when the
    // bytes are kept (no second copy of a model that may be hundreds of MB).
    const hash = createHash('sha256');
    const buffer = new Uint8Array(keepBytes ? size : Math.min(CHUNK_BYTES, size));
    let offset = 0;
    while (offset < size) {
      const length = Math.min(CHUNK_BYTES, size - offset);
      const at = keepBytes ? offset : 0;
      const { bytesRead } = await handle.read(buffer, at, length, offset);
      if (bytesRead === 0) throw sizeMismatch(`changed while being read: ended after ${offset} of ${size} bytes`);
      hash.update(buffer.subarray(at, at + bytesRead));
      offset += bytesRead;
    }
    // Grown while being read: the bytes hashed would not be the file's.
    const probe = await handle.read(new Uint8Array(1), 0, 1, size);
    if (probe.bytesRead > 0) throw sizeMismatch(`changed while being read: grew past ${size} bytes`);

    const sha256 = hash.digest('hex');
    if (sha256 !== manifest.onnx.sha256)
      throw new ModelFolderError(
        'checksum_mismatch',
        `has sha256 ${sha256} but model.json records ${manifest.onnx.sha256} (corrupted or replaced)`,
        { dir, file, field: 'onnx.sha256' },
      );
    return keepBytes ? buffer : null;
  } finally {
    await handle.close();
  }
}
