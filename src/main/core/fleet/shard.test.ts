import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SERVER_NAME_PATTERN } from '@shared/contract';
import { defaultFleet } from '../metrics/simulator/fleet-sim';
import { fnv1a32, inShard, parseShard, shardOf, ShardSpecError } from './shard';

const serverName = fc.stringMatching(SERVER_NAME_PATTERN);

describe('shards', () => {
  it('FNV-1a matches the published test vectors, so other tools can compute the same shard', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('puts every server in exactly one of the N shards (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(serverName, { maxLength: 200 }), fc.integer({ min: 1, max: 64 }), (names, count) => {
        const taken = new Map<string, number>();
        for (let index = 1; index <= count; index++) {
          for (const name of names.filter((n) => inShard(n, { index, count }))) {
            expect(taken.has(name)).toBe(false);
            taken.set(name, index);
          }
        }
        // Union = the fleet; and each server sits where shardOf says.
        expect([...taken.keys()].sort()).toEqual([...names].sort());
        for (const [name, index] of taken) expect(shardOf(name, count)).toBe(index);
      }),
      { numRuns: 300 },
    );
  });

  it('splits a 1,000-server fleet into 5 near-equal parts that partition it exactly', () => {
    const names = defaultFleet(1_000).map((s) => s.name);
    const parts = [1, 2, 3, 4, 5].map((index) => names.filter((n) => inShard(n, { index, count: 5 })));
    expect(parts.reduce((n, p) => n + p.length, 0)).toBe(1_000);
    expect(new Set(parts.flat()).size).toBe(1_000);
    for (const part of parts) {
      expect(part.length).toBeGreaterThan(150);
      expect(part.length).toBeLessThan(250);
    }
  });

  it('is stable: pinned shards, so a release that changed the hash (and reshuffled every fleet) would fail here', () => {
    const pinned = ['ppweb001', 'ppdb003', 'ppml0007', 'Ümlaut-01'].map((n) => [n, shardOf(n, 5), shardOf(n, 16)]);
    expect(pinned).toEqual([
      ['ppweb001', 3, 1],
      ['ppdb003', 3, 1],
      ['ppml0007', 4, 2],
      ['Ümlaut-01', 4, 10],
    ]);
    expect(inShard('anything', null)).toBe(true);
    expect(inShard('anything', { index: 1, count: 1 })).toBe(true);
  });

  it('parses K/N and refuses anything else, saying what is expected', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
    expect(() => parseShard('0/5')).toThrow(/K must be from 1 to N \(5\), got 0/);
    expect(() => parseShard('6/5')).toThrow(/K must be from 1 to N \(5\), got 6/);
    expect(() => parseShard('1/0')).toThrow(/N must be from 1 to 1024, got 0/);
    expect(() => parseShard('2')).toThrow(ShardSpecError);
    expect(() => parseShard('a/b')).toThrow(/must look like K\/N/);
  });
});
