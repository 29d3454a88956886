/**
 * The Content-Security-Policy of the dashboard, wherever it runs: the daemon sends it on every
 * response and the Electron window adds it to every response of its session. One definition,
 * so the browser dashboard and the desktop window can never drift apart.
 */
export type CspDirectives = Readonly<Record<string, readonly string[]>>;

/** The strictest policy the dashboard runs under. Inline styles stay allowed: ECharts sets them. */
export const CSP_DIRECTIVES = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
} as const satisfies CspDirectives;

export function serializeCsp(directives: CspDirectives): string {
  return Object.entries(directives)
    .map(([name, sources]) => [name, ...sources].join(' '))
    .join('; ');
}

export const CONTENT_SECURITY_POLICY = serializeCsp(CSP_DIRECTIVES);
