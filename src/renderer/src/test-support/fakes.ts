import type { Health } from '@shared/domain';
import type { SocketLike } from '../api/http-transport';

/** A WebSocket stand-in the test drives by hand: open it, feed it frames, drop it. */
export class FakeSocket implements SocketLike {
  onopen: ((ev: Event) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  closedByClient = false;

  constructor(readonly url: string) {}

  close(): void {
    this.closedByClient = true;
  }

  open(): void {
    this.onopen?.(new Event('open'));
  }

  receive(data: unknown): void {
    this.onmessage?.({ data } as MessageEvent);
  }

  /** The server went away: the browser fires error, then close. */
  drop(): void {
    this.onerror?.(new Event('error'));
    this.onclose?.({ code: 1006, reason: '', wasClean: false } as CloseEvent);
  }
}

/** A WebSocket constructor whose sockets the test can reach, newest last. */
export function fakeSocketClass(): { Socket: new (url: string) => FakeSocket; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  class Socket extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return { Socket, sockets };
}

export function sampleHealth(overrides: Partial<Health> = {}): Health {
  return {
    status: 'ok',
    app: { name: 'TFT Monitoring Prediction', version: '0.1.0' },
    apiVersion: '1.1.0',
    runtime: 'daemon',
    startedAt: '2025-01-01T00:00:00.000Z',
    uptimeSeconds: 42,
    model: null,
    predictor: {
      state: 'off',
      detail: 'no model is configured',
      cycles: 0,
      skippedCycles: 0,
      failedCycles: 0,
      lastCycleMs: null,
      lastPredictionTime: null,
      cycleDuration: { quantiles: [], sumMs: 0, count: 0 },
      stagesMs: null,
      windowReader: 'main',
    },
    problems: [],
    ...overrides,
  };
}

export function eventFrame(name: string, payload: unknown): string {
  return JSON.stringify({ type: 'event', name, payload });
}
