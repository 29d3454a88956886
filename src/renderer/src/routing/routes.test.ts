import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTE, hrefFor, parseHash, ROUTES } from './routes';

describe('parseHash', () => {
  it('finds every view by its hash', () => {
    for (const route of ROUTES) {
      expect(parseHash(`#/${route.id}`)).toEqual({ id: route.id, params: [] });
      expect(parseHash(hrefFor(route.id))).toEqual({ id: route.id, params: [] });
    }
  });

  it('falls back to the overview for empty, unknown and odd hashes', () => {
    for (const hash of ['', '#', '#/', '#/nope', '#/__proto__', '#/constructor', '#//', 'garbage', '#/overview2']) {
      expect(parseHash(hash)).toEqual({ id: DEFAULT_ROUTE, params: [] });
    }
    expect(DEFAULT_ROUTE).toBe('overview');
  });

  it('tolerates a missing slash, trailing slashes, case, and a query', () => {
    expect(parseHash('#heatmap').id).toBe('heatmap');
    expect(parseHash('#/alerts/').id).toBe('alerts');
    expect(parseHash('#/Settings').id).toBe('settings');
    expect(parseHash('#/trends?range=7d').id).toBe('trends');
  });

  it('keeps the segments after the view as decoded parameters', () => {
    expect(parseHash('#/servers/db-01')).toEqual({ id: 'servers', params: ['db-01'] });
    expect(parseHash('#/servers/web%2F02/forecast')).toEqual({ id: 'servers', params: ['web/02', 'forecast'] });
    expect(parseHash(hrefFor('servers', 'a b/c'))).toEqual({ id: 'servers', params: ['a b/c'] });
  });

  it('drops parameters with malformed escapes instead of throwing', () => {
    expect(parseHash('#/servers/%E0%A4%A')).toEqual({ id: 'servers', params: [] });
  });
});
