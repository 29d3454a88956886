import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { API_VERSION, DATA_CONTRACT_VERSION } from '@shared/contract';
import { APP_INFO } from '../../app-info';
import { MAX_ONNX_BYTES, parseManifest } from './load-model-folder';
import { ModelFolderError, describeFsError, errnoCode } from './model-folder-error';
import {
  DEFAULT_ONNX_FILE,
  MANIFEST_FILE,
  MODEL_FORMAT_VERSION,
  type ModelManifest,
  type ModelManifestDraft,
} from './model-manifest';

/**
 * The file system operations the writer uses, so a test can make one fail half way (the
 * "crash" cases) without root tricks: the default is `nodeFolderFs`.
 */
export interface FolderWriteFs {
  /** Creates a folder and its parents; no error if it exists. */
  mkdirp(path: string): Promise<void>;
  /** Creates one folder; fails if it exists. */
  mkdir(path: string): Promise<void>;
  /** Creates `path` (fails if it exists), writes all of `data`, fsyncs and closes it. */
  writeFileDurable(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file or folder recursively; no error if absent. */
  rm(path: string): Promise<void>;
  /** fsyncs a folder so the entries created or renamed in it survive a power loss. */
  syncDir(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
}

export const nodeFolderFs: FolderWriteFs = {
  mkdirp: async (path) => {
    await mkdir(path, { recursive: true });
  },
  mkdir: async (path) => {
    await mkdir(path);
  },
  writeFileDurable: async (path, data) => {
    const handle = await open(path, 'wx', 0o644);
    try {
      let offset = 0;
      while (offset < data.length) offset += (await handle.write(data, offset, data.length - offset)).bytesWritten;
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => rename(from, to),
  rm: (path) => rm(path, { recursive: true, force: true }),
  syncDir: async (path) => {
    let handle;
    try {
      handle = await open(path, 'r');
      await handle.sync();
    } catch (error) {
      // Windows cannot open or fsync a directory (EPERM/EISDIR); its renames are metadata-journaled
      // by NTFS, so there is nothing more to do there.
      const code = errnoCode(error);
      if (code !== 'EPERM' && code !== 'EISDIR' && code !== 'EINVAL') throw error;
    } finally {
      await handle?.close();
    }
  },
  exists: async (path) => {
    try {
      await stat(path);
      return true;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false;
      throw error;
    }
  },
};

export interface WriteModelFolderOptions {
  /**
   * Replace an existing folder at `dir`. Off by default: model folders are named by time and
   * never reused, so an existing one is a mistake (or another run) rather than a stale copy.
   * When on, the old folder is renamed aside (`.<name>.old-<random>`), the new one renamed in,
   * then the old one removed: a crash between the two renames leaves no folder under the name
   * (the loader says "missing", the registry falls back to the bundled model) and the old
   * model recoverable beside it; never a mix of the two. POSIX has no atomic swap of two
   * non-empty folders, and Node exposes no renameat2(RENAME_EXCHANGE).
   */
  overwrite?: boolean;
  /** Refuse ONNX files the loader would refuse; default MAX_ONNX_BYTES. */
  maxOnnxBytes?: number;
  fs?: FolderWriteFs;
}

export interface WrittenModelFolder {
  dir: string;
  /** As written, with the sha256 and size computed here. */
  manifest: ModelManifest;
}

/**
 * Writes model.onnx and model.json so that no crash leaves a folder that loads with mismatched
 * files: both are written into a hidden temporary sibling (`.<name>.tmp-<random>`), fsynced,
 * the temporary folder fsynced, then renamed to `dir` in one step and the parent fsynced.
 * Readers see no folder, or the complete one. The ONNX sha256 and size are computed from
 * `onnxBytes` (whatever the caller put in the draft is ignored), and the manifest is validated
 * with the loader's own checks before anything is written, so a folder that would not load is
 * never written. Parents of `dir` are created. On failure the temporary folder is removed and
 * a ModelFolderError is thrown ('already_exists', 'bad_manifest', 'contract_mismatch',
 * 'too_large' or 'write_failed').
 *
 * A process killed mid-write leaves its hidden `.tmp-` folder behind; the registry ignores
 * hidden folders, and deleting them is safe.
 */
export async function writeModelFolder(
  dirIn: string,
  content: { onnxBytes: Uint8Array; manifest: ModelManifestDraft },
  options: WriteModelFolderOptions = {},
): Promise<WrittenModelFolder> {
  const dir = resolve(dirIn);
  const fs = options.fs ?? nodeFolderFs;
  const { onnxBytes, manifest: draft } = content;
  const onnxFile = draft.onnx.file ?? DEFAULT_ONNX_FILE;
  const maxBytes = options.maxOnnxBytes ?? MAX_ONNX_BYTES;

  if (onnxBytes.length === 0)
    throw new ModelFolderError('bad_manifest', 'the ONNX bytes to write are empty', {
      dir,
      file: onnxFile,
      field: 'onnx.sizeBytes',
    });
  if (onnxBytes.length > maxBytes)
    throw new ModelFolderError(
      'too_large',
      `the ONNX bytes to write are ${onnxBytes.length} bytes, over the ${maxBytes}-byte limit the loader enforces`,
      { dir, file: onnxFile, field: 'onnx.sizeBytes' },
    );

  // Built in schema order, so model.json reads the same way in every folder.
  const candidate = {
    formatVersion: MODEL_FORMAT_VERSION,
    name: draft.name,
    version: draft.version,
    createdAt: draft.createdAt ?? new Date().toISOString(),
    contractVersion: draft.contractVersion ?? DATA_CONTRACT_VERSION,
    writtenBy: draft.writtenBy ?? { app: APP_INFO.id, appVersion: APP_INFO.version, apiVersion: API_VERSION },
    featureSpec: draft.featureSpec,
    onnx: {
      file: onnxFile,
      sha256: createHash('sha256').update(onnxBytes).digest('hex'),
      sizeBytes: onnxBytes.length,
      opset: draft.onnx.opset,
      inputs: draft.onnx.inputs,
      outputs: draft.onnx.outputs,
    },
    hyperParameters: draft.hyperParameters,
    training: draft.training,
    ...(draft.evaluation === undefined ? {} : { evaluation: draft.evaluation }),
    ...(draft.notes === undefined ? {} : { notes: draft.notes }),
  };
  // The loader's checks (contract included): what is written must load.
  const manifest = parseManifest(candidate, dir);
  const json = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);

  const parent = dirname(dir);
  const name = basename(dir);
  const suffix = randomBytes(6).toString('hex');
  const tmp = join(parent, `.${name}.tmp-${suffix}`);
  // What is being done, for the error message if it fails.
  let step = 'creating the parent folder';
  let file: string | null = null;
  let tmpCreated = false;
  let placed = false;
  try {
    await fs.mkdirp(parent);
    step = 'checking the target';
    if (!options.overwrite && (await fs.exists(dir)))
      throw new ModelFolderError('already_exists', 'already exists (pass overwrite to replace it)', { dir });

    step = 'creating the temporary folder';
    await fs.mkdir(tmp);
    tmpCreated = true;
    file = onnxFile;
    step = `writing ${onnxFile}`;
    await fs.writeFileDurable(join(tmp, onnxFile), onnxBytes);
    file = MANIFEST_FILE;
    step = `writing ${MANIFEST_FILE}`;
    await fs.writeFileDurable(join(tmp, MANIFEST_FILE), json);
    file = null;
    step = 'syncing the temporary folder';
    await fs.syncDir(tmp);

    if (options.overwrite && (await fs.exists(dir))) {
      const old = join(parent, `.${name}.old-${suffix}`);
      step = 'moving the existing folder aside';
      await fs.rename(dir, old);
      step = 'renaming the new folder into place';
      try {
        await fs.rename(tmp, dir);
      } catch (error) {
        // Put the old model back: the name keeps a complete folder, the previous one.
        const restored = await fs.rename(old, dir).then(
          () => true,
          () => false,
        );
        if (!restored)
          throw new ModelFolderError(
            'write_failed',
            `${step} failed (${describeFsError(error)}) and the previous folder could not be moved back: it is at "${old}"`,
            { dir, cause: error },
          );
        throw error;
      }
      tmpCreated = false;
      placed = true;
      step = 'syncing the parent folder';
      await fs.syncDir(parent);
      // The new model is in place; a leftover hidden folder is harmless (the registry skips it).
      await fs.rm(old).catch(() => undefined);
    } else {
      step = 'renaming the new folder into place';
      try {
        await fs.rename(tmp, dir);
      } catch (error) {
        // Created by someone else since the check: rename(2) only replaces an empty folder.
        const code = errnoCode(error);
        if (code === 'ENOTEMPTY' || code === 'EEXIST')
          throw new ModelFolderError('already_exists', 'already exists (created while this one was being written)', {
            dir,
            cause: error,
          });
        throw error;
      }
      tmpCreated = false;
      placed = true;
      step = 'syncing the parent folder';
      await fs.syncDir(parent);
    }
    return { dir, manifest };
  } catch (error) {
    if (tmpCreated) await fs.rm(tmp).catch(() => undefined);
    if (error instanceof ModelFolderError) throw error;
    const left = placed
      ? '; the folder is complete but may not survive a power loss'
      : options.overwrite
        ? '; the previous folder, if any, is unchanged'
        : '; nothing was written under the folder name';
    throw new ModelFolderError('write_failed', `${step} failed: ${describeFsError(error)}${left}`, {
      dir,
      file,
      cause: error,
    });
  }
}
