import { CSP_DIRECTIVES, serializeCsp, type CspDirectives } from '@shared/contract/csp';
import type { Logger } from '../core/util/logger';
import type { DesktopElectron, DesktopSession, DesktopWebContents, HeadersReceivedListener } from './electron-api';
import { isAppUrl, type RendererLocation } from './renderer-location';

/**
 * The policy for the window's session. Production uses the dashboard's policy unchanged. The dev
 * server needs two relaxations, and gets them only when the page really comes from it
 * (ELECTRON_RENDERER_URL set, app not packaged): its HMR WebSocket on the same host and port,
 * and an inline script, the React Refresh preamble that @vitejs/plugin-react injects into
 * index.html.
 */
export function contentSecurityPolicy(location: RendererLocation): string {
  if (location.kind === 'file') return serializeCsp(CSP_DIRECTIVES);
  const wsOrigin = location.origin.replace(/^http/, 'ws');
  const dev: CspDirectives = {
    ...CSP_DIRECTIVES,
    'script-src': [...CSP_DIRECTIVES['script-src'], "'unsafe-inline'"],
    'connect-src': [...CSP_DIRECTIVES['connect-src'], wsOrigin],
  };
  return serializeCsp(dev);
}

/**
 * Locks a session down: every permission (camera, microphone, geolocation, notifications, ...)
 * is refused, since the dashboard needs none and Electron grants them all by default; and every
 * response carries our CSP, replacing whatever the server sent. Pages loaded from file:// get no
 * response headers, so index.html carries the same policy in a <meta> tag as well.
 */
export function hardenSession(session: DesktopSession, csp: string): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onHeadersReceived(cspHeaderListener(csp));
}

export function cspHeaderListener(csp: string): HeadersReceivedListener {
  return (details, callback) => {
    const responseHeaders: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      // Header names are case-insensitive: a server's own CSP under any spelling must not survive.
      if (name.toLowerCase() !== 'content-security-policy') responseHeaders[name] = value;
    }
    responseHeaders['Content-Security-Policy'] = [csp];
    callback({ responseHeaders });
  };
}

export interface WebContentsGuardOptions {
  renderer: RendererLocation;
  shell: DesktopElectron['shell'];
  logger: Logger;
}

/**
 * Applied to every web contents the app ever creates (app 'web-contents-created'), so no
 * window, popup or guest page escapes it: navigation stays on our page, new windows are refused,
 * <webview> is refused.
 */
export function hardenWebContents(contents: DesktopWebContents, options: WebContentsGuardOptions): void {
  const { renderer, logger } = options;
  const guard = (kind: string) => (event: { url: string; preventDefault(): void }) => {
    if (isAppUrl(renderer, event.url)) return;
    event.preventDefault();
    logger.warn('blocked a navigation away from the app', { kind, url: event.url });
  };
  contents.on('will-navigate', guard('will-navigate'));
  contents.on('will-frame-navigate', guard('will-frame-navigate'));
  contents.on('will-redirect', guard('will-redirect'));
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    logger.warn('blocked a <webview>');
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) {
      options.shell.openExternal(url).catch((error: unknown) => logger.warn('could not open a link', { url, error }));
    } else {
      logger.warn('blocked a window.open', { url });
    }
    return { action: 'deny' };
  });
}

/**
 * The only links handed to the OS: https, without credentials. `shell.openExternal` passes the
 * URL to whatever the OS registered for its scheme, and many of those run code or leak
 * credentials (file:, smb: and UNC paths, ms-msdt:, custom app protocols); plain http could be
 * rewritten on the way. An https page opens in the user's browser, under its protections.
 */
export function isSafeExternalUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && parsed.hostname !== '' && !parsed.username && !parsed.password;
  } catch {
    return false;
  }
}
