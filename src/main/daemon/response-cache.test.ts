import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EventBus, type EventPayload } from '@shared/contract';
import { GZIP_MIN_BYTES, ResponseCache } from './response-cache';

const updated: EventPayload<'predictions.updated'> = {
  model: { name: 'tft', version: '1' },
  time: '2026-03-03T09:00:00.000Z',
  predictedAt: '2026-03-03T09:00:01.000Z',
  servers: 1,
  skipped: 0,
  atRisk: 0,
  durationMs: 1,
};

function counter() {
  let n = 0;
  const compute = (): Promise<unknown> => Promise.resolve({ answer: ++n });
  return { compute, calls: () => n };
}

describe('ResponseCache', () => {
  it('knows the cacheable methods from the contract', () => {
    expect(ResponseCache.cacheable('predictions.current')).toBe(true);
    expect(ResponseCache.cacheable('predictions.server')).toBe(true);
    expect(ResponseCache.cacheable('alerts.active')).toBe(false);
    expect(ResponseCache.cacheable('settings.update')).toBe(false);
  });

  it('computes once for concurrent and later requests, until the event fires', async () => {
    const events = new EventBus();
    const cache = new ResponseCache(events);
    const { compute, calls } = counter();
    const answers = await Promise.all([1, 2, 3].map(() => cache.serve('predictions.current', {}, compute)));
    expect(answers).toEqual(['{"answer":1}', '{"answer":1}', '{"answer":1}']);
    expect(await cache.serve('predictions.current', {}, compute)).toBe('{"answer":1}');
    expect(calls()).toBe(1);
    // Another event, another method's event: no effect.
    events.emit('alerts.changed', { time: updated.time, opened: 1, updated: 0, resolved: 0, acknowledged: 0, active: { warning: 1, critical: 0 } });
    expect(await cache.serve('predictions.current', {}, compute)).toBe('{"answer":1}');
    events.emit('predictions.updated', updated);
    expect(await cache.serve('predictions.current', {}, compute)).toBe('{"answer":2}');
    expect(cache.hits).toBe(4);
    expect(cache.misses).toBe(2);
    cache.close();
  });

  it('keys by input: each server its own answer', async () => {
    const cache = new ResponseCache(new EventBus());
    const a = await cache.serve('predictions.server', { server: 'a' }, () => Promise.resolve('A'));
    const b = await cache.serve('predictions.server', { server: 'b' }, () => Promise.resolve('B'));
    expect([a, b]).toEqual(['"A"', '"B"']);
    expect(await cache.serve('predictions.server', { server: 'a' }, () => Promise.resolve('other'))).toBe('"A"');
  });

  it('does not keep an answer computed while its event fired, nor a failure', async () => {
    const events = new EventBus();
    const cache = new ResponseCache(events);
    let release!: () => void;
    const slow = cache.serve('predictions.current', {}, () => new Promise((r) => (release = () => r('old'))));
    events.emit('predictions.updated', updated);
    release();
    expect(await slow).toBe('"old"');
    expect(await cache.serve('predictions.current', {}, () => Promise.resolve('new'))).toBe('"new"');

    await expect(cache.serve('predictions.server', { server: 'x' }, () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await cache.serve('predictions.server', { server: 'x' }, () => Promise.resolve('ok'))).toBe('"ok"');
  });

  it('gzips large answers once for the clients that accept it, and sends small ones as they are', async () => {
    const cache = new ResponseCache(new EventBus());
    const big = { servers: Array.from({ length: 400 }, (_, i) => ({ server: `ppweb${i}`, risk: i / 400 })) };
    let computed = 0;
    const compute = (): Promise<unknown> => Promise.resolve((computed++, big));
    const zipped = await cache.answer('predictions.current', {}, true, compute);
    expect(zipped.encoding).toBe('gzip');
    expect(gunzipSync(zipped.body as Buffer).toString()).toBe(JSON.stringify(big));
    expect((zipped.body as Buffer).length).toBeLessThan(JSON.stringify(big).length / 3);
    // The same bytes, not compressed again; the plain answer from the same computation.
    expect((await cache.answer('predictions.current', {}, true, compute)).body).toBe(zipped.body);
    expect(await cache.answer('predictions.current', {}, false, compute)).toEqual({ body: JSON.stringify(big), encoding: null });
    expect(computed).toBe(1);
    const small = await cache.answer('predictions.server', { server: 'a' }, true, () => Promise.resolve(({ risk: 0.1 })));
    expect(small).toEqual({ body: '{"risk":0.1}', encoding: null });
    expect(JSON.stringify(big).length).toBeGreaterThan(GZIP_MIN_BYTES);
  });
});
