import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATA_CONTRACT_VERSION } from '@shared/contract';
import {
  MANIFEST_FILE,
  ModelFolderError,
  expectedTensors,
  loadModelFolder,
  verifyModelFolder,
  writeModelFolder,
  type ModelFolderErrorCode,
} from './index';
import { FEATURE_PIPELINE_VERSION } from '../features/feature-spec';
import { fakeOnnxBytes, sampleDraft } from './testing/manifest-fixture';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'model-folder-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeSample(name = 'm1', onnx = fakeOnnxBytes()): Promise<string> {
  const dir = join(root, name);
  await writeModelFolder(dir, { onnxBytes: onnx, manifest: sampleDraft() });
  return dir;
}

/** Rewrites model.json after editing its parsed JSON (bypassing the writer's checks). */
async function editManifest(dir: string, edit: (json: Record<string, unknown>) => void): Promise<void> {
  const json = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as Record<string, unknown>;
  edit(json);
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(json));
}

async function refusal(promise: Promise<unknown>): Promise<ModelFolderError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFolderError);
    return error as ModelFolderError;
  }
  throw new Error('expected the folder to be refused');
}

function expectRefusal(
  error: ModelFolderError,
  code: ModelFolderErrorCode,
  where: { dir: string; file: string | null; field: string | null },
  message: RegExp,
): void {
  expect(error.code).toBe(code);
  expect(error.dir).toBe(where.dir);
  expect(error.file).toBe(where.file);
  expect(error.field).toBe(where.field);
  const location = [
    `model folder "${where.dir}"`,
    where.file && `file "${where.file}"`,
    where.field && `field "${where.field}"`,
  ]
    .filter(Boolean)
    .join(', ');
  expect(error.message.startsWith(`${location}: `)).toBe(true);
  expect(error.message).toMatch(message);
}

describe('round trip', () => {
  it('loads what it wrote, with the sha256 and size computed by the writer', async () => {
    const onnx = fakeOnnxBytes(10_000);
    const dir = join(root, 'tft_model_20240601_120000');
    const written = await writeModelFolder(dir, { onnxBytes: onnx, manifest: sampleDraft() });
    const loaded = await loadModelFolder(dir);

    expect(loaded.dir).toBe(dir);
    expect(Buffer.from(loaded.onnxBytes).equals(Buffer.from(onnx))).toBe(true);
    expect(loaded.manifest).toEqual(written.manifest);
    expect(loaded.manifest.onnx).toMatchObject({
      file: 'model.onnx',
      sizeBytes: 10_000,
      sha256: createHash('sha256').update(onnx).digest('hex'),
    });
    expect(loaded.manifest.formatVersion).toBe(1);
    expect(loaded.manifest.contractVersion).toBe(DATA_CONTRACT_VERSION);
    expect(loaded.manifest.writtenBy.appVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(loaded.manifest.training.dataset.trainingServers).toEqual(['ppml0001', 'ppdb001', 'ppml0002']);
    expect((await verifyModelFolder(dir)).manifest).toEqual(loaded.manifest);
  });

  it('hashes files larger than one read chunk correctly', async () => {
    const onnx = fakeOnnxBytes(3 * 1024 * 1024 + 17);
    const dir = await writeSample('big', onnx);
    const loaded = await loadModelFolder(dir);
    expect(Buffer.from(loaded.onnxBytes).equals(Buffer.from(onnx))).toBe(true);
    await verifyModelFolder(dir);
  });

  it('gives the inference session its expected inputs and outputs', async () => {
    const { manifest } = await loadModelFolder(await writeSample());
    const { expectedInputs, expectedOutputs } = expectedTensors(manifest);
    expect(expectedInputs.map((t) => t.name)).toEqual([
      'observed',
      'observed_mask',
      'known',
      'profile',
      'server_bucket',
    ]);
    expect(expectedInputs[3]).toEqual({
      name: 'profile',
      dtype: 'int32',
      shape: [-1],
      range: [0, manifest.featureSpec.profiles.length - 1],
    });
    expect(expectedInputs[0]).not.toHaveProperty('doc');
    expect(expectedOutputs.map((t) => t.name)).toEqual(['quantiles', 'risk', 'failure_mode']);
  });

  it('ignores a checksum and size supplied by the caller', async () => {
    const onnx = fakeOnnxBytes();
    const draft = sampleDraft();
    // A caller that bypasses the type and passes stale figures: the writer computes its own.
    Object.assign(draft.onnx, { sha256: '0'.repeat(64), sizeBytes: 1 });
    const { manifest } = await writeModelFolder(join(root, 'm'), { onnxBytes: onnx, manifest: draft });
    expect(manifest.onnx.sha256).toBe(createHash('sha256').update(onnx).digest('hex'));
    expect(manifest.onnx.sizeBytes).toBe(onnx.length);
  });

  it('accepts another minor version of the data contract', async () => {
    const dir = await writeSample();
    await editManifest(dir, (j) => (j.contractVersion = '1.7.3'));
    await expect(loadModelFolder(dir)).resolves.toBeDefined();
  });

  it('tolerates a byte-order mark an editor added to model.json', async () => {
    const dir = await writeSample();
    const text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
    await writeFile(join(dir, MANIFEST_FILE), `\uFEFF${text}`);
    await expect(loadModelFolder(dir)).resolves.toBeDefined();
  });
});

describe('refusals, each naming the folder, the file and the field', () => {
  it('missing folder', async () => {
    const dir = join(root, 'nope');
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'missing_folder',
      { dir, file: null, field: null },
      /does not exist/,
    );
    await writeFile(join(root, 'plain'), 'x');
    expectRefusal(
      await refusal(loadModelFolder(join(root, 'plain'))),
      'missing_folder',
      { dir: join(root, 'plain'), file: null, field: null },
      /is not a folder/,
    );
  });

  it('missing model.json', async () => {
    const dir = await writeSample();
    await rm(join(dir, MANIFEST_FILE));
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'missing_file',
      { dir, file: 'model.json', field: null },
      /is missing/,
    );
  });

  it('missing model.onnx', async () => {
    const dir = await writeSample();
    await rm(join(dir, 'model.onnx'));
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'missing_file',
      { dir, file: 'model.onnx', field: 'onnx.file' },
      /is missing$/,
    );
  });

  it('truncated model.json', async () => {
    const dir = await writeSample();
    const text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
    await writeFile(join(dir, MANIFEST_FILE), text.slice(0, Math.floor(text.length / 2)));
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'bad_json',
      { dir, file: 'model.json', field: null },
      /is not valid JSON \(/,
    );
  });

  it('model.json that is not UTF-8, or not an object', async () => {
    const dir = await writeSample();
    await writeFile(join(dir, MANIFEST_FILE), Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'bad_json',
      { dir, file: 'model.json', field: null },
      /not valid UTF-8/,
    );
    await writeFile(join(dir, MANIFEST_FILE), '[1, 2]');
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'bad_json',
      { dir, file: 'model.json', field: null },
      /top level must be a JSON object, found an array$/,
    );
  });

  it('a field of the wrong type is named by its path', async () => {
    const dir = await writeSample();
    await editManifest(dir, (j) => ((j.training as { epochsRun: unknown }).epochsRun = '20'));
    const error = await refusal(loadModelFolder(dir));
    expectRefusal(
      error,
      'bad_manifest',
      { dir, file: 'model.json', field: 'training.epochsRun' },
      /expected number, received string$/,
    );
    expect(error.issues).toEqual([
      { field: 'training.epochsRun', message: expect.stringMatching(/expected number/) as string },
    ]);
  });

  it('a wrong type inside an array is named with its index', async () => {
    const dir = await writeSample();
    await editManifest(dir, (j) => {
      const onnx = j.onnx as { inputs: { dtype: string }[] };
      onnx.inputs[2]!.dtype = 'float64';
    });
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'bad_manifest',
      { dir, file: 'model.json', field: 'onnx.inputs[2].dtype' },
      /float32/,
    );
  });

  it("an ensemble's members: loaded as written; one member, or one whose best epoch is after its last, refused by path", async () => {
    const dir = await writeSample();
    const member = (seed: number, bestEpoch = 3): Record<string, unknown> => ({
      seed,
      epochsRun: 5,
      bestEpoch,
      durationMs: 1000,
      samplesPerSecond: 300,
      finalTrainLoss: 1,
      finalValidationLoss: 0.9,
      onnxSha256: 'ab'.repeat(32),
    });
    await editManifest(dir, (j) => ((j.training as Record<string, unknown>).ensemble = { combine: 'mean', members: [member(42), member(7)] }));
    expect((await loadModelFolder(dir)).manifest.training.ensemble?.members.map((m) => m.seed)).toEqual([42, 7]);
    await editManifest(dir, (j) => ((j.training as Record<string, unknown>).ensemble = { combine: 'mean', members: [member(42)] }));
    expectRefusal(await refusal(loadModelFolder(dir)), 'bad_manifest', { dir, file: 'model.json', field: 'training.ensemble.members' }, /at least 2|>=2/);
    await editManifest(dir, (j) => ((j.training as Record<string, unknown>).ensemble = { combine: 'mean', members: [member(42), member(7, 6)] }));
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'bad_manifest',
      { dir, file: 'model.json', field: 'training.ensemble.members[1].bestEpoch' },
      /best epoch after the last epoch run/,
    );
  });

  it('a missing required field', async () => {
    const dir = await writeSample();
    await editManifest(dir, (j) => delete j.featureSpec);
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'bad_manifest',
      { dir, file: 'model.json', field: 'featureSpec' },
      /received undefined/,
    );
  });

  it('an unknown key, at the top or nested, is refused by name', async () => {
    const dir = await writeSample();
    await editManifest(dir, (j) => (j.extra = 1));
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'bad_manifest',
      { dir, file: 'model.json', field: 'extra' },
      /unknown field/,
    );
    await editManifest(dir, (j) => {
      delete j.extra;
      (j.training as Record<string, unknown>).epochs = 3;
    });
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'bad_manifest',
      { dir, file: 'model.json', field: 'training.epochs' },
      /unknown field/,
    );
  });

  it('several problems: the first is quoted, all are listed', async () => {
    const dir = await writeSample();
    await editManifest(dir, (j) => {
      j.name = '';
      j.notes = 5;
    });
    const error = await refusal(loadModelFolder(dir));
    expect(error.field).toBe('name');
    expect(error.message).toMatch(/\(and 1 more problem\)$/);
    expect(error.issues.map((i) => i.field)).toEqual(['name', 'notes']);
  });

  it('an inconsistent feature spec is refused with validateFeatureSpec reason', async () => {
    const dir = await writeSample();
    await editManifest(dir, (j) => ((j.featureSpec as { quantiles: number[] }).quantiles = [0.9, 0.5, 0.1]));
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'bad_manifest',
      { dir, file: 'model.json', field: 'featureSpec' },
      /Invalid feature spec: quantiles must be increasing/,
    );
    await editManifest(dir, (j) => {
      const spec = j.featureSpec as { quantiles: number[]; pipelineVersion: number };
      spec.quantiles = [0.1, 0.5, 0.9];
      spec.pipelineVersion = 99;
    });
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'bad_manifest',
      { dir, file: 'model.json', field: 'featureSpec.pipelineVersion' },
      new RegExp(`feature pipeline version 99, this build implements ${FEATURE_PIPELINE_VERSION}: retrain`),
    );
  });

  it('cross-field checks: best epoch, duplicate tensor names, positives, time range', async () => {
    const dir = await writeSample();
    const cases: [(j: Record<string, unknown>) => void, string][] = [
      [(j) => ((j.training as { bestEpoch: number }).bestEpoch = 21), 'training.bestEpoch'],
      [(j) => ((j.onnx as { outputs: { name: string }[] }).outputs[1]!.name = 'quantiles'), 'onnx.outputs[1].name'],
      [
        (j) => ((j.training as { dataset: { positives: { validation: number } } }).dataset.positives.validation = 2000),
        'training.dataset.positives.validation',
      ],
      [
        (j) =>
          ((j.training as { dataset: { timeRange: { start: string } } }).dataset.timeRange.start =
            '2025-01-01T00:00:00Z'),
        'training.dataset.timeRange',
      ],
      [(j) => ((j.onnx as { inputs: { shape: number[] }[] }).inputs[0]!.shape = [-1, -1, 30]), 'onnx.inputs[0].shape'],
      [(j) => ((j.onnx as { file: string }).file = '../outside.onnx'), 'onnx.file'],
    ];
    for (const [edit, field] of cases) {
      const original = await readFile(join(dir, MANIFEST_FILE));
      await editManifest(dir, edit);
      const error = await refusal(loadModelFolder(dir));
      expect(error.code).toBe('bad_manifest');
      expect(error.field).toBe(field);
      await writeFile(join(dir, MANIFEST_FILE), original);
    }
    await expect(loadModelFolder(dir)).resolves.toBeDefined();
  });

  it('contract major version 2 is refused as contract_mismatch', async () => {
    const dir = await writeSample();
    await editManifest(dir, (j) => (j.contractVersion = '2.0.0'));
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'contract_mismatch',
      { dir, file: 'model.json', field: 'contractVersion' },
      /trained on data contract 2\.0\.0, this build uses 1\.0\.0 \(major versions differ\)/,
    );
  });

  it('reports the contract before schema problems a newer contract would bring', async () => {
    const dir = await writeSample();
    await editManifest(dir, (j) => {
      j.contractVersion = '2.1.0';
      (j.featureSpec as { targets: string[] }).targets = ['gpu_percent'];
    });
    expect((await refusal(loadModelFolder(dir))).code).toBe('contract_mismatch');
  });

  it('another folder format is refused as unsupported_format', async () => {
    const dir = await writeSample();
    await editManifest(dir, (j) => (j.formatVersion = 2));
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'unsupported_format',
      { dir, file: 'model.json', field: 'formatVersion' },
      /folder format 2, this build reads format 1/,
    );
  });

  it('one byte flipped in model.onnx: checksum_mismatch', async () => {
    const onnx = fakeOnnxBytes();
    const dir = await writeSample('m', onnx);
    const corrupted = Buffer.from(onnx);
    corrupted[1234] = corrupted[1234]! ^ 0x01;
    await writeFile(join(dir, 'model.onnx'), corrupted);
    const expected = createHash('sha256').update(onnx).digest('hex');
    const actual = createHash('sha256').update(corrupted).digest('hex');
    const error = await refusal(loadModelFolder(dir));
    expect(error.message).toBe(
      `model folder "${dir}", file "model.onnx", field "onnx.sha256": has sha256 ${actual} but model.json records ${expected} (corrupted or replaced)`,
    );
    expect(error.code).toBe('checksum_mismatch');
    expect((await refusal(verifyModelFolder(dir))).code).toBe('checksum_mismatch');
  });

  it('truncated model.onnx: size_mismatch', async () => {
    const dir = await writeSample('m', fakeOnnxBytes(4096));
    await truncate(join(dir, 'model.onnx'), 4000);
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'size_mismatch',
      { dir, file: 'model.onnx', field: 'onnx.sizeBytes' },
      /is 4000 bytes but model\.json records 4096 \(truncated/,
    );
  });

  it('files over the size limits are refused before they are read', async () => {
    const dir = await writeSample('m', fakeOnnxBytes(4096));
    expectRefusal(
      await refusal(loadModelFolder(dir, { maxOnnxBytes: 4095 })),
      'too_large',
      { dir, file: 'model.onnx', field: 'onnx.sizeBytes' },
      /is 4096 bytes, over the 4095-byte limit for a model/,
    );
    expectRefusal(
      await refusal(loadModelFolder(dir, { maxManifestBytes: 100 })),
      'too_large',
      { dir, file: 'model.json', field: null },
      /over the 100-byte limit for a manifest/,
    );
  });

  it('a folder where a file belongs is unreadable, not a crash', async () => {
    const dir = await writeSample();
    await rm(join(dir, 'model.onnx'));
    await mkdir(join(dir, 'model.onnx'));
    expectRefusal(
      await refusal(loadModelFolder(dir)),
      'unreadable',
      { dir, file: 'model.onnx', field: 'onnx.file' },
      /is not a regular file/,
    );
  });
});
