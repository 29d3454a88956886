import { z } from 'zod';

/** Fleet-level figures, the seed's `GET /status`. */
export const FleetStatusSchema = z.object({
  serversTotal: z.number().int().nonnegative(),
  /** Servers with a sample in the last 15 minutes of fleet time. */
  serversReporting: z.number().int().nonnegative(),
  /** Newest sample time in the store, ISO 8601; null while the store is empty. */
  lastSampleAt: z.iso.datetime().nullable(),
  sources: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(['simulator', 'file', 'prometheus']),
      state: z.enum(['running', 'stopped', 'failing']),
    }),
  ),
});
export type FleetStatus = z.infer<typeof FleetStatusSchema>;
