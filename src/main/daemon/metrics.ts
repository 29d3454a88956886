import type { ActiveAlerts, CurrentPredictions, Health } from '@shared/domain';
import type { EventLoopDelaySnapshot } from './event-loop';

/** The content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Forecast horizons exported, in hours from the end of the context window. */
export const METRICS_HORIZON_HOURS = [1, 4, 8] as const;

/** A label value as the exposition format wants it: backslash, double quote and newline escaped. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string>): string {
  const body = Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
  return body ? `{${body}}` : '';
}

/** A sample value: Prometheus spells the non-finite ones NaN, +Inf, -Inf. */
function value(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Milliseconds (two decimals) as seconds, without the float noise of ms / 1000 (0.011640000000000001). */
function seconds(ms: number): number {
  return Number((ms / 1000).toFixed(6));
}

class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: 'gauge' | 'counter' | 'summary', help: string): this {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, pairs: Record<string, string>, v: number): this {
    this.lines.push(`${name}${labels(pairs)} ${value(v)}`);
    return this;
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/**
 * `GET /metrics`: the latest predictions, alerts and the prediction loop in the Prometheus text
 * exposition format (0.0.4), from the same contract outputs the API answers.
 */
export function renderMetrics(input: {
  health: Health;
  predictions: CurrentPredictions;
  alerts: ActiveAlerts;
  /** The daemon process's event-loop delay (absent: the families are left out). */
  eventLoop?: EventLoopDelaySnapshot;
}): string {
  const { health, predictions, alerts, eventLoop } = input;
  const out = new Exposition();

  out.family(
    'tftmp_incident_risk',
    'gauge',
    'Probability of an incident within 8 h, from the latest prediction cycle.',
  );
  for (const p of predictions.servers)
    out.sample('tftmp_incident_risk', { server: p.server, profile: p.profile }, p.risk);

  out.family(
    'tftmp_forecast',
    'gauge',
    'Forecast quantile of each target metric at a horizon after the context window, in the metric units.',
  );
  const stepMinutes = predictions.horizon.stepMinutes;
  for (const p of predictions.servers) {
    for (const band of p.forecast) {
      for (const hours of METRICS_HORIZON_HOURS) {
        if (stepMinutes <= 0) continue;
        const k = Math.round((hours * 60) / stepMinutes) - 1;
        for (const [quantile, values] of [
          ['0.5', band.p50],
          ['0.9', band.p90],
        ] as const) {
          const v = values[k];
          if (v === undefined) continue;
          out.sample('tftmp_forecast', { server: p.server, metric: band.metric, quantile, horizon: `${hours}h` }, v);
        }
      }
    }
  }

  out.family('tftmp_alerts_active', 'gauge', 'Open alerts by severity.');
  const counts = { warning: 0, critical: 0 };
  for (const a of alerts.alerts) counts[a.severity]++;
  for (const [severity, n] of Object.entries(counts)) out.sample('tftmp_alerts_active', { severity }, n);

  out.family('tftmp_model_info', 'gauge', 'The active model (1 while one is loaded).');
  if (health.model) {
    out.sample(
      'tftmp_model_info',
      { name: health.model.name, version: health.model.version, provider: health.model.executionProvider },
      1,
    );
  }

  const p = health.predictor;
  out.family('tftmp_prediction_cycle_last_seconds', 'gauge', 'Wall time of the last prediction cycle.');
  if (p.lastCycleMs !== null) out.sample('tftmp_prediction_cycle_last_seconds', {}, seconds(p.lastCycleMs));
  out.family(
    'tftmp_prediction_cycle_seconds',
    'summary',
    'Wall time of prediction cycles (read windows, features, inference, decoding, store, alerts); quantiles over the last 1,024.',
  );
  for (const { q, ms } of p.cycleDuration.quantiles)
    out.sample('tftmp_prediction_cycle_seconds', { quantile: String(q) }, seconds(ms));
  out.sample('tftmp_prediction_cycle_seconds_sum', {}, seconds(p.cycleDuration.sumMs));
  out.sample('tftmp_prediction_cycle_seconds_count', {}, p.cycleDuration.count);
  out.family('tftmp_prediction_cycle_stage_seconds', 'gauge', 'Wall time of each stage of the last prediction cycle.');
  for (const [stage, ms] of Object.entries(p.stagesMs ?? {}))
    out.sample('tftmp_prediction_cycle_stage_seconds', { stage }, seconds(ms));
  out.family('tftmp_prediction_cycles_total', 'counter', 'Prediction cycles since start, by outcome.');
  out.sample('tftmp_prediction_cycles_total', { outcome: 'ok' }, p.cycles);
  out.sample('tftmp_prediction_cycles_total', { outcome: 'skipped' }, p.skippedCycles);
  out.sample('tftmp_prediction_cycles_total', { outcome: 'failed' }, p.failedCycles);

  if (eventLoop) {
    out.family(
      'tftmp_event_loop_delay_seconds',
      'summary',
      'Event-loop delay of the process (monitorEventLoopDelay, 10 ms resolution, the resolution subtracted); quantiles over a sliding window of the last 30 to 60 s, _sum and _count since start.',
    );
    for (const { q, seconds: s } of eventLoop.quantiles)
      out.sample('tftmp_event_loop_delay_seconds', { quantile: String(q) }, s);
    out.sample('tftmp_event_loop_delay_seconds_sum', {}, eventLoop.sumSeconds);
    out.sample('tftmp_event_loop_delay_seconds_count', {}, eventLoop.count);
    out.family(
      'tftmp_event_loop_delay_max_seconds',
      'gauge',
      'Longest event-loop delay over the same sliding window as tftmp_event_loop_delay_seconds.',
    );
    if (eventLoop.maxSeconds !== null) out.sample('tftmp_event_loop_delay_max_seconds', {}, eventLoop.maxSeconds);
    out.family(
      'tftmp_event_loop_delay_window_seconds',
      'gauge',
      'How long the window behind the event-loop delay quantiles and max has run (30 to 60 s once started).',
    );
    out.sample('tftmp_event_loop_delay_window_seconds', {}, eventLoop.windowSeconds);
  }
  return out.text();
}
