import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCore, type Core, type CoreConfig } from '../core/app';
import { createMemoryLogger } from '../core/util/logger';
import { startDaemon, type Daemon, type DaemonOptions } from './server';

/**
 * A real core in a temp folder behind a real daemon on a free loopback port. For tests. `coreOptions`
 * adds to the core's configuration (a simulated fleet, a model folder); by default it has neither.
 * `prepare` runs on the empty data folder before the core opens it (a store with rows in it).
 */
export async function startTestDaemon(
  options: Partial<Omit<DaemonOptions, 'core' | 'logger'>> = {},
  coreOptions: Partial<Omit<CoreConfig, 'dataDir' | 'logger'>> = {},
  prepare?: (dataDir: string) => void,
): Promise<{ core: Core; daemon: Daemon; dataDir: string; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tftmp-daemon-'));
  prepare?.(dataDir);
  const logger = createMemoryLogger();
  const core = createCore({ dataDir, runtime: 'test', logger, heartbeatMs: 0, ...coreOptions });
  const daemon = await startDaemon({ core, logger, host: '127.0.0.1', port: 0, ...options });
  return {
    core,
    daemon,
    dataDir,
    stop: async () => {
      await daemon.close();
      await core.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
