export type ModelFolderErrorCode =
  /** The folder does not exist or is not a directory. */
  | 'missing_folder'
  /** model.json or the ONNX file is absent. */
  | 'missing_file'
  /** The file exists but cannot be read (permissions, a directory where a file belongs, an I/O error). */
  | 'unreadable'
  /** A file is over the size limit: refused before it is read, so a bad folder cannot exhaust memory. */
  | 'too_large'
  /** model.json is not UTF-8 JSON, or not a JSON object. */
  | 'bad_json'
  /** model.json is JSON but does not match the manifest schema (wrong type, missing or unknown field...). */
  | 'bad_manifest'
  /** model.json declares a folder format this build does not read. */
  | 'unsupported_format'
  /** The model was trained under another major version of the data contract. */
  | 'contract_mismatch'
  /** The ONNX file's size is not the one model.json records (truncated or replaced). */
  | 'size_mismatch'
  /** The ONNX file's sha256 is not the one model.json records (corrupted or replaced). */
  | 'checksum_mismatch'
  /** writeModelFolder: the target exists and overwriting was not asked for. */
  | 'already_exists'
  /** writeModelFolder: a file system operation failed; nothing was left under the final name. */
  | 'write_failed'
  /** resolveActive: neither the preferred nor the bundled model loads. */
  | 'no_usable_model';

/** One schema problem, located: `field` is a path such as "training.dataset.windows.train". */
export interface ManifestIssue {
  field: string;
  message: string;
}

/**
 * Every refusal of a model folder. The message always names the folder, and the file and field
 * when there is one, because it is shown as is to the person who must fix the folder (Models
 * view, `train` output, the daemon log); `code`, `file` and `field` are for programs.
 */
export class ModelFolderError extends Error {
  override readonly name = 'ModelFolderError';
  readonly code: ModelFolderErrorCode;
  readonly dir: string;
  /** File name inside `dir` ("model.json", "model.onnx"), or null for the folder itself. */
  readonly file: string | null;
  /** Manifest field path ("featureSpec.quantiles"), or null when the problem is not one field's. */
  readonly field: string | null;
  /** bad_manifest: every schema problem found (the message quotes the first). */
  readonly issues: readonly ManifestIssue[];

  constructor(
    code: ModelFolderErrorCode,
    detail: string,
    where: {
      dir: string;
      file?: string | null;
      field?: string | null;
      issues?: readonly ManifestIssue[];
      cause?: unknown;
    },
  ) {
    const file = where.file ?? null;
    const field = where.field ?? null;
    const location = [`model folder "${where.dir}"`, file && `file "${file}"`, field && `field "${field}"`]
      .filter((part): part is string => typeof part === 'string' && part.length > 0)
      .join(', ');
    super(`${location}: ${detail}`, where.cause === undefined ? undefined : { cause: where.cause });
    this.code = code;
    this.dir = where.dir;
    this.file = file;
    this.field = field;
    this.issues = where.issues ?? [];
  }
}

export function isModelFolderError(error: unknown): error is ModelFolderError {
  return error instanceof ModelFolderError;
}

/** The errno code of a Node fs error, if it is one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** A short, human reason from an fs error ("EACCES: permission denied"), without the path we already name. */
export function describeFsError(error: unknown): string {
  const code = errnoCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === undefined) return message;
  // Node's messages are "CODE: text, syscall 'path'": the syscall is noise to a reader and the
  // path is already in our own message.
  const text = message.replace(/,\s*\w+(\s+'[^']*'(\s*->\s*'[^']*')?)?$/, '');
  return text.startsWith(code) ? text : `${code}: ${text}`;
}
