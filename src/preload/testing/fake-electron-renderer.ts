import type { PreloadContextBridge, PreloadIpcRenderer } from '../preload-api';

/**
 * The renderer-side half of the fake Electron (the main-process half is
 * src/main/desktop/testing/fake-electron.ts; the layer rules keep the two apart).
 */

type Listener = (event: unknown, ...args: unknown[]) => void;

/** Records what the preload exposes; refuses a second binding of one key, as Electron does. */
export class FakeContextBridge implements PreloadContextBridge {
  readonly exposed = new Map<string, unknown>();

  exposeInMainWorld(apiKey: string, api: unknown): void {
    if (this.exposed.has(apiKey))
      throw new Error('Cannot bind an API on top of an existing property on the window object');
    this.exposed.set(apiKey, api);
  }
}

/** The raw event Electron hands ipcRenderer listeners: its `sender` is ipcRenderer itself. */
export interface FakeIpcRendererEvent {
  sender: FakeIpcRenderer;
  senderId: number;
  ports: unknown[];
}

export class FakeIpcRenderer implements PreloadIpcRenderer {
  readonly invocations: { channel: string; args: unknown[] }[] = [];
  private readonly listeners = new Map<string, Listener[]>();

  /** `route` answers invokes (the main process); without one, invoke fails like a missing handler. */
  constructor(private readonly route?: (channel: string, args: unknown[]) => Promise<unknown>) {}

  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invocations.push({ channel, args });
    if (!this.route) return Promise.reject(new Error(`No handler registered for '${channel}'`));
    return this.route(channel, args);
  }

  on(channel: string, listener: Listener): this {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener]);
    return this;
  }

  removeListener(channel: string, listener: Listener): this {
    this.listeners.set(
      channel,
      (this.listeners.get(channel) ?? []).filter((l) => l !== listener),
    );
    return this;
  }

  listenerCount(channel: string): number {
    return this.listeners.get(channel)?.length ?? 0;
  }

  /** What the main process's `webContents.send(channel, ...args)` does in this page. */
  deliver(channel: string, ...args: unknown[]): FakeIpcRendererEvent {
    const event: FakeIpcRendererEvent = { sender: this, senderId: 0, ports: [] };
    for (const listener of this.listeners.get(channel) ?? []) listener(event, ...args);
    return event;
  }
}
