import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelFolderError, ModelRegistry, resolveActiveModel, writeModelFolder } from './index';
import { fakeOnnxBytes, sampleDraft } from './testing/manifest-fixture';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'model-registry-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeSample(dir: string, name: string): Promise<string> {
  await writeModelFolder(dir, { onnxBytes: fakeOnnxBytes(), manifest: sampleDraft({ name }) });
  return dir;
}

async function flipByte(dir: string): Promise<void> {
  const bytes = await readFile(join(dir, 'model.onnx'));
  bytes[10] = bytes[10]! ^ 0xff;
  await writeFile(join(dir, 'model.onnx'), bytes);
}

describe('ModelRegistry.list', () => {
  it('lists valid folders with their manifest and bad ones with their reason, skipping hidden folders and files', async () => {
    const models = join(root, 'models');
    await writeSample(join(models, 'tft_model_20240601_120000'), 'good');
    await flipByte(await writeSample(join(models, 'tft_model_20240602_120000'), 'corrupted'));
    await mkdir(join(models, 'tft_model_20240603_120000'));
    await mkdir(join(models, '.tft_model_20240604_120000.tmp-0123456789ab'));
    await writeFile(join(models, 'README.txt'), 'not a model');

    const listed = await new ModelRegistry(models).list();
    expect(listed.map((l) => [l.folder, l.ok])).toEqual([
      ['tft_model_20240601_120000', true],
      ['tft_model_20240602_120000', false],
      ['tft_model_20240603_120000', false],
    ]);
    const [good, corrupted, empty] = listed;
    expect(good!.ok && good!.manifest.name).toBe('good');
    expect(!corrupted!.ok && [corrupted!.error.code, corrupted!.error.file, corrupted!.error.field]).toEqual([
      'checksum_mismatch',
      'model.onnx',
      'onnx.sha256',
    ]);
    expect(!empty!.ok && empty!.error.message).toBe(
      `model folder "${join(models, 'tft_model_20240603_120000')}", file "model.json": is missing`,
    );
  });

  it('a missing root lists nothing', async () => {
    expect(await new ModelRegistry(join(root, 'absent')).list()).toEqual([]);
  });
});

describe('resolveActive', () => {
  it('uses the preferred model when it loads', async () => {
    const preferred = await writeSample(join(root, 'models', 'p'), 'preferred');
    const bundled = await writeSample(join(root, 'bundled'), 'bundled');
    const active = await new ModelRegistry(join(root, 'models')).resolveActive(preferred, bundled);
    expect(active.source).toBe('preferred');
    expect(active.model.manifest.name).toBe('preferred');
    expect(active.fallbackReason).toBeNull();
  });

  it('falls back to the bundled model, with the reason, when the preferred one is refused', async () => {
    const preferred = await writeSample(join(root, 'models', 'p'), 'preferred');
    const bundled = await writeSample(join(root, 'bundled'), 'bundled');
    await flipByte(preferred);
    const active = await resolveActiveModel(preferred, bundled);
    expect(active.source).toBe('bundled');
    expect(active.model.manifest.name).toBe('bundled');
    expect(active.preferredError?.code).toBe('checksum_mismatch');
    expect(active.fallbackReason).toMatch(
      new RegExp(
        `^the preferred model was refused, using the bundled one: model folder "${preferred}", file "model.onnx", field "onnx.sha256": has sha256 `,
      ),
    );

    // A preferred folder that vanished, and none preferred at all.
    expect((await resolveActiveModel(join(root, 'gone'), bundled)).preferredError?.code).toBe('missing_folder');
    const none = await resolveActiveModel(null, bundled);
    expect([none.source, none.fallbackReason]).toEqual(['bundled', null]);
  });

  it('names both reasons when the bundled model fails too', async () => {
    const preferred = await writeSample(join(root, 'p'), 'preferred');
    const bundled = await writeSample(join(root, 'bundled'), 'bundled');
    await flipByte(preferred);
    await rm(join(bundled, 'model.json'));
    const error = await resolveActiveModel(preferred, bundled).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelFolderError);
    const folderError = error as ModelFolderError;
    expect(folderError.code).toBe('no_usable_model');
    expect([folderError.dir, folderError.file]).toEqual([bundled, 'model.json']);
    expect(folderError.message).toMatch(
      /the bundled model cannot be loaded: .*is missing\. The preferred model was refused too: .*sha256/,
    );
  });
});
