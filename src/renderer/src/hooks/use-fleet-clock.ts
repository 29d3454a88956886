import { useMemo, useState } from 'react';
import { useEvent } from '../api/use-event';
import { estimateRate, newestReading, pushReading, type ClockReading } from '../fleet-clock';

export interface FleetClock {
  /** Fleet ms per wall ms, estimated from readings spanning at least 2 s; null until then. */
  rate: number | null;
  /** The newest reading of the fleet clock: `seed` or the last `fleet.updated`, whichever arrived last. */
  reading: ClockReading | null;
}

/** A reading from a query answer that carries `fleetTime`, stamped with when it arrived. */
export function readingOf(fleetTime: string | undefined, updatedAt: number | null): ClockReading | null {
  if (fleetTime === undefined || updatedAt === null) return null;
  const fleetMs = Date.parse(fleetTime);
  return Number.isNaN(fleetMs) ? null : { fleetMs, wallMs: updatedAt };
}

/**
 * Follows the fleet clock through the answers of the caller's query (`seed`) and, unless
 * `followEvents` is false, `fleet.updated`, so ages can be measured in fleet time and the
 * clock's speed shown. A view that redraws a lot on each answer passes false: every event
 * would otherwise cost it one more render, just before the answer the event announced.
 */
export function useFleetClock(seed: ClockReading | null, followEvents = true): FleetClock {
  const [readings, setReadings] = useState<ClockReading[]>([]);
  const [seenSeed, setSeenSeed] = useState<ClockReading | null>(null);
  // A new answer is a reading too (React's "adjust state while rendering": no extra effect pass).
  if (seed && (seenSeed === null || seed.wallMs !== seenSeed.wallMs || seed.fleetMs !== seenSeed.fleetMs)) {
    setSeenSeed(seed);
    setReadings((r) => pushReading(r, seed));
  }
  useEvent('fleet.updated', (payload) => {
    if (!followEvents) return;
    const fleetMs = Date.parse(payload.fleetTime);
    if (!Number.isNaN(fleetMs)) setReadings((r) => pushReading(r, { fleetMs, wallMs: Date.now() }));
  });
  const rate = useMemo(() => estimateRate(readings), [readings]);
  return { rate, reading: newestReading(seed, readings.at(-1) ?? null) };
}
