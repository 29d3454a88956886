import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { networkInterfaces, hostname as osHostname } from 'node:os';
import { writeFileAtomic } from '../core/util/atomic-write';

/** Names that always mean "this machine, over loopback". */
export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'] as const;

export function isLoopbackHost(host: string): boolean {
  const h = stripBrackets(host.toLowerCase());
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * The Host names the daemon answers to. A request naming anything else is refused (403):
 * that stops DNS rebinding, where a hostile page makes its own domain resolve to 127.0.0.1.
 */
export function allowedHostNames(bindHost: string, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>(LOOPBACK_NAMES);
  const bind = stripBrackets(bindHost.toLowerCase());
  if (bind !== '0.0.0.0' && bind !== '::') names.add(bind);
  if (!isLoopbackHost(bind)) {
    // Bound beyond loopback: the machine's own name and addresses are legitimate Hosts.
    names.add(osHostname().toLowerCase());
    for (const addresses of Object.values(networkInterfaces())) {
      for (const a of addresses ?? []) names.add(a.address.toLowerCase());
    }
  }
  for (const name of extra) names.add(stripBrackets(name.toLowerCase()));
  return names;
}

/** `example.com:8000` -> `example.com`; `[::1]:8000` -> `::1`. Returns null for a malformed header. */
export function hostNameOf(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  const value = hostHeader.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed) return bracketed[1] ?? null;
  const plain = /^([a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(value);
  return plain ? (plain[1] ?? null) : null;
}

/**
 * A browser's Origin must be this very server (same scheme, host and port as the request's
 * Host). Absent Origin means a non-browser client (curl, Prometheus), which the Host check
 * and the token already cover.
 */
export function isSameOrigin(origin: string | undefined, hostHeader: string | undefined, scheme = 'http'): boolean {
  if (origin === undefined) return true;
  if (!hostHeader) return false;
  return origin.toLowerCase() === `${scheme}://${hostHeader.trim().toLowerCase()}`;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** 256 bits, hex: comfortably past the 128 bits we promise. */
export function generateToken(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Reads the token file, or creates it (mode 0600) with a fresh token. A file readable by
 * group or others is tightened to 0600 rather than trusted as it is.
 */
export function loadOrCreateToken(path: string): { token: string; created: boolean } {
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length < 32) throw new Error(`Token file ${path} holds fewer than 32 characters; delete it to generate a new one`);
    if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return { token, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = generateToken();
  writeFileAtomic(path, `${token}\n`, 0o600);
  return { token, created: true };
}

/**
 * Constant-time comparison. Both sides are hashed first so the comparison takes the same time
 * whatever the lengths (timingSafeEqual itself requires equal lengths).
 */
export function tokensEqual(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export const TOKEN_COOKIE = 'tftmp_token';

/** The token a request presents: `Authorization: Bearer …` or the dashboard's cookie. */
export function presentedToken(headers: { authorization?: string; cookie?: string }): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match?.[1];
  }
  return cookieValue(headers.cookie, TOKEN_COOKIE);
}

export function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
