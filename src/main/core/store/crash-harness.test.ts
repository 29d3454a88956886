import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundleForNode, type NodeBundle } from './testing/bundle';
import { runCrashHarness } from './testing/crash-harness';
import { tempDir } from './testing/fixtures';

// The writer child runs the real store code, bundled for plain Node (Node 20 cannot run .ts).
let bundle: NodeBundle;
let tmp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  bundle = await bundleForNode(resolve(fileURLToPath(new URL('.', import.meta.url)), 'testing/crash-writer.ts'));
  tmp = tempDir('tftmp-store-crash-');
}, 60_000);
afterAll(() => {
  bundle.dispose();
  tmp.remove();
});

it('loses no acknowledged batch and stores no partial one across 10 kill -9s of the writer', async () => {
  const report = await runCrashHarness({ childFile: bundle.file, storeFile: tmp.file(), kills: 10, seed: 7 });
  expect(report).toMatchObject({ kills: 10, acknowledgedLost: 0, partialBatches: 0, integrity: ['ok'] });
  expect(report.batchesAcknowledged).toBeGreaterThan(0);
  expect(report.batchesStored).toBeGreaterThanOrEqual(report.batchesAcknowledged);
}, 120_000);

it.each([
  ['acknowledges before committing', 'ack-before-commit', 'acknowledgedLost'],
  ['commits a batch in two transactions', 'split-batches', 'partialBatches'],
] as const)(
  'notices a writer that %s (the harness can fail)',
  async (_what, childMode, counter) => {
    const report = await runCrashHarness({
      childFile: bundle.file,
      storeFile: tmp.file(`${childMode}.db`),
      kills: 20,
      seed: 11,
      childMode,
    });
    expect(report[counter]).toBeGreaterThan(0);
  },
  120_000,
);
