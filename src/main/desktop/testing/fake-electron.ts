import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import type {
  BrowserWindowConstructorOptions,
  HandlerDetails,
  MenuItemConstructorOptions,
  WindowOpenHandlerResponse,
} from 'electron';
import type {
  DesktopApp,
  DesktopBrowserWindowClass,
  DesktopDisplay,
  DesktopElectron,
  DesktopRectangle,
  DesktopFrame,
  DesktopInvokeEvent,
  DesktopIpcMain,
  DesktopMenu,
  DesktopNotification,
  DesktopNotificationClass,
  DesktopNotificationOptions,
  DesktopTray,
  DesktopTrayClass,
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
  isReady = false;
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
    this.isReady = true;
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
  loaded: { kind: 'url' | 'file'; target: string; hash?: string } | undefined;
  maximized = false;
  private bounds: DesktopRectangle;

  constructor(
    private readonly fake: FakeElectron,
    readonly options: BrowserWindowConstructorOptions,
  ) {
    super();
    // Like Electron: the size from the options (default 800x600), centred on the primary display
    // unless both x and y are given.
    const width = options.width ?? 800;
    const height = options.height ?? 600;
    const area = fake.displays[0]?.workArea ?? { x: 0, y: 0, width: 1920, height: 1080 };
    this.bounds =
      options.x !== undefined && options.y !== undefined
        ? { x: options.x, y: options.y, width, height }
        : {
            x: area.x + Math.round((area.width - width) / 2),
            y: area.y + Math.round((area.height - height) / 2),
            width,
            height,
          };
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

  getBounds(): DesktopRectangle {
    if (this.destroyed) throw new Error('Object has been destroyed');
    if (!this.maximized) return { ...this.bounds };
    const area = this.fake.displays[0]?.workArea ?? this.bounds;
    return { ...area };
  }
  getNormalBounds(): DesktopRectangle {
    if (this.destroyed) throw new Error('Object has been destroyed');
    return { ...this.bounds };
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  maximize(): void {
    if (this.maximized) return;
    this.maximized = true;
    this.emit('maximize');
    this.emit('resize');
  }
  /** The user moves or resizes the window: Electron emits 'move' and/or 'resize'. */
  setBounds(bounds: Partial<DesktopRectangle>): void {
    const next = { ...this.bounds, ...bounds };
    const moved = next.x !== this.bounds.x || next.y !== this.bounds.y;
    const resized = next.width !== this.bounds.width || next.height !== this.bounds.height;
    this.bounds = next;
    if (moved) this.emit('move');
    if (resized) this.emit('resize');
  }

  loadURL(url: string): Promise<void> {
    this.loaded = { kind: 'url', target: url };
    return this.finishLoading(url);
  }

  loadFile(filePath: string, options?: { hash?: string }): Promise<void> {
    const url = new URL(pathToFileURL(filePath).href);
    if (options?.hash !== undefined) url.hash = options.hash;
    this.loaded = { kind: 'file', target: filePath, ...(options?.hash === undefined ? {} : { hash: options.hash }) };
    return this.finishLoading(url.href);
  }

  /** Like Electron: the page loads, then paints ('ready-to-show'), both a turn of the event loop later. */
  private async finishLoading(url: string): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.destroyed) return;
    this.webContents.finishLoad(url);
    this.emit('ready-to-show');
  }

  /** Like Electron: 'close' (which a listener may veto), then 'closed' once it is gone. */
  close(): void {
    if (this.destroyed) return;
    const event = new FakeEvent();
    this.emit('close', event);
    if (event.defaultPrevented) return;
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
  readonly trays: FakeTray[] = [];
  /** What screen.getAllDisplays() answers; the first is the primary. */
  displays: DesktopDisplay[] = [{ workArea: { x: 0, y: 0, width: 1920, height: 1040 } }];
  readonly notifications: FakeNotification[] = [];
  notificationsSupported = true;
  /** What Menu.setApplicationMenu was last given (undefined: never called, Electron's default menu). */
  applicationMenu: FakeMenu | null | undefined = undefined;
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
      Tray: trayClassFor(this),
      Menu: {
        buildFromTemplate: (template: MenuItemConstructorOptions[]) => new FakeMenu(template),
        setApplicationMenu: (menu: DesktopMenu | null) => {
          if (menu !== null && !(menu instanceof FakeMenu)) throw new TypeError('Invalid menu');
          this.applicationMenu = menu;
        },
      },
      Notification: notificationClassFor(this),
      screen: {
        getAllDisplays: () => {
          if (!this.app.isReady) throw new Error("The 'screen' module can't be used before the app 'ready' event");
          return this.displays.map((d) => ({ workArea: { ...d.workArea } }));
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

/**
 * Electron's Menu from `Menu.buildFromTemplate`: like Electron, every item needs a label, a role
 * or a type, and a submenu template becomes a Menu. `click(label)` is the user picking an item.
 */
export class FakeMenu implements DesktopMenu {
  readonly items: { readonly label: string; readonly options: MenuItemConstructorOptions; readonly submenu?: FakeMenu }[];

  constructor(readonly template: MenuItemConstructorOptions[]) {
    this.items = template.map((options) => {
      if (options.label === undefined && options.role === undefined && options.type === undefined) {
        throw new TypeError('Invalid template for MenuItem: must have at least one of label, role or type');
      }
      const submenu = Array.isArray(options.submenu) ? new FakeMenu(options.submenu) : undefined;
      return { label: options.label ?? '', options, ...(submenu ? { submenu } : {}) };
    });
  }

  /** Every label, depth first (submenus included): what a user could pick. */
  labels(): string[] {
    return this.items.flatMap((item) => [item.label, ...(item.submenu?.labels() ?? [])]);
  }

  /** Finds an item by label anywhere in the menu (throws when none). */
  find(label: string): MenuItemConstructorOptions {
    for (const item of this.items) {
      if (item.label === label) return item.options;
      const inner = item.submenu?.findOrUndefined(label);
      if (inner) return inner;
    }
    throw new Error(`no menu item '${label}' in [${this.labels().join(', ')}]`);
  }

  private findOrUndefined(label: string): MenuItemConstructorOptions | undefined {
    try {
      return this.find(label);
    } catch {
      return undefined;
    }
  }

  /** The user picks the item: disabled items do nothing, as in Electron. */
  click(label: string): void {
    const options = this.find(label);
    if (options.enabled === false) return;
    (options.click as ((...args: unknown[]) => void) | undefined)?.({}, undefined, {});
  }
}

export class FakeTray extends FakeEmitter implements DesktopTray {
  toolTip = '';
  title = '';
  contextMenu: FakeMenu | null = null;
  destroyed = false;
  /** The PNG bytes Electron would have loaded from the path; empty when the file is missing. */
  imageBytes: Buffer = Buffer.alloc(0);

  constructor(public image: string) {
    super();
    this.setImage(image);
  }

  setImage(image: string): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.image = image;
    try {
      this.imageBytes = readFileSync(image);
    } catch {
      this.imageBytes = Buffer.alloc(0);
    }
  }
  setToolTip(toolTip: string): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.toolTip = toolTip;
  }
  setTitle(title: string): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.title = title;
  }
  setContextMenu(menu: DesktopMenu | null): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    if (menu !== null && !(menu instanceof FakeMenu)) throw new TypeError('Invalid menu');
    this.contextMenu = menu;
  }
  destroy(): void {
    this.destroyed = true;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

export class FakeNotification extends FakeEmitter implements DesktopNotification {
  shown = false;
  constructor(readonly options: DesktopNotificationOptions) {
    super();
  }
  show(): void {
    this.shown = true;
  }
  /** The user clicks the notification; Electron then closes it. */
  click(): void {
    this.emit('click', new FakeEvent());
    this.emit('close', new FakeEvent());
  }
}

function trayClassFor(fake: FakeElectron): DesktopTrayClass {
  return class extends FakeTray {
    constructor(image: string) {
      super(image);
      fake.trays.push(this);
    }
  };
}

function notificationClassFor(fake: FakeElectron): DesktopNotificationClass {
  return class extends FakeNotification {
    static isSupported(): boolean {
      return fake.notificationsSupported;
    }
    constructor(options: DesktopNotificationOptions) {
      super(options);
      fake.notifications.push(this);
    }
  };
}
