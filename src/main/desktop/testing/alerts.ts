import type { Alert } from '@shared/domain/alerts';

let nextId = 1;

/** An open alert as the core's alerts.active returns it (AlertSchema-shaped). */
export function openAlert(overrides: Partial<Alert> & Pick<Alert, 'server' | 'severity'>): Alert {
  return {
    id: nextId++,
    profile: 'database',
    state: 'open',
    risk: overrides.severity === 'critical' ? 0.72 : 0.4,
    peakRisk: overrides.severity === 'critical' ? 0.72 : 0.4,
    failureMode: 'memory leak',
    timeToThreshold: null,
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: null,
    updatedAt: '2026-01-01T00:00:00.000Z',
    acknowledged: null,
    ...overrides,
  };
}
