import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CurrentPredictions, MethodFigures, ModelEvaluation } from '@shared/domain';
import { defaultFleet } from '../metrics/simulator/fleet-sim';
import { generateFleet } from '../metrics/simulator/generate';
import { openStore, type MetricsStore } from '../store';
import { assessDrift, ForecastErrorTracker, shouldReplace } from './drift';

const figures = (over: Partial<MethodFigures> = {}): MethodFigures => ({
  auroc: 0.7,
  auprc: 0.2,
  recall: 0.5,
  falseAlarmsPerServerDay: 0.1,
  leadTimeHoursMedian: 3,
  ...over,
});
const evaluation = (model: MethodFigures | null): ModelEvaluation => ({
  createdAt: '2026-11-26T00:00:00.000Z',
  fleet: { servers: 4, days: 3, incidents: 3, points: 500 },
  methods: model ? { model, reactive: figures({ auprc: 0.05 }) } : { reactive: figures() },
  goalsMet: 0,
  goalsTotal: 5,
  seconds: 1,
});

describe('drift', () => {
  const base = { referenceError: 0.1, referenceCount: 100, recentCount: 100, newProfiles: [] };

  it('is drift when the recent forecast error rises past the threshold, not below it', () => {
    expect(assessDrift({ ...base, recentError: 0.14 }).drift).toBe(false);
    const risen = assessDrift({ ...base, recentError: 0.2 });
    expect(risen.drift).toBe(true);
    expect(risen.ratio).toBeCloseTo(2);
    expect(risen.reasons[0]).toMatch(/forecast error rose to 0\.200 from 0\.100/);
    // The threshold is a rule: 2x is no drift under a 150 % rise threshold.
    expect(assessDrift({ ...base, recentError: 0.2 }, { errorRiseThreshold: 1.5, minForecasts: 50 }).drift).toBe(false);
  });

  it('needs enough forecasts in both windows before the error counts', () => {
    expect(assessDrift({ ...base, recentError: 0.5, recentCount: 10 }).drift).toBe(false);
    expect(assessDrift({ ...base, recentError: 0.5, referenceCount: 10 }).drift).toBe(false);
    expect(assessDrift({ ...base, referenceError: null, recentError: 0.5 }).drift).toBe(false);
  });

  it('is drift when the fleet has profiles the model never trained on', () => {
    const a = assessDrift({ ...base, recentError: 0.1, newProfiles: ['risk_analytics', 'database'] });
    expect(a.drift).toBe(true);
    expect(a.reasons).toEqual(['profiles the model never trained on: database, risk_analytics']);
  });
});

describe('replace only if better', () => {
  it('replaces when the new model beats the active one on AUPRC', () => {
    const d = shouldReplace(evaluation(figures({ auprc: 0.3 })), evaluation(figures({ auprc: 0.2 })));
    expect(d.replace).toBe(true);
    expect(d.reason).toMatch(/AUPRC 0\.300 beats the active one's 0\.200/);
  });

  it('keeps the active model when the new one is equal, worse, or better by less than the margin', () => {
    expect(shouldReplace(evaluation(figures()), evaluation(figures())).replace).toBe(false);
    expect(shouldReplace(evaluation(figures({ auprc: 0.1 })), evaluation(figures())).replace).toBe(false);
    expect(shouldReplace(evaluation(figures({ auprc: 0.203 })), evaluation(figures())).replace).toBe(false);
  });

  it('keeps the active model when the new one buys its gain with false alarms', () => {
    const d = shouldReplace(evaluation(figures({ auprc: 0.4, falseAlarmsPerServerDay: 0.5 })), evaluation(figures()));
    expect(d.replace).toBe(false);
    expect(d.reason).toMatch(/raises false alarms/);
  });

  it('falls back to AUROC when no AUPRC could be computed, and never replaces without evidence', () => {
    expect(shouldReplace(evaluation(figures({ auprc: null, auroc: 0.8 })), evaluation(figures({ auprc: null, auroc: 0.7 }))).replace).toBe(true);
    expect(shouldReplace(evaluation(figures({ auprc: null, auroc: null })), evaluation(figures())).replace).toBe(false);
    expect(shouldReplace(null, evaluation(figures())).replace).toBe(false);
    expect(shouldReplace(evaluation(figures({ auprc: 0.9 })), null).replace).toBe(false);
    expect(shouldReplace(evaluation(figures({ auprc: 0.9 })), evaluation(null)).replace).toBe(false);
  });
});

describe('the live forecast error, against a real store', () => {
  let dir: string;
  let store: MetricsStore;
  const START = Date.UTC(2026, 0, 5);
  const STEP = 30 * 60_000;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tftmp-drift-'));
    store = openStore(join(dir, 'metrics.sqlite'));
    const fleet = generateFleet({ seed: 'drift', start: START, servers: defaultFleet(2), hours: 12 });
    store.ingest(fleet.columns, { now: START + 24 * 3_600_000 });
  });
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The actual mean of a server's metric over the 30-minute step ending at `t`. */
  function actual(server: string, t: number): number {
    const s = store.querySamples(server, t - STEP, t + 1);
    let sum = 0;
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      if (s.timestamp[i]! > t - STEP && s.metrics.cpu_percent.present[i]) {
        sum += s.metrics.cpu_percent.values[i]!;
        n++;
      }
    }
    return sum / n;
  }

  function cycle(time: number, forecastOf: (server: string, t: number) => number): CurrentPredictions {
    const times = [time + STEP, time + 2 * STEP];
    const servers = store.listServers().map((s) => ({
      server: s.name,
      profile: s.profile,
      risk: 0.1,
      failureMode: 'none',
      forecast: [{ metric: 'cpu_percent' as const, p10: [0, 0], p50: times.map((t) => forecastOf(s.name, t)), p90: [0, 0] }],
    }));
    return {
      model: { name: 'tft', version: 'v1' },
      time: new Date(time).toISOString(),
      predictedAt: new Date(time).toISOString(),
      horizon: { stepMinutes: 30, times: times.map((t) => new Date(t).toISOString()) },
      servers,
      skipped: [],
    } as unknown as CurrentPredictions;
  }

  it('scores forecasts once their step is stored: exact ones near 0, far-off ones high, and a rise reads as drift', () => {
    const tracker = new ForecastErrorTracker({ window: 100, minForecasts: 8, leadSteps: 2, maxServers: 10 });
    // Reference: forecasts equal to what happened.
    for (let k = 2; k < 6; k++) tracker.record(cycle(START + k * STEP, actual));
    // Not yet stored (beyond the newest sample): kept pending, not scored.
    tracker.record(cycle(START + 30 * STEP, () => 50));
    tracker.resolve(store, START + 12 * 3_600_000 - 5 * 60_000);
    const reference = tracker.snapshot();
    expect(reference.referenceCount).toBe(8);
    expect(reference.referenceError).toBeLessThan(1e-6);
    expect(reference.pending).toBe(4);
    // Recent: the forecasts are off by half the value.
    for (let k = 8; k < 14; k++) tracker.record(cycle(START + k * STEP, (s, t) => actual(s, t) * 1.5 + 5));
    tracker.resolve(store, START + 12 * 3_600_000 - 5 * 60_000);
    const recent = tracker.snapshot();
    expect(recent.recentCount).toBeGreaterThanOrEqual(8);
    expect(recent.recentError).toBeGreaterThan(0.15);
    expect(assessDrift({ ...recent, newProfiles: [] }, { errorRiseThreshold: 0.5, minForecasts: 8 }).drift).toBe(true);

    // Another model: a new reference.
    tracker.record({ ...cycle(START + 20 * STEP, actual), model: { name: 'tft', version: 'v2' } });
    expect(tracker.snapshot()).toMatchObject({ referenceCount: 0, recentCount: 0 });
  });
});
