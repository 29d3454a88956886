/**
 * Splitting a fleet between several daemons (`serve --shard K/N`): each takes the servers whose
 * stable hash falls in its shard, predicts them and exposes them on its own /metrics, and a
 * Prometheus-compatible store (federation, Thanos, Mimir) puts the shards back together. The hash
 * is FNV-1a (32 bits) of the server name's UTF-8 bytes, modulo N: stable across processes,
 * machines, versions and fleet sizes, and simple for any other tool to reproduce:
 *
 *   shard(name) = 1 + (fnv1a32(utf8(name)) mod N)
 *
 * A server never moves between shards while N stays the same; changing N moves about (N-1)/N of
 * them (see docs/scale-out.md for how to reshard).
 */
export interface Shard {
  /** 1-based: shard K of N. */
  index: number;
  count: number;
}

export const MAX_SHARDS = 1024;

export class ShardSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardSpecError';
  }
}

/** "2/5" -> { index: 2, count: 5 }; anything else throws a ShardSpecError saying what is expected. */
export function parseShard(spec: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!match) throw new ShardSpecError(`--shard must look like K/N (shard K of N, e.g. 2/5), got "${spec}"`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || count > MAX_SHARDS)
    throw new ShardSpecError(`--shard K/N: N must be from 1 to ${MAX_SHARDS}, got ${count}`);
  if (index < 1 || index > count)
    throw new ShardSpecError(`--shard K/N: K must be from 1 to N (${count}), got ${index}`);
  return { index, count };
}

const encoder = new TextEncoder();

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The 1-based shard (of `count`) that a server belongs to. */
export function shardOf(server: string, count: number): number {
  return 1 + (fnv1a32(server) % count);
}

export function inShard(server: string, shard: Shard | null | undefined): boolean {
  return !shard || shard.count === 1 || shardOf(server, shard.count) === shard.index;
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}
