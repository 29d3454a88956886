import { pathToFileURL } from 'node:url';
import type { BrowserWindowConstructorOptions, HandlerDetails, WindowOpenHandlerResponse } from 'electron';
import type {
  DesktopApp,
  DesktopBrowserWindowClass,
  DesktopElectron,
  DesktopFrame,
  DesktopInvokeEvent,
  DesktopIpcMain,
  DesktopSession,
  DesktopWebContents,
  DesktopWindow,
  HeadersReceivedListener,
  InvokeHandler,
  PermissionCheckHandler,
  PermissionRequestHandler,
} from '../electron-api';

/**
 * A hand-written stand-in for the parts of Electron the shell uses (Electron's binary cannot run
 * here). It behaves the way Electron does where the shell depends on it (a window creates its web
 * contents and announces them on `app`, `handle` refuses a second handler for a channel,
 * `will-quit` can be vetoed) and records everything a security test wants to inspect.
 */

type Listener = (...args: never[]) => unknown;

class FakeEmitter {
  readonly listeners = new Map<string, Listener[]>();

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapper = (...args: never[]): unknown => {
      this.removeListener(event, wrapper);
      return listener(...args);
    };
    return this.on(event, wrapper);
  }

  removeListener(event: string, listener: Listener): this {
    this.listeners.set(
      event,
      (this.listeners.get(event) ?? []).filter((l) => l !== listener),
    );
    return this;
  }

  emit(event: string, ...args: unknown[]): boolean {
    const listeners = this.listeners.get(event) ?? [];
    for (const listener of listeners) (listener as (...a: unknown[]) => unknown)(...args);
    return listeners.length > 0;
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }
}

/** Electron's `Event`: the one thing handlers do with it is veto. */
export class FakeEvent {
  defaultPrevented = false;
  constructor(readonly url = '') {}
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export class FakeFrame implements DesktopFrame {
  constructor(
    public url: string,
    readonly parent: FakeFrame | null = null,
  ) {}
}

export class FakeSession implements DesktopSession {
  permissionRequestHandler: PermissionRequestHandler | null = null;
  permissionCheckHandler: PermissionCheckHandler | null = null;
  headersReceivedListener: HeadersReceivedListener | null = null;
  readonly webRequest = {
    onHeadersReceived: (listener: HeadersReceivedListener | null): void => {
      this.headersReceivedListener = listener;
    },
  };

  setPermissionRequestHandler(handler: PermissionRequestHandler | null): void {
    this.permissionRequestHandler = handler;
  }

  setPermissionCheckHandler(handler: PermissionCheckHandler | null): void {
    this.permissionCheckHandler = handler;
  }

  /** Asks the request handler as Chromium would, and resolves with its answer. */
  requestPermission(permission: string, contents: unknown = null): Promise<boolean> {
    const handler = this.permissionRequestHandler;
    if (!handler) return Promise.resolve(true); // Electron's default: granted.
    return new Promise((resolve) => handler(contents, permission, resolve));
  }
}

export class FakeWebContents extends FakeEmitter implements DesktopWebContents {
  private static nextId = 1;
  readonly id = FakeWebContents.nextId++;
  readonly mainFrame = new FakeFrame('');
  readonly sent: { channel: string; args: unknown[] }[] = [];
  windowOpenHandler: ((details: HandlerDetails) => WindowOpenHandlerResponse) | null = null;
  destroyed = false;

  constructor(readonly session: FakeSession) {
    super();
  }

  getURL(): string {
    return this.mainFrame.url;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, args });
  }

  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void {
    this.windowOpenHandler = handler;
  }

  /** Fires a preventable navigation event ('will-navigate', 'will-redirect', ...); returns it. */
  navigate(kind: 'will-navigate' | 'will-frame-navigate' | 'will-redirect', url: string): FakeEvent {
    const event = new FakeEvent(url);
    this.emit(kind, event, url);
    return event;
  }

  /** What window.open(url) would get from the handler; `deny` when none is set (tests expect one). */
  openWindow(url: string): WindowOpenHandlerResponse {
    if (!this.windowOpenHandler) return { action: 'allow' };
    return this.windowOpenHandler({
      url,
      frameName: '',
      features: '',
      disposition: 'new-window',
      referrer: { url: '', policy: 'default' },
    });
  }

  attachWebview(): FakeEvent {
    const event = new FakeEvent();
    this.emit('will-attach-webview', event, {}, {});
    return event;
  }

  /** Simulates a page load: the URL changes, then 'did-finish-load'. */
  finishLoad(url: string): void {
    this.mainFrame.url = url;
    this.emit('did-finish-load');
  }
}

export class FakeIpcMain implements DesktopIpcMain {
  readonly handlers = new Map<string, InvokeHandler>();
  /** Every channel ever passed to `handle`, in order, including ones later removed. */
  readonly registrations: string[] = [];

  handle(channel: string, listener: InvokeHandler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.registrations.push(channel);
    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /** What `ipcRenderer.invoke(channel, ...args)` from `event`'s frame resolves to. */
  async invoke(channel: string, event: DesktopInvokeEvent, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    // Structured clone, as IPC does: functions, prototypes and class identity do not cross.
    return structuredClone(await handler(event, ...args));
  }
}

export class FakeApp extends FakeEmitter implements DesktopApp {
  isPackaged = false;
  lockAvailable = true;
  sandboxEnabled = false;
  quitCalls = 0;
  exitCodes: number[] = [];
  /** Set once a quit went through without a veto. */
  quitted = false;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;

  constructor(private readonly userData: string) {
    super();
    this.readyPromise = new Promise((resolve) => (this.resolveReady = resolve));
  }

  requestSingleInstanceLock(): boolean {
    return this.lockAvailable;
  }

  enableSandbox(): void {
    this.sandboxEnabled = true;
  }

  whenReady(): Promise<void> {
    return this.readyPromise;
  }

  /** Electron's 'ready': tests decide when it happens, after startDesktop has hooked in. */
  ready(): void {
    this.resolveReady();
    this.emit('ready');
  }

  getPath(name: 'userData'): string {
    if (name !== 'userData') throw new Error(`fake app has no path ${String(name)}`);
    return this.userData;
  }

  quit(): void {
    this.quitCalls += 1;
    const event = new FakeEvent();
    this.emit('will-quit', event);
    if (!event.defaultPrevented) this.quitted = true;
  }

  exit(exitCode = 0): void {
    this.exitCodes.push(exitCode);
  }
}

export class FakeBrowserWindow extends FakeEmitter implements DesktopWindow {
  readonly webContents: FakeWebContents;
  shown = false;
  focused = false;
  minimized = false;
  destroyed = false;
  loaded: { kind: 'url' | 'file'; target: string } | undefined;

  constructor(
    private readonly fake: FakeElectron,
    readonly options: BrowserWindowConstructorOptions,
  ) {
    super();
    fake.windows.push(this);
    this.webContents = new FakeWebContents(fake.defaultSession);
    fake.webContents.push(this.webContents);
    fake.app.emit('web-contents-created', new FakeEvent(), this.webContents);
  }

  show(): void {
    this.shown = true;
  }
  focus(): void {
    this.focused = true;
  }
  restore(): void {
    this.minimized = false;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }

  loadURL(url: string): Promise<void> {
    this.loaded = { kind: 'url', target: url };
    return this.finishLoading(url);
  }

  loadFile(filePath: string): Promise<void> {
    this.loaded = { kind: 'file', target: filePath };
    return this.finishLoading(pathToFileURL(filePath).href);
  }

  /** Like Electron: the page loads, then paints ('ready-to-show'), both a turn of the event loop later. */
  private async finishLoading(url: string): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.destroyed) return;
    this.webContents.finishLoad(url);
    this.emit('ready-to-show');
  }

  close(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit('closed');
    if (this.fake.windows.every((w) => w.destroyed)) this.fake.app.emit('window-all-closed');
  }
}

export class FakeElectron {
  readonly windows: FakeBrowserWindow[] = [];
  readonly webContents: FakeWebContents[] = [];
  readonly defaultSession = new FakeSession();
  readonly app: FakeApp;
  readonly ipcMain = new FakeIpcMain();
  readonly openedExternally: string[] = [];
  readonly errorBoxes: { title: string; content: string }[] = [];

  constructor(userData: string) {
    this.app = new FakeApp(userData);
    this.api = {
      app: this.app,
      BrowserWindow: windowClassFor(this),
      ipcMain: this.ipcMain,
      session: { defaultSession: this.defaultSession },
      shell: {
        openExternal: (url: string) => {
          this.openedExternally.push(url);
          return Promise.resolve();
        },
      },
      dialog: {
        showErrorBox: (title: string, content: string) => {
          this.errorBoxes.push({ title, content });
        },
      },
    };
  }

  /** The object the shell receives in place of `import * as electron from 'electron'`. */
  readonly api: DesktopElectron;

  /** An invoke event from `frame` in `contents` (defaults: the first window's main frame). */
  invokeEvent(
    frame: FakeFrame | null,
    contents: FakeWebContents | undefined = this.webContents[0],
  ): DesktopInvokeEvent {
    if (!contents) throw new Error('no web contents yet');
    return { sender: contents, senderFrame: frame };
  }
}

/** `new BrowserWindow(options)` as the shell calls it, bound to one fake. */
function windowClassFor(fake: FakeElectron): DesktopBrowserWindowClass {
  return class extends FakeBrowserWindow {
    constructor(options: BrowserWindowConstructorOptions) {
      super(fake, options);
    }
  };
}
