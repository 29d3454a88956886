import type { EventListener, EventMessage, EventName } from '@shared/contract';

/** Subscribers by event name, shared by the transports. A throwing listener does not stop the others. */
export class EventListeners {
  private readonly byName = new Map<EventName, Set<(payload: never) => void>>();

  add<E extends EventName>(name: E, listener: EventListener<E>): () => void {
    let set = this.byName.get(name);
    if (!set) {
      set = new Set();
      this.byName.set(name, set);
    }
    const entry = listener as (payload: never) => void;
    set.add(entry);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.byName.get(name) === set) this.byName.delete(name);
    };
  }

  count(name: EventName): number {
    return this.byName.get(name)?.size ?? 0;
  }

  dispatch(message: EventMessage): void {
    // Copy first: a listener may unsubscribe (itself or another) while we iterate.
    for (const listener of [...(this.byName.get(message.name) ?? [])]) {
      try {
        (listener as (payload: unknown) => void)(message.payload);
      } catch (error) {
        console.error(`listener for ${message.name} failed:`, error);
      }
    }
  }

  clear(): void {
    this.byName.clear();
  }
}
