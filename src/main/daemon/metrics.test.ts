import { describe, expect, it } from 'vitest';
import type { ActiveAlerts, CurrentPredictions, Health } from '@shared/domain';
import { renderMetrics } from './metrics';

const health: Health = {
  status: 'ok',
  app: { name: 'TFT Monitoring Prediction', version: '0.1.0' },
  apiVersion: '1.3.0',
  runtime: 'test',
  startedAt: '2026-03-03T09:00:00.000Z',
  uptimeSeconds: 60,
  model: null,
  predictor: {
    state: 'ready',
    detail: null,
    cycles: 3,
    skippedCycles: 1,
    failedCycles: 0,
    lastCycleMs: 30,
    lastPredictionTime: '2026-03-03T09:00:00.000Z',
    cycleDuration: {
      quantiles: [
        { q: 0.5, ms: 25 },
        { q: 0.9, ms: 40 },
        { q: 0.99, ms: 41 },
      ],
      sumMs: 96,
      count: 3,
    },
    stagesMs: { read: 2, features: 8, infer: 12, decode: 5, store: 2, alerts: 1 },
    windowReader: 'worker',
  },
  problems: [],
};
const predictions: CurrentPredictions = {
  model: null,
  time: null,
  predictedAt: null,
  horizon: { stepMinutes: 30, times: [] },
  servers: [],
  skipped: [],
};
const alerts: ActiveAlerts = { fleetTime: '2026-03-03T09:00:00.000Z', alerts: [] };

/** Every sample line of a family, as [name+labels, value]. */
function samples(text: string, family: string): [string, number][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(family) && !l.startsWith('#'))
    .map((l) => {
      const at = l.lastIndexOf(' ');
      return [l.slice(0, at), Number(l.slice(at + 1))];
    });
}

describe('renderMetrics', () => {
  it('exposes the cycle duration as a Prometheus summary in seconds, and each stage of the last cycle', () => {
    const text = renderMetrics({ health, predictions, alerts });
    const lines = text.split('\n');
    const type = lines.indexOf('# TYPE tftmp_prediction_cycle_seconds summary');
    expect(type).toBeGreaterThan(0);
    expect(lines[type - 1]).toMatch(/^# HELP tftmp_prediction_cycle_seconds /);
    expect(samples(text, 'tftmp_prediction_cycle_seconds')).toEqual([
      ['tftmp_prediction_cycle_seconds{quantile="0.5"}', 0.025],
      ['tftmp_prediction_cycle_seconds{quantile="0.9"}', 0.04],
      ['tftmp_prediction_cycle_seconds{quantile="0.99"}', 0.041],
      ['tftmp_prediction_cycle_seconds_sum', 0.096],
      ['tftmp_prediction_cycle_seconds_count', 3],
    ]);
    expect(samples(text, 'tftmp_prediction_cycle_stage_seconds{stage="infer"}')).toEqual([
      ['tftmp_prediction_cycle_stage_seconds{stage="infer"}', 0.012],
    ]);
    // The summary's samples sit right under its TYPE line: no other family in between.
    expect(lines[type + 1]).toBe('tftmp_prediction_cycle_seconds{quantile="0.5"} 0.025');
  });

  it('leaves the quantiles and stages out before the first cycle, but keeps sum and count', () => {
    const fresh = {
      ...health,
      predictor: { ...health.predictor, cycles: 0, cycleDuration: { quantiles: [], sumMs: 0, count: 0 }, stagesMs: null },
    };
    const text = renderMetrics({ health: fresh, predictions, alerts });
    expect(samples(text, 'tftmp_prediction_cycle_seconds')).toEqual([
      ['tftmp_prediction_cycle_seconds_sum', 0],
      ['tftmp_prediction_cycle_seconds_count', 0],
    ]);
    expect(samples(text, 'tftmp_prediction_cycle_stage_seconds')).toEqual([]);
  });

  it('renders the event-loop delay as a summary plus max and window gauges, and leaves them out without a monitor', () => {
    expect(renderMetrics({ health, predictions, alerts })).not.toContain('tftmp_event_loop');
    const text = renderMetrics({
      health,
      predictions,
      alerts,
      eventLoop: {
        quantiles: [
          { q: 0.5, seconds: 0.0001 },
          { q: 0.9, seconds: 0.0012 },
          { q: 0.99, seconds: 0.02 },
        ],
        maxSeconds: 0.2,
        windowSeconds: 42.5,
        count: 1234,
        sumSeconds: 0.35,
      },
    });
    const lines = text.split('\n');
    const type = lines.indexOf('# TYPE tftmp_event_loop_delay_seconds summary');
    expect(type).toBeGreaterThan(0);
    expect(samples(text, 'tftmp_event_loop_delay_seconds')).toEqual([
      ['tftmp_event_loop_delay_seconds{quantile="0.5"}', 0.0001],
      ['tftmp_event_loop_delay_seconds{quantile="0.9"}', 0.0012],
      ['tftmp_event_loop_delay_seconds{quantile="0.99"}', 0.02],
      ['tftmp_event_loop_delay_seconds_sum', 0.35],
      ['tftmp_event_loop_delay_seconds_count', 1234],
    ]);
    expect(samples(text, 'tftmp_event_loop_delay_max_seconds')).toEqual([['tftmp_event_loop_delay_max_seconds', 0.2]]);
    expect(samples(text, 'tftmp_event_loop_delay_window_seconds')).toEqual([
      ['tftmp_event_loop_delay_window_seconds', 42.5],
    ]);
    expect(lines).toContain('# TYPE tftmp_event_loop_delay_max_seconds gauge');
  });
});
