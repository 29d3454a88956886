import type {
  BrowserWindowConstructorOptions,
  MenuItemConstructorOptions,
  HandlerDetails,
  HeadersReceivedResponse,
  OpenExternalOptions,
  WindowOpenHandlerResponse,
} from 'electron';

/**
 * The slice of Electron the desktop shell touches, and nothing more. The shell receives it as a
 * parameter so tests can hand in a fake (Electron cannot run on the CI machines). `main.ts`
 * passes the real module, so the compiler checks that Electron satisfies every shape here;
 * each signature is a narrowing of Electron's own, which keeps the fake honest and small.
 */
export interface DesktopElectron {
  app: DesktopApp;
  BrowserWindow: DesktopBrowserWindowClass;
  ipcMain: DesktopIpcMain;
  session: { readonly defaultSession: DesktopSession };
  shell: { openExternal(url: string, options?: OpenExternalOptions): Promise<void> };
  dialog: { showErrorBox(title: string, content: string): void };
  Tray: DesktopTrayClass;
  Menu: DesktopMenuStatic;
  Notification: DesktopNotificationClass;
  /** Usable only after 'ready', as in Electron. */
  screen: { getAllDisplays(): readonly DesktopDisplay[] };
}

export interface DesktopRectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DesktopDisplay {
  /** The display less the taskbar / menu bar / dock. */
  readonly workArea: DesktopRectangle;
}

/** Electron's Menu: built from a template, shown by the tray or as the application menu. */
export interface DesktopMenu {
  readonly items: readonly { readonly label: string }[];
}

export interface DesktopMenuStatic {
  buildFromTemplate(template: MenuItemConstructorOptions[]): DesktopMenu;
  setApplicationMenu(menu: DesktopMenu | null): void;
}

export interface DesktopTray {
  /** A PNG file's path (Electron loads it; a missing file is an empty, invisible icon). */
  setImage(image: string): void;
  setToolTip(toolTip: string): void;
  /** macOS only (text beside the icon); a no-op elsewhere. */
  setTitle(title: string): void;
  setContextMenu(menu: DesktopMenu | null): void;
  destroy(): void;
  isDestroyed(): boolean;
  on(event: 'click', listener: () => void): unknown;
}

export interface DesktopTrayClass {
  new (image: string): DesktopTray;
}

export interface DesktopNotificationOptions {
  title: string;
  body: string;
  urgency?: 'normal' | 'critical' | 'low';
}

export interface DesktopNotification {
  show(): void;
  on(event: 'click', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

export interface DesktopNotificationClass {
  new (options: DesktopNotificationOptions): DesktopNotification;
  isSupported(): boolean;
}

/** The part of Electron's `Event` a handler needs: the veto. */
export interface PreventableEvent {
  preventDefault(): void;
}

export interface NavigationEvent extends PreventableEvent {
  readonly url: string;
}

export interface DesktopApp {
  readonly isPackaged: boolean;
  requestSingleInstanceLock(): boolean;
  enableSandbox(): void;
  whenReady(): Promise<void>;
  getPath(name: 'userData'): string;
  quit(): void;
  exit(exitCode?: number): void;
  on(event: 'second-instance', listener: (event: unknown, argv: string[]) => void): unknown;
  on(event: 'window-all-closed', listener: () => void): unknown;
  on(event: 'activate', listener: () => void): unknown;
  on(event: 'will-quit', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'web-contents-created', listener: (event: unknown, contents: DesktopWebContents) => void): unknown;
}

/** A frame as the IPC sender check sees it (Electron's WebFrameMain). */
export interface DesktopFrame {
  readonly url: string;
  readonly parent: DesktopFrame | null;
}

export interface DesktopWebContents {
  /** Unique and stable for the life of the contents: compare by id, not by wrapper identity. */
  readonly id: number;
  readonly session: DesktopSession;
  getURL(): string;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void;
  on(event: 'will-navigate', listener: (event: NavigationEvent) => void): unknown;
  on(event: 'will-frame-navigate', listener: (event: NavigationEvent) => void): unknown;
  on(event: 'will-redirect', listener: (event: NavigationEvent) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'did-finish-load', listener: () => void): unknown;
}

export interface DesktopWindow {
  readonly webContents: DesktopWebContents;
  show(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
  isDestroyed(): boolean;
  loadURL(url: string): Promise<void>;
  loadFile(filePath: string, options?: { hash?: string }): Promise<void>;
  getBounds(): DesktopRectangle;
  /** The bounds the window returns to when un-maximized (its bounds when not maximized). */
  getNormalBounds(): DesktopRectangle;
  isMaximized(): boolean;
  maximize(): void;
  once(event: 'ready-to-show', listener: () => void): unknown;
  on(event: 'closed', listener: () => void): unknown;
  /** Before closing, while the window and its bounds still exist. */
  on(event: 'close', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'move' | 'resize' | 'maximize' | 'unmaximize', listener: () => void): unknown;
}

export interface DesktopBrowserWindowClass {
  new (options: BrowserWindowConstructorOptions): DesktopWindow;
}

/** What arrives with an `ipcMain.handle` call (Electron's IpcMainInvokeEvent). */
export interface DesktopInvokeEvent {
  readonly sender: DesktopWebContents;
  readonly senderFrame: DesktopFrame | null;
}

export type InvokeHandler = (event: DesktopInvokeEvent, ...args: unknown[]) => unknown;

export interface DesktopIpcMain {
  handle(channel: string, listener: InvokeHandler): void;
  removeHandler(channel: string): void;
}

/** Electron's permission names are a long union; the shell denies them all, so a string will do. */
export type PermissionRequestHandler = (
  webContents: unknown,
  permission: string,
  callback: (granted: boolean) => void,
) => void;
export type PermissionCheckHandler = (webContents: unknown, permission: string) => boolean;

export interface HeadersReceivedDetails {
  readonly url: string;
  readonly responseHeaders?: Record<string, string[]>;
}
export type HeadersReceivedListener = (
  details: HeadersReceivedDetails,
  callback: (response: HeadersReceivedResponse) => void,
) => void;

export interface DesktopSession {
  setPermissionRequestHandler(handler: PermissionRequestHandler | null): void;
  setPermissionCheckHandler(handler: PermissionCheckHandler | null): void;
  readonly webRequest: { onHeadersReceived(listener: HeadersReceivedListener | null): void };
}
