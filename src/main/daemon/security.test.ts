import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  allowedHostNames,
  cookieValue,
  hostNameOf,
  isLoopbackHost,
  isSameOrigin,
  loadOrCreateToken,
  presentedToken,
  tokensEqual,
} from './security';

describe('hostNameOf', () => {
  it.each([
    ['localhost:8000', 'localhost'],
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]:8000', '::1'],
    ['Example.COM:80', 'example.com'],
    ['', null],
    ['evil.example:8000/x', null],
    ['a b', null],
    ['[::1', null],
  ])('%j -> %j', (header, expected) => {
    expect(hostNameOf(header)).toBe(expected);
  });

  it('never throws and never returns a name with a port, slash or space', () => {
    fc.assert(
      fc.property(fc.string(), (header) => {
        const name = hostNameOf(header);
        if (name !== null) expect(name).not.toMatch(/[/\s@]/);
      }),
    );
  });
});

describe('allowedHostNames', () => {
  it('on loopback, allows only loopback names', () => {
    expect([...allowedHostNames('127.0.0.1')].sort()).toEqual(['127.0.0.1', '::1', 'localhost']);
  });
  it('adds the names given with --allow-host', () => {
    expect(allowedHostNames('127.0.0.1', ['Monitor.Internal']).has('monitor.internal')).toBe(true);
  });
  it('bound to all interfaces, allows the machine addresses but not the wildcard itself', () => {
    const names = allowedHostNames('0.0.0.0');
    expect(names.has('0.0.0.0')).toBe(false);
    expect(names.has('127.0.0.1')).toBe(true);
    expect(names.has('evil.example')).toBe(false);
  });
  it('knows what loopback is', () => {
    expect(isLoopbackHost('127.4.5.6')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('10.0.0.1')).toBe(false);
  });
});

describe('isSameOrigin', () => {
  it('accepts no Origin (non-browser clients) and exactly our own origin', () => {
    expect(isSameOrigin(undefined, 'localhost:8000')).toBe(true);
    expect(isSameOrigin('http://localhost:8000', 'localhost:8000')).toBe(true);
  });
  it.each(['http://evil.example', 'http://localhost:3000', 'null', 'https://localhost:8000', 'file://'])(
    'refuses %s',
    (origin) => {
      expect(isSameOrigin(origin, 'localhost:8000')).toBe(false);
    },
  );
});

describe('tokens', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tempFile = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tftmp-token-'));
    dirs.push(dir);
    return join(dir, 'daemon-token');
  };

  it('creates a 256-bit token in a 0600 file, then reuses it', () => {
    const path = tempFile();
    const first = loadOrCreateToken(path);
    expect(first.created).toBe(true);
    expect(first.token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const second = loadOrCreateToken(path);
    expect(second).toEqual({ token: first.token, created: false });
  });

  it('tightens a token file that others can read', () => {
    const path = tempFile();
    writeFileSync(path, 'a'.repeat(64), { mode: 0o644 });
    loadOrCreateToken(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a token file with a short token', () => {
    const path = tempFile();
    writeFileSync(path, 'short', { mode: 0o600 });
    expect(() => loadOrCreateToken(path)).toThrow(/fewer than 32/);
    expect(readFileSync(path, 'utf8')).toBe('short');
  });

  it('compares tokens exactly', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abd', 'abc')).toBe(false);
    expect(tokensEqual('abcd', 'abc')).toBe(false);
    expect(tokensEqual(undefined, 'abc')).toBe(false);
    expect(tokensEqual('', 'abc')).toBe(false);
  });

  it('reads the token from a Bearer header or the cookie', () => {
    expect(presentedToken({ authorization: 'Bearer xyz' })).toBe('xyz');
    expect(presentedToken({ authorization: 'Basic xyz' })).toBeUndefined();
    expect(presentedToken({ cookie: 'a=1; tftmp_token=xyz; b=2' })).toBe('xyz');
    expect(cookieValue('tftmp_token_x=1', 'tftmp_token')).toBeUndefined();
  });
});
