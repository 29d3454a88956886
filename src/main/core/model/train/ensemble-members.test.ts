import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from './checkpoint-file';
import { readFinishedMembers, writeFinishedMember, type FinishedMember } from './ensemble-members';

const root = mkdtempSync(join(tmpdir(), 'members-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A finished member as run-training keeps it (training figures trimmed to what the file checks). */
function member(index: number, seed: number): FinishedMember {
  return {
    index,
    seed,
    onnxBytes: Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + index) % 256),
    onnx: { inputs: [{ name: 'observed', dtype: 'float32', shape: [-1, 4], doc: '' }], outputs: [{ name: 'risk', dtype: 'float32', shape: [-1], doc: '' }] },
    config: { hidden: 8 } as unknown as FinishedMember['config'],
    training: { history: [{ epoch: 1, trainLoss: 1, validationLoss: 0.9, seconds: 1 }], bestEpoch: 1, settings: { seed } } as unknown as FinishedMember['training'],
    blend: null,
    paramCount: 123,
    weightsSha256: 'a'.repeat(64),
  };
}

describe('finished ensemble members in the run folder', () => {
  it('round-trip: graph bytes, figures and order; the first missing member ends the list', async () => {
    const dir = join(root, 'ok');
    await writeFinishedMember(dir, member(0, 42));
    await writeFinishedMember(dir, member(1, 7));
    expect(readdirSync(dir).sort()).toEqual(['member-0.json', 'member-0.onnx', 'member-1.json', 'member-1.onnx']);
    const back = await readFinishedMembers(dir, [42, 7, 2024]);
    expect(back.map((m) => [m.index, m.seed, m.paramCount])).toEqual([
      [0, 42, 123],
      [1, 7, 123],
    ]);
    expect(back[1]!.onnxBytes).toEqual(member(1, 7).onnxBytes);
    expect(back[0]!.training.bestEpoch).toBe(1);
    // Member 0 missing: nothing is reused, whatever comes after it.
    rmSync(join(dir, 'member-0.json'));
    expect(await readFinishedMembers(dir, [42, 7, 2024])).toEqual([]);
  });

  it('refuses a member of another seed, a corrupted graph or a broken file, naming the file', async () => {
    const dir = join(root, 'bad');
    await writeFinishedMember(dir, member(0, 42));
    await expect(readFinishedMembers(dir, [5, 7])).rejects.toThrow(CheckpointError);
    await expect(readFinishedMembers(dir, [5, 7])).rejects.toThrow(`${join(dir, 'member-0.json')}: holds member 0 (seed 42), the run's member 0 has seed 5`);

    const bytes = member(0, 42).onnxBytes;
    bytes[3] = bytes[3]! ^ 1;
    writeFileSync(join(dir, 'member-0.onnx'), bytes);
    await expect(readFinishedMembers(dir, [42, 7])).rejects.toThrow(`${join(dir, 'member-0.onnx')}: does not match the sha256 its member file records (corrupted)`);

    writeFileSync(join(dir, 'member-0.json'), '{"format": 1, "index": 0');
    await expect(readFinishedMembers(dir, [42, 7])).rejects.toThrow(/member-0\.json: not JSON/);
    writeFileSync(join(dir, 'member-0.json'), JSON.stringify({ format: 1, index: 0, seed: 42 }));
    await expect(readFinishedMembers(dir, [42, 7])).rejects.toThrow(/member-0\.json: not a finished ensemble member: onnxSha256: /);
  });
});
