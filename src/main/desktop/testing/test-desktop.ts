import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryLogger } from '../../core/util/logger';
import { startDesktop, type DesktopOptions, type DesktopRuntime } from '../start-desktop';
import { FakeElectron } from './fake-electron';

export interface TestDesktop {
  fake: FakeElectron;
  runtime: DesktopRuntime;
  logger: ReturnType<typeof createMemoryLogger>;
  userData: string;
  mainDir: string;
  /** Quits through the app's own will-quit path, then removes the temp folder. */
  stop(): Promise<void>;
}

export interface TestDesktopOptions extends Partial<Omit<DesktopOptions, 'mainDir'>> {
  /** Runs between startDesktop and 'ready' (e.g. to mark the app packaged). */
  beforeStart?: (fake: FakeElectron) => void;
}

/**
 * The real shell (real core in a temp userData, real dispatch) on a fake Electron, started and
 * past 'ready' with its first page loaded.
 */
export async function startTestDesktop(options: TestDesktopOptions = {}): Promise<TestDesktop> {
  const { beforeStart, ...desktopOptions } = options;
  const userData = mkdtempSync(join(tmpdir(), 'tftmp-desktop-'));
  const mainDir = join(userData, 'app', 'out', 'main');
  const fake = new FakeElectron(userData);
  beforeStart?.(fake);
  const logger = createMemoryLogger();
  const handle = startDesktop(fake.api, {
    mainDir,
    env: {},
    argv: [],
    platform: 'linux',
    logger,
    heartbeatMs: 0,
    // The shell's tests are about the shell: no simulated fleet and no model unless a test asks.
    simulator: null,
    model: null,
    ...desktopOptions,
  });
  fake.app.ready();
  const runtime = await handle.ready;
  if (!runtime) throw new Error('the desktop did not start');
  await settle();
  return {
    fake,
    runtime,
    logger,
    userData,
    mainDir,
    stop: async () => {
      await quitAndWait(fake);
      rmSync(userData, { recursive: true, force: true });
    },
  };
}

/** Lets queued promise callbacks (page loads, IPC replies) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** `app.quit()`, then waits until the app's vetoed will-quit has finished and quit for real. */
export async function quitAndWait(fake: FakeElectron, timeoutMs = 5_000): Promise<void> {
  fake.app.quit();
  const deadline = Date.now() + timeoutMs;
  while (!fake.app.quitted) {
    if (Date.now() > deadline) throw new Error('the app did not quit');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
