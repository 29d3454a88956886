import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Where the window's page comes from: the built `out/renderer/index.html`, or in development the
 * electron-vite dev server. Everything that decides "is this our page?" (navigation guard, IPC
 * sender check, event delivery) asks `isAppUrl` against this one value.
 */
export type RendererLocation =
  { kind: 'file'; filePath: string; url: string } | { kind: 'dev-server'; url: string; origin: string };

export interface ResolveRendererOptions {
  /** The folder of the built main bundle (`out/main`); preload and renderer sit beside it. */
  mainDir: string;
  /** electron-vite's `ELECTRON_RENDERER_URL`, set only by `electron-vite dev`. */
  devServerUrl: string | undefined;
  isPackaged: boolean;
}

export function resolveRenderer(options: ResolveRendererOptions): RendererLocation {
  const dev = options.isPackaged ? undefined : parseDevServerUrl(options.devServerUrl);
  if (dev) return { kind: 'dev-server', url: dev.href, origin: dev.origin };
  const filePath = join(options.mainDir, '..', 'renderer', 'index.html');
  return { kind: 'file', filePath, url: pathToFileURL(filePath).href };
}

/**
 * A packaged app never honours the variable: anyone who can set an environment variable could
 * otherwise point the window, and its API, at their own page. In development only http(s) is
 * accepted, since the dev-server origin becomes the trusted origin.
 */
function parseDevServerUrl(value: string | undefined): URL | undefined {
  if (!value) return undefined;
  const url = safeUrl(value);
  return url && (url.protocol === 'http:' || url.protocol === 'https:') ? url : undefined;
}

export function preloadPath(mainDir: string): string {
  return join(mainDir, '..', 'preload', 'index.js');
}

/**
 * True when `url` is our page: the exact index.html (any #fragment: the UI may route by hash),
 * or any path on the dev server's origin. Opaque origins never match.
 */
export function isAppUrl(location: RendererLocation, url: string): boolean {
  const parsed = safeUrl(url);
  if (!parsed) return false;
  if (location.kind === 'dev-server') return parsed.origin !== 'null' && parsed.origin === location.origin;
  parsed.hash = '';
  return parsed.protocol === 'file:' && parsed.href === location.url;
}

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
