import { spawn } from 'node:child_process';
import { STEP_MS } from '@shared/contract';
import { columnsToRows } from '../../metrics/columns';
import { openStore } from '../metrics-store';
import { CRASH_BATCH_ROWS, CRASH_STEPS, CRASH_T0, batchOfTimestamp, crashBatch } from './crash-batches';
import { seededRandom } from '../../util/seeded-random';

export interface CrashHarnessOptions {
  /** The bundled crash-writer module (bundleForNode). */
  childFile: string;
  storeFile: string;
  kills: number;
  /** Seed of the kill-time generator, so a failing run can be replayed. */
  seed?: number;
  /** Longest wait after the child is ready before SIGKILL. Default 200 ms (a few to a dozen batches). */
  maxKillDelayMs?: number;
  /** A broken writer (see crash-writer.ts), to check that the harness catches what it claims to. */
  childMode?: 'honest' | 'ack-before-commit' | 'split-batches';
}

export interface CrashHarnessReport {
  kills: number;
  /** Kills that landed before the child had opened the store (during startup or migration). */
  killsBeforeReady: number;
  batchesAcknowledged: number;
  /** Batches on disk at the end (acknowledged, or committed just before the kill and not yet acknowledged). */
  batchesStored: number;
  /** Times a batch was found committed but not acknowledged: the kill fell between commit and ack. */
  committedNotAcknowledged: number;
  acknowledgedLost: number;
  partialBatches: number;
  integrity: string[];
}


interface ChildRun {
  acked: number[];
  ready: boolean;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runChildUntilKilled(
  options: CrashHarnessOptions,
  first: number,
  delayMs: number,
  killBeforeReady: boolean,
): Promise<ChildRun> {
  const { childFile, storeFile } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childFile, storeFile, String(first), options.childMode ?? 'honest'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: ChildRun = { acked: [], ready: false, signal: null, stderr: '' };
    let buffered = '';
    let timer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    if (killBeforeReady) timer = setTimeout(kill, delayMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line === 'ready') {
          run.ready = true;
          if (!killBeforeReady) timer = setTimeout(kill, delayMs);
        } else if (line.startsWith('ack ')) {
          run.acked.push(Number(line.slice(4)));
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      run.stderr += chunk;
    });
    child.on('error', reject);
    // 'close' rather than 'exit': every line the child wrote before dying has been read by then.
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      run.signal = signal;
      if (signal !== 'SIGKILL')
        reject(
          new Error(
            `${storeFile}: crash writer ended without being killed (signal ${signal}): ${run.stderr.slice(-2000)}`,
          ),
        );
      else resolve(run);
    });
  });
}

/**
 * kill -9 harness for the ingest path: a child process writes batches through the real store,
 * acknowledging each after `ingest` returns, and is SIGKILLed at random moments, `kills` times.
 * After every kill the file is reopened (WAL recovery) and checked: integrity_check is ok, every
 * acknowledged batch is there with exactly its values, and no batch is partially stored.
 */
export async function runCrashHarness(options: CrashHarnessOptions): Promise<CrashHarnessReport> {
  const rand = seededRandom(options.seed ?? 1);
  const maxDelay = options.maxKillDelayMs ?? 200;
  const report: CrashHarnessReport = {
    kills: 0,
    killsBeforeReady: 0,
    batchesAcknowledged: 0,
    batchesStored: 0,
    committedNotAcknowledged: 0,
    acknowledgedLost: 0,
    partialBatches: 0,
    integrity: [],
  };
  let acknowledged = -1;
  let verifiedContent = -1;
  for (let i = 0; i < options.kills; i++) {
    // One kill in eight lands before the store is open: startup and migration must be crash-safe too.
    const early = rand() < 0.125;
    const run = await runChildUntilKilled(options, acknowledged + 1, early ? rand() * 120 : rand() * maxDelay, early);
    report.kills++;
    if (!run.ready) report.killsBeforeReady++;
    if (run.acked.length > 0) acknowledged = run.acked[run.acked.length - 1]!;

    const store = openStore(options.storeFile);
    try {
      report.integrity = store.integrityCheck();
      if (report.integrity.join() !== 'ok') break;
      const counts = store.db
        .prepare<[number, number], { batch: number; n: number }>(
          'SELECT CAST((ts - ?) / ? AS INTEGER) AS batch, count(*) AS n FROM samples GROUP BY batch ORDER BY batch',
        )
        .all(CRASH_T0, CRASH_STEPS * STEP_MS);
      report.partialBatches += counts.filter((c) => c.n !== CRASH_BATCH_ROWS).length;
      const stored = new Set(counts.map((c) => c.batch));
      for (let k = 0; k <= acknowledged; k++) if (!stored.has(k)) report.acknowledgedLost++;
      const newest = counts.length > 0 ? counts[counts.length - 1]!.batch : -1;
      if (newest > acknowledged) report.committedNotAcknowledged++;
      report.batchesStored = counts.length;
      // Values, not just counts, for the batches acknowledged since the last check.
      for (let k = verifiedContent + 1; k <= acknowledged; k++) {
        const expected = columnsToRows(crashBatch(k));
        const from = CRASH_T0 + k * CRASH_STEPS * STEP_MS;
        const got = store.latestWindow(CRASH_STEPS, from + (CRASH_STEPS - 1) * STEP_MS);
        if (
          JSON.stringify(columnsToRows(got)) !== JSON.stringify(expected) ||
          batchOfTimestamp(got.timestamp[0] ?? -1) !== k
        )
          report.acknowledgedLost++;
      }
      verifiedContent = acknowledged;
    } finally {
      store.close();
    }
    if (report.acknowledgedLost > 0 || report.partialBatches > 0) break;
  }
  report.batchesAcknowledged = acknowledged + 1;
  return report;
}
