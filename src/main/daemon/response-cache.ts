import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { api, type EventBus, type EventName, type Method } from '@shared/contract';

const gzip = promisify(gzipCallback);

/** Most entries kept (a method with a server parameter has one per server asked about). */
export const RESPONSE_CACHE_ENTRIES = 2_048;

interface Entry {
  /** The serialised answer, shared by every request that asks the same question. */
  body: Promise<string>;
  /** The same, gzipped (on zlib's thread pool), made on the first request that accepts it. */
  gzipped?: Promise<Buffer>;
}

/** Bodies smaller than this are sent as they are: gzip's header and CPU cost more than they save. */
export const GZIP_MIN_BYTES = 8 * 1024;

export interface CachedAnswer {
  body: string | Buffer;
  /** 'gzip' when `body` is the gzipped answer. */
  encoding: 'gzip' | null;
}

/**
 * The serialised answers of the contract's `cacheUntil` methods, kept until one of the events
 * they name fires: `predictions.current` for 1,000 servers is 2 MB of JSON, identical for every
 * client until the next prediction cycle, and serialising it per request is what capped
 * /predictions/current at ~11 requests/s (bench:api). One computation per question
 * (single-flight): concurrent requests wait for the same answer. A failed computation is not kept.
 * An answer computed while its event fired is served to its own callers but not kept, so no
 * cycle's answer outlives the next cycle.
 */
export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly generations = new Map<Method, number>();
  private readonly byEvent = new Map<EventName, Method[]>();
  private readonly unsubscribe: () => void;
  hits = 0;
  misses = 0;

  constructor(events: EventBus) {
    for (const [method, spec] of Object.entries(api) as [Method, { cacheUntil?: readonly EventName[] }][]) {
      for (const event of spec.cacheUntil ?? []) {
        const list = this.byEvent.get(event) ?? [];
        list.push(method);
        this.byEvent.set(event, list);
      }
    }
    this.unsubscribe = events.onAny((message) => {
      for (const method of this.byEvent.get(message.name) ?? []) this.invalidate(method);
    });
  }

  static cacheable(method: Method): boolean {
    return ((api[method] as { cacheUntil?: readonly EventName[] }).cacheUntil?.length ?? 0) > 0;
  }

  /**
   * The answer for a client: gzipped when it accepts gzip and the answer is large (2 MB of
   * predictions for 1,000 servers is ~0.5 MB gzipped, compressed once per cycle).
   */
  async answer(method: Method, input: unknown, acceptsGzip: boolean, compute: () => Promise<unknown>): Promise<CachedAnswer> {
    const key = this.keyOf(method, input);
    const body = await this.serve(method, input, compute);
    if (!acceptsGzip || body.length < GZIP_MIN_BYTES) return { body, encoding: null };
    const entry = this.entries.get(key);
    if (!entry) return { body: await gzip(body, { level: 6 }), encoding: 'gzip' };
    entry.gzipped ??= gzip(body, { level: 6 });
    return { body: await entry.gzipped, encoding: 'gzip' };
  }

  /** The cached answer to (method, input), or `compute`'s, serialised. */
  serve(method: Method, input: unknown, compute: () => Promise<unknown>): Promise<string> {
    const key = this.keyOf(method, input);
    const found = this.entries.get(key);
    if (found) {
      this.hits++;
      return found.body;
    }
    this.misses++;
    const generation = this.generations.get(method) ?? 0;
    const body = compute().then((output) => JSON.stringify(output));
    const entry: Entry = { body };
    if (this.entries.size >= RESPONSE_CACHE_ENTRIES) this.entries.clear();
    this.entries.set(key, entry);
    body.then(
      () => {
        // The event fired while this was computed: the answer may predate it.
        if ((this.generations.get(method) ?? 0) !== generation && this.entries.get(key) === entry) this.entries.delete(key);
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return body;
  }

  private keyOf(method: Method, input: unknown): string {
    return `${method}\n${JSON.stringify(input ?? {})}`;
  }

  invalidate(method: Method): void {
    this.generations.set(method, (this.generations.get(method) ?? 0) + 1);
    const prefix = `${method}\n`;
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  close(): void {
    this.unsubscribe();
    this.entries.clear();
  }
}
