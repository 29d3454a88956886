/**
 * The kill -9 harness at scale: SIGKILLs the ingesting writer STORE_CRASH_KILLS times (100 by
 * default) and checks after each kill that no acknowledged batch is lost, no batch is partly
 * stored and `PRAGMA integrity_check` is ok. Prints the harness report as JSON; fails if any
 * promise broke.
 *
 *   npx vitest bench --run bench/store-crash.bench.ts
 */
import { resolve } from 'node:path';
import { bench, describe } from 'vitest';
import { REPO_ROOT, bundleForNode } from '../src/main/core/store/testing/bundle';
import { runCrashHarness } from '../src/main/core/store/testing/crash-harness';
import { tempDir } from '../src/main/core/store/testing/fixtures';

const KILLS = Number(process.env.STORE_CRASH_KILLS ?? 100);
const SEED = Number(process.env.STORE_CRASH_SEED ?? Date.now() % 1_000_000);

describe('store crash', () => {
  bench(
    `kill -9 the writer ${KILLS} times`,
    async () => {
      const tmp = tempDir('tftmp-store-crash-bench-');
      const child = await bundleForNode(resolve(REPO_ROOT, 'src/main/core/store/testing/crash-writer.ts'));
      try {
        const t = performance.now();
        const report = await runCrashHarness({
          childFile: child.file,
          storeFile: tmp.file(),
          kills: KILLS,
          seed: SEED,
        });
        console.log(
          JSON.stringify(
            { bench: 'store-crash', seed: SEED, seconds: Math.round((performance.now() - t) / 100) / 10, ...report },
            null,
            2,
          ),
        );
        if (
          report.kills !== KILLS ||
          report.acknowledgedLost > 0 ||
          report.partialBatches > 0 ||
          report.integrity.join() !== 'ok'
        ) {
          throw new Error(`store crash harness failed (seed ${SEED}): ${JSON.stringify(report)}`);
        }
      } finally {
        child.dispose();
        tmp.remove();
      }
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
