import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAppUrl, preloadPath, resolveRenderer } from './renderer-location';

const mainDir = join('/opt', 'tft app', 'resources', 'app.asar', 'out', 'main');
const indexHtml = join(mainDir, '..', 'renderer', 'index.html');

describe('resolveRenderer', () => {
  it('uses the built index.html unless the dev server is announced', () => {
    expect(resolveRenderer({ mainDir, devServerUrl: undefined, isPackaged: false })).toEqual({
      kind: 'file',
      filePath: indexHtml,
      url: pathToFileURL(indexHtml).href,
    });
    expect(preloadPath(mainDir)).toBe(join(mainDir, '..', 'preload', 'index.js'));
  });

  it('uses the dev server only when unpackaged, and only over http(s)', () => {
    expect(resolveRenderer({ mainDir, devServerUrl: 'http://localhost:5173', isPackaged: false })).toEqual({
      kind: 'dev-server',
      url: 'http://localhost:5173/',
      origin: 'http://localhost:5173',
    });
    expect(resolveRenderer({ mainDir, devServerUrl: 'http://localhost:5173', isPackaged: true }).kind).toBe('file');
    for (const odd of ['file:///tmp/x.html', 'javascript:alert(1)', 'not a url', '']) {
      expect(resolveRenderer({ mainDir, devServerUrl: odd, isPackaged: false }).kind, odd).toBe('file');
    }
  });
});

describe('isAppUrl', () => {
  const file = resolveRenderer({ mainDir, devServerUrl: undefined, isPackaged: false });
  const dev = resolveRenderer({ mainDir, devServerUrl: 'http://localhost:5173', isPackaged: false });

  it('accepts exactly our index.html, with or without a hash route', () => {
    expect(isAppUrl(file, file.url)).toBe(true);
    expect(isAppUrl(file, `${file.url}#/servers/web-01`)).toBe(true);
    for (const other of [
      `${file.url}?x=1`,
      pathToFileURL(join(mainDir, '..', 'renderer', 'other.html')).href,
      pathToFileURL(join(mainDir, '..', 'renderer', 'index.html.evil')).href,
      'file:///etc/passwd',
      'https://example.com/index.html',
      'about:blank',
      '',
      'garbage',
    ]) {
      expect(isAppUrl(file, other), other).toBe(false);
    }
  });

  it('accepts any path on the dev server origin and nothing else', () => {
    expect(isAppUrl(dev, 'http://localhost:5173/')).toBe(true);
    expect(isAppUrl(dev, 'http://localhost:5173/src/main.tsx?t=1')).toBe(true);
    for (const other of [
      'http://localhost:5174/',
      'https://localhost:5173/',
      'http://127.0.0.1:5173/',
      'http://localhost:5173.evil.example/',
      file.url,
      'data:text/html,x',
      'about:blank',
    ]) {
      expect(isAppUrl(dev, other), other).toBe(false);
    }
  });
});
