import { createHash } from 'node:crypto';
import { DATA_CONTRACT_VERSION, inferProfile, type Profile, type ProfileRule } from '@shared/contract';

/**
 * Stable server identity: the first 48 bits of SHA-256(name), as an integer. It depends on the
 * name alone, so it is the same in every run and every fleet, and adding a server never changes
 * another's id (unlike a sequential index). 48 bits fit a JS number and an SQLite INTEGER exactly;
 * two names colliding in a fleet of 100,000 has a probability under 2e-5, and is detected
 * (`ServerMapping.add` refuses it) rather than silently merged.
 */
export function serverId(name: string): number {
  const digest = createHash('sha256').update(name, 'utf8').digest();
  return digest.readUIntBE(0, 6);
}

/**
 * The model's view of identity: `buckets` hash buckets (0 is reserved for "unknown"), so an
 * unseen server maps to a bucket only through its profile until a model is trained with it.
 */
export function serverBucket(name: string, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 2) throw new Error(`buckets must be an integer >= 2, got ${buckets}`);
  return 1 + (serverId(name) % (buckets - 1));
}

export interface ServerMappingEntry {
  name: string;
  id: number;
  profile: Profile;
}

/** `server_mapping.json`, like the seed's: the fleet's names, ids and profiles, with the contract version. */
export interface ServerMappingFile {
  contractVersion: string;
  encoding: 'sha256-48';
  servers: ServerMappingEntry[];
}

export class ServerMapping {
  private readonly byName = new Map<string, ServerMappingEntry>();
  private readonly byId = new Map<number, string>();

  constructor(private readonly rules: readonly ProfileRule[] = []) {}

  add(name: string, profile?: Profile): ServerMappingEntry {
    const existing = this.byName.get(name);
    if (existing) return existing;
    const id = serverId(name);
    const clash = this.byId.get(id);
    if (clash !== undefined) throw new Error(`Server id collision: "${name}" and "${clash}" hash to ${id}`);
    const entry = { name, id, profile: profile ?? inferProfile(name, this.rules) };
    this.byName.set(name, entry);
    this.byId.set(id, name);
    return entry;
  }

  get(name: string): ServerMappingEntry | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  entries(): ServerMappingEntry[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  toJSON(): ServerMappingFile {
    return { contractVersion: DATA_CONTRACT_VERSION, encoding: 'sha256-48', servers: this.entries() };
  }
}
