import type { Worker } from 'node:worker_threads';

/**
 * The start and close of the core's worker threads (store, prediction): each posts
 * `{ type: 'ready' }` once it has opened what it needs, or `{ type: 'failed', error }`, and ends
 * by itself after answering a close request.
 */

/**
 * Resolves once the thread's first message is `ready`; rejects with the reason when it reports
 * `failed` (`toError` rebuilds the error), errors or exits first, and then terminates it.
 */
export function waitUntilReady(
  worker: Worker,
  what: string,
  toError: (error: unknown) => Error,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onEarlyExit = (code: number): void => reject(new Error(`${what} exited (code ${code}) before it was ready`));
    const onEarlyError = (error: Error): void => reject(new Error(`${what} failed to start: ${error.message}`, { cause: error }));
    worker.once('exit', onEarlyExit);
    worker.once('error', onEarlyError);
    worker.once('message', (message: { type?: unknown; error?: unknown }) => {
      worker.off('exit', onEarlyExit);
      worker.off('error', onEarlyError);
      if (message.type === 'ready') {
        resolve();
        return;
      }
      reject(message.type === 'failed' ? toError(message.error) : new Error(`${what} sent ${String(message.type)} before ready`));
      void worker.terminate();
    });
  });
}

/**
 * Waits for `closed` (the answer to the thread's close request) and the thread's exit; after
 * `timeoutMs` without both, terminates it. Resolves once the thread has ended.
 */
export async function closeWithin(worker: Worker, exited: Promise<number>, closed: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    if ((await Promise.race([closed.then(() => exited), timeout])) === 'timeout') await worker.terminate();
  } finally {
    clearTimeout(timer);
  }
  await exited;
}
