import type { ApiErrorBody } from './errors';

/** The one invoke channel: `ipcRenderer.invoke(IPC_RPC_CHANNEL, method, input)` resolves to an IpcEnvelope. */
export const IPC_RPC_CHANNEL = 'tftmp:rpc';
/** The one push channel: the main process sends one EventMessage (`{ name, payload }`) per contract event. */
export const IPC_EVENT_CHANNEL = 'tftmp:event';

/**
 * What an IPC call resolves to. Errors travel as data, not as rejections: Electron flattens a
 * rejected invoke into a bare message and loses the code and the field issues.
 */
export type IpcEnvelope = { ok: true; value: unknown } | { ok: false; error: ApiErrorBody };

/** What the preload exposes as `window.api`: nothing but these two functions. */
export interface PreloadApi {
  rpc(method: string, input: unknown): Promise<IpcEnvelope>;
  onEvent(name: string, cb: (payload: unknown) => void): () => void;
}
