import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { APP_INFO } from '../core/app-info';
import { createCore, DEFAULT_SIMULATOR, type Core, type ModelConfig, type SimulatorConfig } from '../core/app';
import { bundledModelDir } from '../core/paths';
import type { Logger } from '../core/util/logger';
import type { StoreWorkerFactory } from '../core/store';
import type { TrainWorkerFactory } from '../core/model/train/train-worker';
import type { DesktopElectron, DesktopSession, DesktopWebContents, DesktopWindow } from './electron-api';
import { createFileLogger } from './file-logger';
import { registerIpc, type IpcBridge } from './ipc';
import { createMainWindow } from './main-window';
import { preloadPath, resolveRenderer, type RendererLocation } from './renderer-location';
import { contentSecurityPolicy, hardenSession, hardenWebContents } from './security';

export interface DesktopOptions {
  /** The folder of the built main bundle (`out/main`, i.e. its `__dirname`). */
  mainDir: string;
  env?: Readonly<Record<string, string | undefined>>;
  platform?: NodeJS.Platform;
  /** Defaults to JSON lines in `<userData>/logs/main.log`. */
  logger?: Logger & { close?(): Promise<void> };
  /** Passed to the core; tests use 0 to keep time still. */
  heartbeatMs?: number;
  /** How long quitting waits for the core to close before giving up on it. */
  closeTimeoutMs?: number;
  /** The simulated fleet; default DEFAULT_SIMULATOR, null for none. */
  simulator?: SimulatorConfig | null;
  /** The prediction model; default the bundled one (see below), null for none. */
  model?: ModelConfig | null;
  /** Where the default model's cycles read their windows (main.ts: the bundled store worker). */
  storeWorker?: StoreWorkerFactory;
  /** Starts the training worker for model.train (main.ts: the bundled one). */
  trainWorker?: TrainWorkerFactory;
}

/**
 * In development node_modules holds better-sqlite3 built for Node (the daemon and the tests run
 * on Node); `npm start` builds an Electron-ABI copy beside it (scripts/ensure-electron.mjs).
 * Packaged apps need none: electron-builder rebuilds native modules for Electron.
 */
export function devSqliteBinding(mainDir: string): string | undefined {
  const candidate = join(mainDir, '..', '..', 'node_modules', '.cache', 'electron-abi', 'better_sqlite3.node');
  return existsSync(candidate) ? candidate : undefined;
}

/** What a running desktop app holds; exposed for tests. */
export interface DesktopRuntime {
  readonly core: Core;
  readonly renderer: RendererLocation;
  windows(): DesktopWindow[];
}

export interface DesktopHandle {
  /** The runtime once the first window exists; undefined when this instance quits instead. */
  readonly ready: Promise<DesktopRuntime | undefined>;
}

/**
 * The Electron lifecycle around the core: one instance per user, one window, IPC, and the
 * security settings, all applied before the first page can load. Electron is a parameter so the
 * whole lifecycle runs in tests against a fake.
 */
export function startDesktop(electron: DesktopElectron, options: DesktopOptions): DesktopHandle {
  const { app } = electron;
  const platform = options.platform ?? process.platform;

  // A second instance would open the same SQLite store and settings; it hands over to the first.
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return { ready: Promise.resolve(undefined) };
  }
  // Sandbox every renderer, whatever options a window is created with; must precede 'ready'.
  app.enableSandbox();

  const logger = options.logger ?? createFileLogger(join(app.getPath('userData'), 'logs'));
  const renderer = resolveRenderer({
    mainDir: options.mainDir,
    devServerUrl: options.env?.['ELECTRON_RENDERER_URL'],
    isPackaged: app.isPackaged,
  });
  const csp = contentSecurityPolicy(renderer);
  const hardenedSessions = new WeakSet<DesktopSession>();
  const harden = (session: DesktopSession): void => {
    if (hardenedSessions.has(session)) return;
    hardenedSessions.add(session);
    hardenSession(session, csp);
  };

  // Registered before 'ready', so it covers every web contents, including ones we never asked for.
  app.on('web-contents-created', (_event, contents) => {
    harden(contents.session);
    hardenWebContents(contents, { renderer, shell: electron.shell, logger });
  });

  let core: Core | undefined;
  let bridge: IpcBridge | undefined;
  let state: 'starting' | 'running' | 'stopping' | 'stopped' = 'starting';
  // Keyed by window, holding its web contents: a closed window's `webContents` getter throws.
  const windows = new Map<DesktopWindow, DesktopWebContents>();

  const openWindow = (): DesktopWindow => {
    const window = createMainWindow({
      BrowserWindow: electron.BrowserWindow,
      preload: preloadPath(options.mainDir),
      renderer,
      logger,
    });
    const contents = window.webContents;
    windows.set(window, contents);
    window.on('closed', () => windows.delete(window));
    contents.on('did-finish-load', () => void bridge?.sendHealth(contents));
    return window;
  };

  const appWebContents = (): DesktopWebContents[] =>
    [...windows.values()].filter((contents) => !contents.isDestroyed());

  app.on('second-instance', () => {
    if (state !== 'running') return;
    const [window] = windows.keys();
    if (!window) {
      openWindow();
      return;
    }
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  });

  // macOS apps live on without windows until Cmd+Q, and reopen one from the dock.
  app.on('window-all-closed', () => {
    if (platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (state === 'running' && windows.size === 0) openWindow();
  });

  // The core is closed before the process exits (flushes the store); quitting waits for it.
  app.on('will-quit', (event) => {
    if (state === 'stopped') return;
    event.preventDefault();
    if (state === 'stopping') return;
    state = 'stopping';
    bridge?.dispose();
    void withTimeout(core?.close(), options.closeTimeoutMs ?? 5_000)
      .catch((error: unknown) => logger.error('the core did not close cleanly', { error }))
      .then(() => logger.info('stopped'))
      .then(() => logger.close?.())
      .finally(() => {
        state = 'stopped';
        app.quit();
      });
  });

  const ready = app
    .whenReady()
    .then((): DesktopRuntime | undefined => {
      if (state !== 'starting') return undefined;
      const nativeBinding = app.isPackaged ? undefined : devSqliteBinding(options.mainDir);
      const started = createCore({
        dataDir: app.getPath('userData'),
        runtime: 'desktop',
        logger,
        simulator: options.simulator === undefined ? DEFAULT_SIMULATOR : options.simulator,
        model:
          options.model === undefined
            ? {
                // Packaged: electron-builder's extraResources put it under process.resourcesPath;
                // in development Electron's resourcesPath is its own, and the repository's is used.
                bundledDir: bundledModelDir({
                  mainDir: options.mainDir,
                  resourcesPath: app.isPackaged ? (process as { resourcesPath?: string }).resourcesPath : undefined,
                }),
                ...(options.storeWorker
                  ? { storeWorker: options.storeWorker, storeOptions: nativeBinding ? { nativeBinding } : {} }
                  : {}),
              }
            : options.model,
        ...(nativeBinding ? { sqliteNativeBinding: nativeBinding } : {}),
        ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
        ...(options.trainWorker ? { trainWorker: options.trainWorker } : {}),
      });
      core = started;
      harden(electron.session.defaultSession);
      bridge = registerIpc({ ipcMain: electron.ipcMain, core: started, renderer, appWebContents, logger });
      state = 'running';
      openWindow();
      logger.info('desktop started', { version: APP_INFO.version, renderer: renderer.url });
      return { core: started, renderer, windows: () => [...windows.keys()] };
    })
    .catch((error: unknown) => {
      logger.error('the desktop app could not start', { error });
      electron.dialog.showErrorBox(
        `${APP_INFO.name} could not start`,
        error instanceof Error ? error.message : String(error),
      );
      app.exit(1);
      return undefined;
    });

  return { ready };
}

async function withTimeout(promise: Promise<void> | undefined, ms: number): Promise<void> {
  if (!promise) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
