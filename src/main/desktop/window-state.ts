import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../core/util/logger';
import type { DesktopDisplay, DesktopRectangle, DesktopWindow } from './electron-api';

/** What `<userData>/window-state.json` holds. */
export interface WindowState {
  bounds: DesktopRectangle;
  maximized: boolean;
}

export const WINDOW_STATE_FILE = 'window-state.json';

function isRectangle(value: unknown): value is DesktopRectangle {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (['x', 'y', 'width', 'height'] as const).every((k) => typeof r[k] === 'number' && Number.isFinite(r[k]));
}

function inside(inner: DesktopRectangle, outer: DesktopRectangle): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

/**
 * The saved state, when there is one and it still fits a display: the window lies wholly inside
 * one display's work area and is at least `min` big. A state for a monitor that is gone, a
 * corrupt or hand-edited file: undefined, and the window opens at its default size, centred.
 */
export function loadWindowState(
  file: string,
  displays: readonly DesktopDisplay[],
  min: { width: number; height: number },
  logger?: Logger,
): WindowState | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logger?.warn('window state ignored', { file, error });
    return undefined;
  }
  const state = parsed as Partial<WindowState> | null;
  if (!state || !isRectangle(state.bounds)) return undefined;
  const bounds = {
    x: Math.round(state.bounds.x),
    y: Math.round(state.bounds.y),
    width: Math.round(state.bounds.width),
    height: Math.round(state.bounds.height),
  };
  if (bounds.width < min.width || bounds.height < min.height) return undefined;
  if (!displays.some((d) => inside(bounds, d.workArea))) return undefined;
  return { bounds, maximized: state.maximized === true };
}

/** Writes beside the file, then renames over it: a crash never leaves half a JSON. */
export function saveWindowState(file: string, state: WindowState): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state)}\n`);
  renameSync(temp, file);
}

export interface WindowStateTracker {
  /** Writes any pending change now (the debounce cancelled). */
  flush(): void;
}

/**
 * Saves the window's normal bounds and maximized flag: `debounceMs` after the last move or resize
 * (a drag fires dozens), and at once on close, while the window still has its bounds.
 */
export function trackWindowState(
  window: DesktopWindow,
  file: string,
  options: { debounceMs?: number; logger: Logger },
): WindowStateTracker {
  const debounceMs = options.debounceMs ?? 500;
  let timer: NodeJS.Timeout | undefined;
  let lastWritten = '';
  const save = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (window.isDestroyed()) return;
    const state: WindowState = { bounds: window.getNormalBounds(), maximized: window.isMaximized() };
    const text = JSON.stringify(state);
    if (text === lastWritten) return;
    try {
      saveWindowState(file, state);
      lastWritten = text;
    } catch (error) {
      options.logger.warn('could not save the window state', { file, error });
    }
  };
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, debounceMs);
    timer.unref?.();
  };
  for (const event of ['move', 'resize', 'maximize', 'unmaximize'] as const) window.on(event, schedule);
  window.on('close', () => save());
  window.on('closed', () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  });
  return { flush: save };
}
