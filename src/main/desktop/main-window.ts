import type { BrowserWindowConstructorOptions } from 'electron';
import { APP_INFO } from '../core/app-info';
import type { Logger } from '../core/util/logger';
import type { DesktopBrowserWindowClass, DesktopRectangle, DesktopWindow } from './electron-api';
import type { RendererLocation } from './renderer-location';

/** The dashboard's background (index.html uses the same): no white flash before the first paint. */
export const WINDOW_BACKGROUND = '#0f1419';

/**
 * The window options, all in one place so a test can check each window against the Electron
 * security checklist. The page is untrusted as far as the OS goes: no Node, its own world,
 * Chromium's sandbox, and the only bridge is the preload's two functions.
 */
export function mainWindowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    // Shown on 'ready-to-show', so the user never sees a half-painted page.
    show: false,
    backgroundColor: WINDOW_BACKGROUND,
    title: APP_INFO.name,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  };
}

export interface MainWindowOptions {
  BrowserWindow: DesktopBrowserWindowClass;
  preload: string;
  renderer: RendererLocation;
  logger: Logger;
  /** A dashboard route to open on (`/servers/db-01`), without the '#'. */
  route?: string;
  /** Remembered bounds (window-state.ts); default: the default size, centred. */
  bounds?: DesktopRectangle;
}

export function createMainWindow(options: MainWindowOptions): DesktopWindow {
  const { renderer, logger } = options;
  const window = new options.BrowserWindow({ ...mainWindowOptions(options.preload), ...options.bounds });
  window.once('ready-to-show', () => window.show());
  loadRoute(window, renderer, logger, options.route);
  return window;
}

/**
 * Loads the dashboard, on `route` when given (a hash route: the page itself stays our index.html,
 * which the navigation guard and the IPC sender check accept with any fragment).
 */
export function loadRoute(window: DesktopWindow, renderer: RendererLocation, logger: Logger, route?: string): void {
  let loading: Promise<void>;
  if (renderer.kind === 'dev-server') {
    const url = new URL(renderer.url);
    if (route !== undefined) url.hash = route;
    loading = window.loadURL(route === undefined ? renderer.url : url.href);
  } else {
    loading = route === undefined ? window.loadFile(renderer.filePath) : window.loadFile(renderer.filePath, { hash: route });
  }
  loading.catch((error: unknown) =>
    logger.error('the window could not load the dashboard', { url: renderer.url, route, error }),
  );
}

/** The hash route of one server's view. */
export function serverRoute(name: string): string {
  return `/servers/${encodeURIComponent(name)}`;
}
