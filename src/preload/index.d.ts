import type { PreloadApi } from '@shared/contract/ipc';

declare global {
  interface Window {
    /** Present in the Electron window only; the browser dashboard talks HTTP instead. */
    api?: PreloadApi;
  }
}

export {};
