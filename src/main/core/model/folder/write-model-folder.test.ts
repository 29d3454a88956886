import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ModelFolderError,
  ModelRegistry,
  loadModelFolder,
  nodeFolderFs,
  writeModelFolder,
  type FolderWriteFs,
} from './index';
import { fakeOnnxBytes, sampleDraft } from './testing/manifest-fixture';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'model-write-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

/** node fs, except that writing `failOn` writes half the bytes and then fails, like a full disk. */
function failingWrite(failOn: string, over: Partial<FolderWriteFs> = {}): FolderWriteFs {
  return {
    ...nodeFolderFs,
    writeFileDurable: async (path, data) => {
      if (basename(path) !== failOn) return nodeFolderFs.writeFileDurable(path, data);
      await writeFile(path, data.subarray(0, data.length >> 1));
      throw enospc();
    },
    ...over,
  };
}

async function refusal(promise: Promise<unknown>): Promise<ModelFolderError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFolderError);
    return error as ModelFolderError;
  }
  throw new Error('expected a refusal');
}

describe('writeModelFolder', () => {
  it('creates missing parents and syncs files, then the temp folder, then renames, then syncs the parent', async () => {
    const log: string[] = [];
    const fs: FolderWriteFs = {
      ...nodeFolderFs,
      writeFileDurable: async (p, d) => {
        log.push(`write ${basename(p)}`);
        await nodeFolderFs.writeFileDurable(p, d);
      },
      syncDir: async (p) => {
        log.push(`sync ${basename(p).replace(/-[0-9a-f]{12}$/, '-*')}`);
        await nodeFolderFs.syncDir(p);
      },
      rename: async (a, b) => {
        log.push(`rename -> ${basename(b)}`);
        await nodeFolderFs.rename(a, b);
      },
    };
    const dir = join(root, 'models', 'tft_model_1');
    await writeModelFolder(dir, { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft() }, { fs });
    expect(log).toEqual([
      'write model.onnx',
      'write model.json',
      'sync .tft_model_1.tmp-*',
      'rename -> tft_model_1',
      'sync models',
    ]);
    expect(await readdir(join(root, 'models'))).toEqual(['tft_model_1']);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'model.onnx']);
  });

  it('refuses an existing folder unless told to overwrite, and leaves it as it was', async () => {
    const dir = join(root, 'm');
    const first = await writeModelFolder(dir, { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft() });
    const error = await refusal(writeModelFolder(dir, { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft() }));
    expect(error.code).toBe('already_exists');
    expect(error.message).toBe(`model folder "${dir}": already exists (pass overwrite to replace it)`);
    expect((await loadModelFolder(dir)).manifest.onnx.sha256).toBe(first.manifest.onnx.sha256);

    const second = await writeModelFolder(
      dir,
      { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft({ name: 'second' }) },
      { overwrite: true },
    );
    const loaded = await loadModelFolder(dir);
    expect(loaded.manifest.name).toBe('second');
    expect(loaded.manifest.onnx.sha256).toBe(second.manifest.onnx.sha256);
    expect(await readdir(root)).toEqual(['m']); // no .old- or .tmp- left behind
  });

  it('a failure mid-write leaves nothing under the final name and no temp folder', async () => {
    const dir = join(root, 'm');
    const error = await refusal(
      writeModelFolder(
        dir,
        { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft() },
        { fs: failingWrite('model.json') },
      ),
    );
    expect(error.code).toBe('write_failed');
    expect(error.file).toBe('model.json');
    expect(error.message).toBe(
      `model folder "${dir}", file "model.json": writing model.json failed: ENOSPC: no space left on device; nothing was written under the folder name`,
    );
    expect(error.cause).toMatchObject({ code: 'ENOSPC' });
    expect(await readdir(root)).toEqual([]);
  });

  it('a crash mid-write (no cleanup runs) leaves only a hidden temp folder that nothing loads', async () => {
    const dir = join(root, 'm');
    // rm does nothing: the process "died" before its cleanup.
    const fs = failingWrite('model.onnx', { rm: () => Promise.resolve() });
    await refusal(writeModelFolder(dir, { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft() }, { fs }));
    const entries = await readdir(root);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^\.m\.tmp-[0-9a-f]{12}$/);
    expect((await refusal(loadModelFolder(dir))).code).toBe('missing_folder');
    expect(await new ModelRegistry(root).list()).toEqual([]);
  });

  it('overwrite: a failure mid-write keeps the previous folder intact', async () => {
    const dir = join(root, 'm');
    const onnx = fakeOnnxBytes();
    await writeModelFolder(dir, { onnxBytes: onnx, manifest: sampleDraft({ name: 'old' }) });
    const before = await readFile(join(dir, 'model.json'), 'utf8');
    const error = await refusal(
      writeModelFolder(
        dir,
        { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft({ name: 'new' }) },
        { overwrite: true, fs: failingWrite('model.onnx') },
      ),
    );
    expect(error.message).toMatch(/writing model\.onnx failed: ENOSPC.*; the previous folder, if any, is unchanged$/);
    expect(await readFile(join(dir, 'model.json'), 'utf8')).toBe(before);
    const loaded = await loadModelFolder(dir);
    expect(loaded.manifest.name).toBe('old');
    expect(Buffer.from(loaded.onnxBytes).equals(Buffer.from(onnx))).toBe(true);
    expect(await readdir(root)).toEqual(['m']);
  });

  it('overwrite: a failed rename into place moves the previous folder back', async () => {
    const dir = join(root, 'm');
    await writeModelFolder(dir, { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft({ name: 'old' }) });
    let renames = 0;
    const fs: FolderWriteFs = {
      ...nodeFolderFs,
      rename: async (a, b) => {
        renames += 1;
        if (renames === 2) throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
        await nodeFolderFs.rename(a, b);
      },
    };
    const error = await refusal(
      writeModelFolder(
        dir,
        { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft({ name: 'new' }) },
        { overwrite: true, fs },
      ),
    );
    expect(error.code).toBe('write_failed');
    expect(error.message).toMatch(/renaming the new folder into place failed: EIO/);
    expect((await loadModelFolder(dir)).manifest.name).toBe('old');
    expect(await readdir(root)).toEqual(['m']);
  });

  it('overwrite: a crash between the two renames leaves no folder under the name and the old one recoverable', async () => {
    const dir = join(root, 'm');
    await writeModelFolder(dir, { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft({ name: 'old' }) });
    let renames = 0;
    const fs: FolderWriteFs = {
      ...nodeFolderFs,
      rename: async (a, b) => {
        renames += 1;
        if (renames >= 2) throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
        await nodeFolderFs.rename(a, b);
      },
    };
    const error = await refusal(
      writeModelFolder(
        dir,
        { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft({ name: 'new' }) },
        { overwrite: true, fs },
      ),
    );
    const old = /it is at "([^"]+)"/.exec(error.message)?.[1];
    expect(old).toMatch(/\.m\.old-[0-9a-f]{12}$/);
    expect((await refusal(loadModelFolder(dir))).code).toBe('missing_folder');
    expect((await loadModelFolder(old!)).manifest.name).toBe('old');
  });

  it('validates the manifest before writing anything', async () => {
    const dir = join(root, 'm');
    const draft = sampleDraft();
    draft.training.bestEpoch = 99;
    const error = await refusal(writeModelFolder(dir, { onnxBytes: fakeOnnxBytes(), manifest: draft }));
    expect(error.code).toBe('bad_manifest');
    expect(error.field).toBe('training.bestEpoch');
    expect(
      (
        await refusal(
          writeModelFolder(dir, { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft({ contractVersion: '2.0.0' }) }),
        )
      ).code,
    ).toBe('contract_mismatch');
    const empty = await refusal(writeModelFolder(dir, { onnxBytes: new Uint8Array(), manifest: sampleDraft() }));
    expect([empty.code, empty.field]).toEqual(['bad_manifest', 'onnx.sizeBytes']);
    const big = await refusal(
      writeModelFolder(dir, { onnxBytes: fakeOnnxBytes(100), manifest: sampleDraft() }, { maxOnnxBytes: 99 }),
    );
    expect(big.code).toBe('too_large');
    expect(await readdir(root)).toEqual([]);
  });
});
