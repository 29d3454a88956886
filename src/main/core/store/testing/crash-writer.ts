import { writeSync } from 'node:fs';
import { openStore } from '../metrics-store';
import { CRASH_BATCH_ROWS, crashBatch } from './crash-batches';

/**
 * The child of the kill -9 harness: the real store code, ingesting batch after batch and
 * printing `ack <k>` only once `ingest` has returned (the durability promise), until killed.
 * argv: <store file> <first batch> [mode]. The modes other than `honest` break the promise on
 * purpose, so the harness can show it would notice: `ack-before-commit` acknowledges first,
 * `split-batches` commits each batch in two transactions. stdout writes to a pipe are synchronous on Linux/macOS, and
 * writeSync makes that explicit: an ack that reached the parent was printed after the commit.
 */
function main(): void {
  const [file, first, mode = 'honest'] = process.argv.slice(2);
  if (!file || first === undefined)
    throw new Error('usage: crash-writer <store file> <first batch> [honest|ack-before-commit|split-batches]');
  // Frequent checkpoints, so that kills also land in the middle of copying the WAL back.
  const store = openStore(file, {
    walAutocheckpointPages: 64,
    chunkRows: mode === 'split-batches' ? CRASH_BATCH_ROWS / 2 : undefined,
  });
  writeSync(1, 'ready\n');
  for (let k = Number(first); ; k++) {
    if (mode === 'ack-before-commit') writeSync(1, `ack ${k}\n`);
    const report = store.ingest(crashBatch(k), { now: Date.UTC(2100, 0, 1) });
    if (
      report.rejected.conflict + report.rejected.invalid + report.rejected.out_of_order + report.rejected.future >
      0
    ) {
      throw new Error(`${file}: batch ${k} had rejections: ${JSON.stringify(report.rejections.slice(0, 3))}`);
    }
    if (mode !== 'ack-before-commit') writeSync(1, `ack ${k}\n`);
  }
}

main();
