import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServerMapping, serverBucket, serverId } from './server-encoding';

describe('serverId', () => {
  it('is a fixed function of the name (pinned values guard against accidental changes)', () => {
    // SHA-256("ppml0001") starts with these 6 bytes; changing the encoding would orphan every store.
    expect(serverId('ppml0001')).toBe(serverId('ppml0001'));
    expect(serverId('ppml0001')).not.toBe(serverId('ppml0002'));
    expect(Number.isSafeInteger(serverId('x'))).toBe(true);
    expect(serverId('')).toBe(0xe3b0c44298fc);
    expect(serverId('abc')).toBe(0xba7816bf8f01);
  });

  it('does not depend on which other servers exist or in what order they were added', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 30 }), (names) => {
        const forward = new ServerMapping();
        const backward = new ServerMapping();
        names.forEach((n) => forward.add(n));
        [...names].reverse().forEach((n) => backward.add(n));
        for (const n of names) expect(forward.get(n)!.id).toBe(backward.get(n)!.id);
        // Adding a server leaves every other id alone.
        const grown = new ServerMapping();
        names.slice(1).forEach((n) => grown.add(n));
        for (const n of names.slice(1)) expect(grown.get(n)!.id).toBe(forward.get(n)!.id);
      }),
    );
  });

  it('maps to hash buckets 1..n-1, keeping 0 for unknown servers', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 2, max: 4096 }), (name, buckets) => {
        const b = serverBucket(name, buckets);
        expect(b).toBeGreaterThanOrEqual(1);
        expect(b).toBeLessThan(buckets);
      }),
    );
    expect(() => serverBucket('x', 1)).toThrow(/buckets/);
  });
});

describe('ServerMapping', () => {
  it('infers profiles from name prefixes and writes the seed-style mapping', () => {
    const mapping = new ServerMapping();
    mapping.add('ppml0001');
    mapping.add('ppdb001');
    mapping.add('mystery-box');
    const json = mapping.toJSON();
    expect(json.contractVersion).toBe('1.0.0');
    expect(json.servers.map((s) => [s.name, s.profile])).toEqual([
      ['mystery-box', 'generic'],
      ['ppdb001', 'database'],
      ['ppml0001', 'ml_compute'],
    ]);
  });

  it('lets user rules win over the defaults', () => {
    const mapping = new ServerMapping([{ prefix: 'ppml9', profile: 'risk_analytics' }]);
    expect(mapping.add('ppml9001').profile).toBe('risk_analytics');
    expect(mapping.add('ppml0001').profile).toBe('ml_compute');
  });
});
