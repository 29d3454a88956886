import type { z } from 'zod';
import {
  AlertsChangedSchema,
  DemoStateSchema,
  FleetUpdatedSchema,
  HealthSchema,
  PredictionsUpdatedSchema,
  SettingsSchema,
  ModelChangedSchema,
  TrainJobSchema,
} from '../domain';

/**
 * Every push event, declared once. Names are `domain.past-tense-verb`. The desktop sends them
 * over IPC, the daemon over the WebSocket `/ws`, tests read them from the core's bus.
 */
export const events = {
  /** Sent on connect and every few seconds: the connection indicator's heartbeat. */
  'health.updated': HealthSchema,
  'settings.changed': SettingsSchema,
  /** New samples reached the store (every fleet step of the simulator, every import). */
  'fleet.updated': FleetUpdatedSchema,
  /** A prediction cycle finished (after new samples, at most one cycle at a time). */
  'predictions.updated': PredictionsUpdatedSchema,
  /** Alerts opened, resolved, changed or were acknowledged. */
  'alerts.changed': AlertsChangedSchema,
  /** The demo's state changed (a scenario started, speed, pause, reset). */
  'demo.changed': DemoStateSchema,
  /** A training job moved on (progress, at most a few per second, and every state change). */
  'model.progress': TrainJobSchema,
  /** A model folder was added or deleted, or another model became active. */
  'model.changed': ModelChangedSchema,
} as const satisfies Record<string, z.ZodType>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;

export const EVENT_NAMES = Object.keys(events) as EventName[];

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(events, name);
}

/** One event as it travels over a wire (IPC payload, WebSocket message). */
export interface EventMessage<E extends EventName = EventName> {
  name: E;
  payload: EventPayload<E>;
}

export type EventListener<E extends EventName> = (payload: EventPayload<E>) => void;
export type AnyEventListener = (message: EventMessage) => void;

/** A typed publish/subscribe bus, pure TypeScript so every process can hold one. */
export class EventBus {
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>();
  private readonly anyListeners = new Set<AnyEventListener>();

  on<E extends EventName>(name: E, listener: EventListener<E>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Every event, in order: what the transports forward. */
  onAny(listener: AnyEventListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    // A listener that throws must not keep the others (or the emitter) from running.
    for (const listener of this.listeners.get(name) ?? []) {
      safely(() => (listener as EventListener<E>)(payload));
    }
    const message = { name, payload } as EventMessage;
    for (const listener of this.anyListeners) safely(() => listener(message));
  }

  listenerCount(): number {
    let n = this.anyListeners.size;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    console.error('event listener failed:', error);
  }
}
