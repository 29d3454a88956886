import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { APP_INFO } from '../core/app-info';
import { createCore, DEFAULT_SIMULATOR, type Core, type ModelConfig, type SimulatorConfig } from '../core/app';
import { bundledModelDir } from '../core/paths';
import type { Logger } from '../core/util/logger';
import type { PredictWorkerFactory } from '../core/fleet/predict-worker';
import type { TrainWorkerFactory } from '../core/model/train/train-worker';
import type { DesktopElectron, DesktopSession, DesktopWebContents, DesktopWindow } from './electron-api';
import { createFileLogger } from './file-logger';
import { registerIpc, type IpcBridge } from './ipc';
import { installAppMenu } from './app-menu';
import { coreAlertSource, watchAlerts, type AlertWatch } from './alert-watch';
import { createMainWindow, loadRoute, mainWindowOptions, serverRoute } from './main-window';
import {
  HeadlessUsageError,
  parseHeadlessArgs,
  startHeadlessServer,
  type HeadlessArgs,
  type HeadlessServer,
} from './headless';
import { createAlertNotifier } from './notifications';
import { createAlertTray, type AlertTray } from './tray';
import { loadWindowState, trackWindowState, WINDOW_STATE_FILE } from './window-state';
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
  /** Where the default model's cycles compute (main.ts: the bundled prediction worker). */
  predictWorker?: PredictWorkerFactory;
  /** Starts the training worker for model.train (main.ts: the bundled one). */
  trainWorker?: TrainWorkerFactory;
  /** The tray icon and native notifications for alerts (default true). */
  alertTray?: boolean;
  /** How long after the last move/resize the window's bounds are saved (default 500 ms). */
  windowStateDebounceMs?: number;
  /** The command line after the executable (default process.argv.slice(1)): `--headless --port N`. */
  argv?: readonly string[];
  /** Where headless mode prints its "listening on" line (default process.stdout). */
  stdout?: { write(text: string): unknown };
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
  /** The tray, when it could be created. */
  readonly tray: AlertTray | undefined;
  /** Headless mode's HTTP server (no window then). */
  readonly daemon: HeadlessServer | undefined;
  /** Resolves when the tray and the notifications show the current open alerts. */
  refreshAlerts(): Promise<void>;
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

  let headless: HeadlessArgs | null;
  try {
    headless = parseHeadlessArgs(options.argv ?? process.argv.slice(1));
  } catch (error) {
    if (!(error instanceof HeadlessUsageError)) throw error;
    process.stderr.write(`${error.message}\n`);
    app.exit(2);
    return { ready: Promise.resolve(undefined) };
  }

  // A second instance would open the same SQLite store and settings; it hands over to the first.
  if (!app.requestSingleInstanceLock()) {
    if (headless) process.stderr.write(`${APP_INFO.name} is already running with this data folder\n`);
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

  let tray: AlertTray | undefined;
  let alertWatch: AlertWatch | undefined;
  let daemon: HeadlessServer | undefined;

  const openWindow = (route?: string): DesktopWindow => {
    const stateFile = join(app.getPath('userData'), WINDOW_STATE_FILE);
    const defaults = mainWindowOptions('');
    const saved = loadWindowState(
      stateFile,
      electron.screen.getAllDisplays(),
      { width: defaults.minWidth ?? 0, height: defaults.minHeight ?? 0 },
      logger,
    );
    const window = createMainWindow({
      BrowserWindow: electron.BrowserWindow,
      preload: preloadPath(options.mainDir),
      renderer,
      logger,
      ...(route === undefined ? {} : { route }),
      ...(saved ? { bounds: saved.bounds } : {}),
    });
    if (saved?.maximized) window.maximize();
    trackWindowState(window, stateFile, {
      logger,
      ...(options.windowStateDebounceMs === undefined ? {} : { debounceMs: options.windowStateDebounceMs }),
    });
    const contents = window.webContents;
    windows.set(window, contents);
    window.on('closed', () => windows.delete(window));
    contents.on('did-finish-load', () => void bridge?.sendHealth(contents));
    return window;
  };

  const appWebContents = (): DesktopWebContents[] =>
    [...windows.values()].filter((contents) => !contents.isDestroyed());

  /** Brings the window forward (opening one if none), on `route` when given. */
  const showWindow = (route?: string): void => {
    if (state !== 'running') return;
    const [window] = windows.keys();
    if (!window) {
      openWindow(route);
      return;
    }
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
    if (route !== undefined) loadRoute(window, renderer, logger, route);
  };

  // A headless instance has no window to show; a launch of `--headless` while the window is open
  // is refused (it says so on its stderr) and does not pop the window up either.
  app.on('second-instance', (_event, argv) => {
    if (headless || argv.includes('--headless')) logger.info('a second instance started and quit', { headless: !!headless });
    else showWindow();
  });

  // macOS apps live on without windows until Cmd+Q, and reopen one from the dock.
  app.on('window-all-closed', () => {
    if (platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (state === 'running' && !headless && windows.size === 0) openWindow();
  });

  // The core is closed before the process exits (flushes the store); quitting waits for it.
  app.on('will-quit', (event) => {
    if (state === 'stopped') return;
    event.preventDefault();
    if (state === 'stopping') return;
    state = 'stopping';
    bridge?.dispose();
    alertWatch?.dispose();
    tray?.dispose();
    const closeAll = async (): Promise<void> => {
      // The server first: no request reaches a closing core.
      await daemon?.close().catch((error: unknown) => logger.error('the server did not close cleanly', { error }));
      await core?.close();
    };
    void withTimeout(closeAll(), options.closeTimeoutMs ?? 5_000)
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
    .then(async (): Promise<DesktopRuntime | undefined> => {
      if (state !== 'starting') return undefined;
      const nativeBinding = app.isPackaged ? undefined : devSqliteBinding(options.mainDir);
      const started = createCore({
        dataDir: app.getPath('userData'),
        runtime: headless ? 'daemon' : 'desktop',
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
                ...(options.predictWorker
                  ? { predictWorker: options.predictWorker, storeOptions: nativeBinding ? { nativeBinding } : {} }
                  : {}),
              }
            : options.model,
        ...(nativeBinding ? { sqliteNativeBinding: nativeBinding } : {}),
        ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
        ...(options.trainWorker ? { trainWorker: options.trainWorker } : {}),
      });
      core = started;
      if (headless) {
        // The installed app as a server: the core and the daemon, no window, tray or menu.
        daemon = await startHeadlessServer({
          core: started,
          logger,
          args: headless,
          dataDir: app.getPath('userData'),
          dashboardDir: join(options.mainDir, '..', 'renderer'),
          stdout: options.stdout ?? process.stdout,
        });
        if (state === 'starting') state = 'running';
        logger.info('headless started', { version: APP_INFO.version, url: daemon.url });
        const served = daemon;
        return {
          core: started,
          renderer,
          windows: () => [],
          tray: undefined,
          daemon: served,
          refreshAlerts: () => Promise.resolve(),
        };
      }
      harden(electron.session.defaultSession);
      bridge = registerIpc({ ipcMain: electron.ipcMain, core: started, renderer, appWebContents, logger });
      state = 'running';
      installAppMenu(electron.Menu, {
        platform,
        development: !app.isPackaged,
        openRoute: (route) => showWindow(route),
        quit: () => app.quit(),
      });
      openWindow();
      if (options.alertTray !== false) startAlerts(started);
      logger.info('desktop started', { version: APP_INFO.version, renderer: renderer.url });
      return {
        core: started,
        renderer,
        windows: () => [...windows.keys()],
        get tray() {
          return tray;
        },
        daemon: undefined,
        refreshAlerts: () => alertWatch?.refresh() ?? Promise.resolve(),
      };
    })
    .catch(async (error: unknown) => {
      logger.error('the desktop app could not start', { error });
      // A core started before the failure (e.g. the port is taken) is closed: it holds the store.
      if (state === 'starting') await core?.close().catch(() => undefined);
      if (headless) process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      electron.dialog.showErrorBox(
        `${APP_INFO.name} could not start`,
        error instanceof Error ? error.message : String(error),
      );
      app.exit(1);
      return undefined;
    });

  // The tray and notifications are extras: if the platform has no tray, the app runs without one.
  function startAlerts(started: Core): void {
    const openServer = (name: string): void => showWindow(serverRoute(name));
    try {
      tray = createAlertTray({
        electron,
        iconDir: join(app.getPath('userData'), 'tray'),
        openDashboard: () => showWindow(),
        openServer,
        openAlerts: () => showWindow('/alerts'),
        quit: () => app.quit(),
      });
    } catch (error) {
      logger.warn('no tray icon', { error });
    }
    const notifier = createAlertNotifier({ Notification: electron.Notification, openServer, logger });
    const currentTray = tray;
    alertWatch = watchAlerts(coreAlertSource(started), logger, [
      ...(currentTray ? [(alerts: Parameters<AlertTray['update']>[0]) => currentTray.update(alerts)] : []),
      (alerts) => notifier.update(alerts),
    ]);
    void alertWatch.refresh();
  }

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
