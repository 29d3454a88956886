import {
  ApiError,
  dispatch,
  IPC_EVENT_CHANNEL,
  IPC_RPC_CHANNEL,
  type CallContext,
  type CoreApi,
  type EventMessage,
  type IpcEnvelope,
} from '@shared/contract';
import type { Logger } from '../core/util/logger';
import type { DesktopInvokeEvent, DesktopIpcMain, DesktopWebContents } from './electron-api';
import { isAppUrl, type RendererLocation } from './renderer-location';

export interface IpcBridgeOptions {
  ipcMain: DesktopIpcMain;
  core: CoreApi;
  renderer: RendererLocation;
  /** The web contents of the app's own windows: the only ones that may call and that get events. */
  appWebContents: () => Iterable<DesktopWebContents>;
  logger: Logger;
}

export interface IpcBridge {
  /** Pushes the current health to one page, so its connection indicator turns green at once. */
  sendHealth(contents: DesktopWebContents): Promise<void>;
  /** Removes the handler and stops forwarding events. */
  dispose(): void;
}

const IPC_CONTEXT: CallContext = { transport: 'ipc' };

/**
 * The whole IPC surface: one invoke channel for every contract call, one push channel for every
 * contract event. Calls go through the same `dispatch` as HTTP and tests, so validation is the
 * contract's; this layer only decides who may call.
 */
export function registerIpc(options: IpcBridgeOptions): IpcBridge {
  const { ipcMain, core, renderer, logger } = options;

  const isOurs = (contents: DesktopWebContents): boolean => {
    for (const candidate of options.appWebContents()) if (candidate.id === contents.id) return true;
    return false;
  };

  ipcMain.handle(IPC_RPC_CHANNEL, async (event, method, input): Promise<IpcEnvelope> => {
    const refusal = senderRefusal(event, renderer, isOurs);
    if (refusal) {
      logger.warn('refused an IPC call', { reason: refusal, url: event.senderFrame?.url ?? null });
      return failure(new ApiError('forbidden', 'This page may not call the API'));
    }
    // dispatch is typed for strings; over IPC anything structured-cloneable can arrive.
    if (typeof method !== 'string') return failure(new ApiError('unknown_method', 'The method must be a string'));
    try {
      const value = await dispatch(core, method, input, IPC_CONTEXT, {
        onInternalError: (name, error) => logger.error('API handler failed', { method: name, error }),
      });
      return { ok: true, value };
    } catch (error) {
      return failure(error instanceof ApiError ? error : new ApiError('internal', 'Internal error'));
    }
  });

  const send = (contents: DesktopWebContents, message: EventMessage): void => {
    // A page that has navigated away (it cannot, but belt and braces) or is gone gets nothing.
    if (contents.isDestroyed() || !isAppUrl(renderer, contents.getURL())) return;
    try {
      contents.send(IPC_EVENT_CHANNEL, message);
    } catch (error) {
      logger.warn('could not deliver an event', { event: message.name, error });
    }
  };

  const unsubscribe = core.events.onAny((message) => {
    for (const contents of options.appWebContents()) send(contents, message);
  });

  let disposed = false;
  return {
    sendHealth: async (contents) => {
      try {
        const payload = (await dispatch(
          core,
          'system.health',
          {},
          IPC_CONTEXT,
        )) as EventMessage<'health.updated'>['payload'];
        if (!disposed) send(contents, { name: 'health.updated', payload });
      } catch (error) {
        logger.warn('could not send the initial health', { error });
      }
    },
    dispose: () => {
      if (disposed) return;
      disposed = true;
      ipcMain.removeHandler(IPC_RPC_CHANNEL);
      unsubscribe();
    },
  };
}

/**
 * Why a call is refused, or undefined when it may proceed. Only the main frame of one of our own
 * windows, showing our own page, may call: an iframe (even one on our origin), a page that
 * somehow navigated elsewhere, or a frame already gone cannot.
 */
export function senderRefusal(
  event: DesktopInvokeEvent,
  renderer: RendererLocation,
  isAppWebContents: (contents: DesktopWebContents) => boolean,
): string | undefined {
  const frame = event.senderFrame;
  if (!frame) return 'no sender frame';
  if (frame.parent !== null) return 'not a main frame';
  if (!isAppUrl(renderer, frame.url)) return 'foreign page';
  if (!isAppWebContents(event.sender)) return 'not an app window';
  return undefined;
}

function failure(error: ApiError): IpcEnvelope {
  return { ok: false, error: error.toJSON() };
}
