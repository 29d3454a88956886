import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  loadModelFolder,
  verifyModelFolder,
  type LoadModelFolderOptions,
  type LoadedModelFolder,
} from './load-model-folder';
import { ModelFolderError, describeFsError, errnoCode } from './model-folder-error';
import { type ModelManifest } from './model-manifest';

/** One folder under the registry root: its manifest if it checks out, else why not. */
export type ModelListing =
  | { dir: string; folder: string; ok: true; manifest: ModelManifest }
  | { dir: string; folder: string; ok: false; error: ModelFolderError };

export interface ActiveModel {
  model: LoadedModelFolder;
  source: 'preferred' | 'bundled';
  /**
   * Why the preferred model is not the active one, ready to show ("model folder ".../x",
   * file "model.onnx", field "onnx.sha256": has sha256 ..."); null when it is, or when none
   * was preferred.
   */
  fallbackReason: string | null;
  preferredError: ModelFolderError | null;
}

/**
 * The model folders under one root (`models/`). Small on purpose: listing and choosing the
 * model to run; activation state lives with the settings, not here.
 */
export class ModelRegistry {
  readonly root: string;
  private readonly options: LoadModelFolderOptions;

  constructor(root: string, options: LoadModelFolderOptions = {}) {
    this.root = resolve(root);
    this.options = options;
  }

  /**
   * Every folder under the root, sorted by folder name (tft_model_YYYYMMDD_HHMMSS sorts by
   * time). Each is fully verified (schema, contract, size, sha256; hashed without keeping the
   * bytes), and a bad one is listed with its error rather than thrown: the Models view shows
   * it and why. Hidden folders (a writer's `.tmp-`/`.old-` leftovers) and plain files are
   * skipped. A missing root lists nothing; an unreadable root throws ModelFolderError.
   */
  async list(): Promise<ModelListing[]> {
    let names: string[];
    try {
      names = (await readdir(this.root)).filter((n) => !n.startsWith('.')).sort();
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw new ModelFolderError('unreadable', `cannot list the models folder: ${describeFsError(error)}`, {
        dir: this.root,
        cause: error,
      });
    }
    const listings: ModelListing[] = [];
    for (const folder of names) {
      const dir = join(this.root, folder);
      // stat, not the dirent type: a symlinked model folder counts, a stray file does not.
      const isDir = await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!isDir) continue;
      try {
        const { manifest } = await verifyModelFolder(dir, this.options);
        listings.push({ dir, folder, ok: true, manifest });
      } catch (error) {
        listings.push({ dir, folder, ok: false, error: asFolderError(error, dir) });
      }
    }
    return listings;
  }

  resolveActive(preferredDir: string | null | undefined, bundledDir: string): Promise<ActiveModel> {
    return resolveActiveModel(preferredDir, bundledDir, this.options);
  }
}

/**
 * The model to run: the preferred folder (the one the user activated) if it loads, else the
 * bundled default, with the reason. This is what keeps "a bad model never takes predictions
 * down": a corrupted, mismatched or missing preferred folder costs a reported fallback, not
 * the predictions. Throws ModelFolderError 'no_usable_model' only when the bundled folder fails
 * too (a broken install), naming both reasons.
 */
export async function resolveActiveModel(
  preferredDir: string | null | undefined,
  bundledDir: string,
  options: LoadModelFolderOptions = {},
): Promise<ActiveModel> {
  let preferredError: ModelFolderError | null = null;
  if (preferredDir !== null && preferredDir !== undefined && resolve(preferredDir) !== resolve(bundledDir)) {
    try {
      return {
        model: await loadModelFolder(preferredDir, options),
        source: 'preferred',
        fallbackReason: null,
        preferredError: null,
      };
    } catch (error) {
      preferredError = asFolderError(error, resolve(preferredDir));
    }
  }
  try {
    const model = await loadModelFolder(bundledDir, options);
    return {
      model,
      source: 'bundled',
      fallbackReason:
        preferredError === null
          ? null
          : `the preferred model was refused, using the bundled one: ${preferredError.message}`,
      preferredError,
    };
  } catch (error) {
    const bundledError = asFolderError(error, resolve(bundledDir));
    const why = preferredError === null ? '' : ` The preferred model was refused too: ${preferredError.message}`;
    throw new ModelFolderError(
      'no_usable_model',
      `the bundled model cannot be loaded: ${bundledError.message}.${why}`,
      {
        dir: bundledError.dir,
        file: bundledError.file,
        field: bundledError.field,
        issues: bundledError.issues,
        cause: bundledError,
      },
    );
  }
}

/** The loader throws ModelFolderError only; this keeps a bug elsewhere from escaping as another type. */
function asFolderError(error: unknown, dir: string): ModelFolderError {
  if (error instanceof ModelFolderError) return error;
  return new ModelFolderError('unreadable', error instanceof Error ? error.message : String(error), {
    dir,
    cause: error,
  });
}
