import { ApiError, type ApiClient, type EventName, type Input, type Method, type Output } from '@shared/contract';

/** Event-driven refetches of one query happen at most this often unless told otherwise. */
export const DEFAULT_THROTTLE_MS = 1000;

export interface QuerySnapshot<T> {
  /** The newest successful answer; kept while a refetch runs or after one fails. */
  readonly data: T | undefined;
  /** The error of the newest settled attempt; null once a newer one succeeds. */
  readonly error: ApiError | null;
  /** True while at least one call is in flight. */
  readonly loading: boolean;
  /** When `data` arrived (ms since epoch). */
  readonly updatedAt: number | null;
}

export interface QueryRunnerOptions<T> {
  /** One call to the core: the question this runner keeps answered. */
  fetch: () => Promise<T>;
  /** Every change of the snapshot, with a new object. */
  onChange: (snapshot: QuerySnapshot<T>) => void;
  /** Minimum time between the starts of event-driven calls (ms). Default DEFAULT_THROTTLE_MS. */
  throttleMs?: number;
  now?: () => number;
}

/**
 * Keeps one query answered without piling calls onto a busy core.
 *
 * - `refetch()` (first load, the Retry button, a link that came back) calls at once.
 * - `invalidate()` (an event said the data changed) is throttled, leading and trailing: at most
 *   one event-driven call per `throttleMs`, the first of a burst at once and one more after the
 *   burst, so the newest change is always fetched. The window counts from event-driven calls
 *   only: if the first load opened one, an event stream with the throttle's own period (the
 *   simulator at --speed 300) would lock into fetching late by a constant offset.
 * - A running call is never abandoned: an event during it only marks the data stale, and the
 *   next call starts when it settles. However slow the core and however steady the events,
 *   every answer is delivered.
 * - Answers are numbered; one that arrives after a newer one (possible only when `refetch()`
 *   overlapped a running call) is dropped, as it would roll the data back.
 */
export class QueryRunner<T> {
  private readonly throttleMs: number;
  private readonly now: () => number;
  private snapshot: QuerySnapshot<T> = { data: undefined, error: null, loading: false, updatedAt: null };
  private inFlight = 0;
  private started = 0;
  private newestSettled = 0;
  /** When the last event-driven call started: the throttle window counts from it. */
  private lastEventStartAt = -Infinity;
  private stale = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(private readonly options: QueryRunnerOptions<T>) {
    this.throttleMs = Math.max(0, options.throttleMs ?? DEFAULT_THROTTLE_MS);
    this.now = options.now ?? Date.now;
  }

  getSnapshot(): QuerySnapshot<T> {
    return this.snapshot;
  }

  /** Ask now, even if a call is running (its answer still counts if it is the newest to arrive). */
  refetch(): void {
    if (this.disposed) return;
    this.stale = false;
    this.clearTimer();
    this.start();
  }

  /** The data changed: ask again, at most once per `throttleMs` and never two event calls at once. */
  invalidate(): void {
    if (this.disposed) return;
    this.stale = true;
    this.pump();
  }

  /** Stops timers and ignores every answer still on its way. */
  dispose(): void {
    this.disposed = true;
    this.clearTimer();
  }

  private pump(): void {
    if (!this.stale || this.inFlight > 0 || this.timer !== undefined) return;
    const wait = this.lastEventStartAt + this.throttleMs - this.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      return;
    }
    this.stale = false;
    this.lastEventStartAt = this.now();
    this.start();
  }

  private start(): void {
    const id = ++this.started;
    this.inFlight += 1;
    if (!this.snapshot.loading) this.emit({ ...this.snapshot, loading: true });
    let promise: Promise<T>;
    try {
      promise = this.options.fetch();
    } catch (error) {
      promise = Promise.reject(toApiError(error));
    }
    promise.then(
      (data) => this.settle(id, (s) => ({ ...s, data, error: null, updatedAt: this.now() })),
      (error: unknown) => this.settle(id, (s) => ({ ...s, error: toApiError(error) })),
    );
  }

  private settle(id: number, apply: (s: QuerySnapshot<T>) => QuerySnapshot<T>): void {
    if (this.disposed) return;
    this.inFlight -= 1;
    const loading = this.inFlight > 0;
    if (id > this.newestSettled) {
      this.newestSettled = id;
      this.emit({ ...apply(this.snapshot), loading });
    } else if (loading !== this.snapshot.loading) {
      this.emit({ ...this.snapshot, loading });
    }
    this.pump();
  }

  private emit(next: QuerySnapshot<T>): void {
    this.snapshot = next;
    this.options.onChange(next);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export function toApiError(error: unknown): ApiError {
  return error instanceof ApiError
    ? error
    : new ApiError('internal', error instanceof Error ? error.message : String(error));
}

export interface WatchOptions {
  /** Events after which the answer may have changed: each one invalidates (throttled). */
  refetchOn?: readonly EventName[];
  throttleMs?: number;
}

/**
 * One query kept answered over a client: asks at once, again (throttled) after each
 * `refetchOn` event, and at once when the link comes back after a drop (the daemon may have
 * restarted with other figures). What `useQuery` runs inside its effect.
 */
export function watchQuery<M extends Method>(
  client: ApiClient,
  method: M,
  input: Input<M>,
  onChange: (snapshot: QuerySnapshot<Output<M>>) => void,
  options: WatchOptions = {},
): { runner: QueryRunner<Output<M>>; dispose: () => void } {
  const runner = new QueryRunner<Output<M>>({
    fetch: () => client.call(method, input),
    onChange,
    throttleMs: options.throttleMs,
  });
  const offEvents = (options.refetchOn ?? []).map((name) => client.on(name, () => runner.invalidate()));
  let wasOpen: boolean | null = null;
  const offConnection = client.onConnectionChange((state) => {
    const open = state === 'open';
    if (open && wasOpen === false) runner.refetch();
    wasOpen = open;
  });
  runner.refetch();
  return {
    runner,
    dispose: () => {
      runner.dispose();
      offEvents.forEach((off) => off());
      offConnection();
    },
  };
}
