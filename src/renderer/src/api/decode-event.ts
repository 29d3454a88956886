import { events, isEventName, type EventMessage } from '@shared/contract';

/**
 * Checks an event that arrived over a wire against the contract. Returns null for anything
 * that is not a known event with a valid payload: a newer core may send events this dashboard
 * does not know yet, and one bad message must not break the stream.
 */
export function decodeEvent(name: unknown, payload: unknown): EventMessage | null {
  if (!isEventName(name)) return null;
  const parsed = events[name].safeParse(payload);
  return parsed.success ? { name, payload: parsed.data } : null;
}

/** A WebSocket text frame: `{"type":"event","name":...,"payload":...}`. */
export function decodeSocketMessage(data: unknown): EventMessage | null {
  if (typeof data !== 'string') return null;
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof message !== 'object' || message === null) return null;
  const { type, name, payload } = message as { type?: unknown; name?: unknown; payload?: unknown };
  if (type !== 'event') return null;
  return decodeEvent(name, payload);
}
