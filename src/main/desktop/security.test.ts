import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '@shared/contract';
import { contentSecurityPolicy, cspHeaderListener, isSafeExternalUrl } from './security';
import { FakeSession, FakeWebContents, FakeEvent } from './testing/fake-electron';
import { settle, startTestDesktop, type TestDesktop } from './testing/test-desktop';

let desktop: TestDesktop | undefined;
afterEach(async () => {
  await desktop?.stop();
  desktop = undefined;
});

/** Starts the app and makes it open more windows (second instance, macOS reopen) than the usual one. */
async function startWithSeveralWindows(): Promise<TestDesktop> {
  const d = await startTestDesktop({ platform: 'darwin' });
  d.fake.windows[0]!.close();
  d.fake.app.emit('activate', new FakeEvent(), false);
  d.fake.windows[1]!.close();
  d.fake.app.emit('second-instance', new FakeEvent(), [], '', {});
  await settle();
  return d;
}

describe('every BrowserWindow', () => {
  it('is created with the security options of the Electron checklist', async () => {
    desktop = await startWithSeveralWindows();
    const { fake, mainDir } = desktop;
    expect(fake.windows.length).toBe(3);
    for (const window of fake.windows) {
      const prefs = window.options.webPreferences;
      expect(prefs).toBeDefined();
      expect(prefs).toMatchObject({
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        preload: join(mainDir, '..', 'preload', 'index.js'),
      });
      // Nothing that would weaken the above may sneak in through other keys.
      expect(prefs).not.toHaveProperty('experimentalFeatures', true);
      expect(prefs).not.toHaveProperty('enableBlinkFeatures');
    }
    expect(fake.app.sandboxEnabled).toBe(true);
  });

  it('starts hidden on the dark background and shows once painted', async () => {
    desktop = await startTestDesktop();
    const [window] = desktop.fake.windows;
    expect(window!.options).toMatchObject({
      show: false,
      backgroundColor: '#0f1419',
      title: 'TFT Monitoring Prediction',
    });
    expect(window!.options.minWidth).toBeGreaterThan(0);
    expect(window!.options.minHeight).toBeGreaterThan(0);
    expect(window!.shown).toBe(true);
  });
});

describe('permissions', () => {
  const permissions = [
    'media',
    'geolocation',
    'notifications',
    'clipboard-read',
    'midiSysex',
    'openExternal',
    'fullscreen',
    'unknown',
  ];

  it('refuses every permission request and check on the default session', async () => {
    desktop = await startTestDesktop();
    const session = desktop.fake.defaultSession;
    expect(session.permissionRequestHandler).toBeTypeOf('function');
    expect(session.permissionCheckHandler).toBeTypeOf('function');
    for (const permission of permissions) {
      await expect(session.requestPermission(permission, desktop.fake.webContents[0])).resolves.toBe(false);
      expect(session.permissionCheckHandler!(desktop.fake.webContents[0], permission)).toBe(false);
    }
  });

  it('locks down any other session a web contents turns up with', async () => {
    desktop = await startTestDesktop();
    const other = new FakeSession();
    desktop.fake.app.emit('web-contents-created', new FakeEvent(), new FakeWebContents(other));
    for (const permission of permissions) await expect(other.requestPermission(permission)).resolves.toBe(false);
    expect(other.permissionCheckHandler!(null, 'media')).toBe(false);
    expect(other.headersReceivedListener).toBeTypeOf('function');
  });
});

describe('navigation, new windows and webviews', () => {
  /** Every web contents the fake saw: the windows' and one the app never asked for. */
  async function allContents(d: TestDesktop): Promise<FakeWebContents[]> {
    const stray = new FakeWebContents(new FakeSession());
    d.fake.app.emit('web-contents-created', new FakeEvent(), stray);
    await settle();
    return d.fake.webContents.concat(stray);
  }

  it('keeps every web contents on our page', async () => {
    desktop = await startTestDesktop();
    const stray = new FakeWebContents(new FakeSession());
    desktop.fake.app.emit('web-contents-created', new FakeEvent(), stray);
    const own = desktop.runtime.renderer.url;
    for (const contents of [...desktop.fake.webContents, stray]) {
      for (const kind of ['will-navigate', 'will-frame-navigate', 'will-redirect'] as const) {
        for (const foreign of [
          'https://evil.example/',
          'http://localhost:5173/',
          'file:///etc/passwd',
          `${own}.evil`,
          'javascript:alert(1)',
          'data:text/html,hi',
        ]) {
          expect(contents.navigate(kind, foreign).defaultPrevented, `${kind} ${foreign}`).toBe(true);
        }
        expect(contents.navigate(kind, own).defaultPrevented, `${kind} own`).toBe(false);
        expect(contents.navigate(kind, `${own}#/alerts`).defaultPrevented, `${kind} own#hash`).toBe(false);
      }
    }
  });

  it('denies every window.open and hands only https links to the browser', async () => {
    desktop = await startTestDesktop();
    const contents = await allContents(desktop);
    for (const c of contents) {
      for (const url of [
        'https://docs.example/page',
        'http://example.com/',
        'file:///C:/Windows/System32/calc.exe',
        'smb://host/share',
        'ms-msdt:foo',
        'javascript:alert(1)',
        desktop.runtime.renderer.url,
      ]) {
        expect(c.openWindow(url), url).toEqual({ action: 'deny' });
      }
    }
    expect(new Set(desktop.fake.openedExternally)).toEqual(new Set(['https://docs.example/page']));
  });

  it('refuses <webview> in every web contents', async () => {
    desktop = await startTestDesktop();
    for (const c of await allContents(desktop)) expect(c.attachWebview().defaultPrevented).toBe(true);
  });
});

describe('isSafeExternalUrl', () => {
  it.each([
    ['https://example.com/a?b#c', true],
    ['HTTPS://EXAMPLE.COM/', true],
    ['http://example.com/', false],
    ['https://user:pass@example.com/', false],
    ['file:///etc/passwd', false],
    ['\\\\server\\share', false],
    ['smb://server/share', false],
    ['javascript:alert(1)', false],
    ['ms-msdt:/id', false],
    ['not a url', false],
    ['', false],
  ])('%s -> %s', (url, safe) => {
    expect(isSafeExternalUrl(url)).toBe(safe);
  });
});

describe('content security policy', () => {
  it('is the dashboard policy in production', () => {
    const csp = contentSecurityPolicy({
      kind: 'file',
      filePath: '/app/out/renderer/index.html',
      url: 'file:///app/out/renderer/index.html',
    });
    expect(csp).toBe(CONTENT_SECURITY_POLICY);
    // The policy as the daemon sent it before it moved to the shared contract, byte for byte.
    expect(csp).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it('allows the dev server HMR socket and the React Refresh preamble only in development', () => {
    const csp = contentSecurityPolicy({
      kind: 'dev-server',
      url: 'http://localhost:5173/',
      origin: 'http://localhost:5173',
    });
    expect(csp).toContain("connect-src 'self' ws://localhost:5173");
    expect(csp).toContain("script-src 'self' 'unsafe-inline'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("object-src 'none'");
  });

  it('replaces any CSP a response carries, whatever its header spelling', () => {
    const listener = cspHeaderListener(CONTENT_SECURITY_POLICY);
    let result: { responseHeaders?: Record<string, string | string[]> } | undefined;
    listener(
      {
        url: 'http://localhost:5173/',
        responseHeaders: {
          'content-security-policy': ['default-src *'],
          'CONTENT-Security-Policy': ['x'],
          'Content-Type': ['text/html'],
        },
      },
      (response) => (result = response),
    );
    expect(result?.responseHeaders).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    });
  });

  it('is installed on the default session, in dev with the relaxations', async () => {
    desktop = await startTestDesktop({ env: { ELECTRON_RENDERER_URL: 'http://localhost:5173' } });
    let headers: Record<string, string | string[]> | undefined;
    desktop.fake.defaultSession.headersReceivedListener!(
      { url: 'http://localhost:5173/', responseHeaders: {} },
      (r) => (headers = r.responseHeaders),
    );
    expect(headers?.['Content-Security-Policy']?.[0]).toContain('ws://localhost:5173');
  });

  it('is installed without relaxations in production', async () => {
    desktop = await startTestDesktop();
    let headers: Record<string, string | string[]> | undefined;
    desktop.fake.defaultSession.headersReceivedListener!(
      { url: 'file:///x', responseHeaders: {} },
      (r) => (headers = r.responseHeaders),
    );
    expect(headers?.['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
  });
});
