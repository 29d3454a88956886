/**
 * The dashboard's views, in sidebar order. Hash routes (`#/heatmap`) because the desktop app
 * loads the page from file://, where the history API has no server to fall back on.
 */
export const ROUTES = [
  { id: 'overview', label: 'Fleet overview', group: 'monitor' },
  { id: 'heatmap', label: 'Heatmap', group: 'monitor' },
  { id: 'servers', label: 'Servers', group: 'monitor' },
  { id: 'trends', label: 'Trends', group: 'monitor' },
  { id: 'alerts', label: 'Alerts', group: 'monitor' },
  { id: 'demo', label: 'Demo', group: 'model' },
  { id: 'training', label: 'Training', group: 'model' },
  { id: 'models', label: 'Models', group: 'model' },
  { id: 'settings', label: 'Settings', group: 'app' },
] as const satisfies readonly { id: string; label: string; group: string }[];

export type RouteId = (typeof ROUTES)[number]['id'];
export type RouteGroup = (typeof ROUTES)[number]['group'];

export const DEFAULT_ROUTE: RouteId = 'overview';

export interface Route {
  id: RouteId;
  /** Path segments after the view: `#/servers/db-01` -> ['db-01'] (for later detail views). */
  params: string[];
}

const ROUTE_IDS = new Set<string>(ROUTES.map((r) => r.id));

export function isRouteId(value: string): value is RouteId {
  return ROUTE_IDS.has(value);
}

/**
 * `#/heatmap` -> heatmap; `#/servers/db-01?x=1` -> servers ['db-01']. Anything unknown,
 * empty or malformed is the overview: a stale bookmark must still open the app.
 */
export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '').split(/[?#]/, 1)[0] ?? '';
  const segments = path.split('/').filter((s) => s !== '');
  const [first, ...rest] = segments;
  const id = first?.toLowerCase();
  if (id === undefined || !isRouteId(id)) return { id: DEFAULT_ROUTE, params: [] };
  const params: string[] = [];
  for (const segment of rest) {
    try {
      params.push(decodeURIComponent(segment));
    } catch {
      // A malformed escape (`%E0%A4%A`): the view without that parameter beats an exception.
      return { id, params: [] };
    }
  }
  return { id, params };
}

export function hrefFor(id: RouteId, ...params: string[]): string {
  return `#/${[id, ...params.map(encodeURIComponent)].join('/')}`;
}
