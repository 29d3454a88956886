import {
  METRIC_BY_NAME,
  SERVER_NAME_PATTERN,
  inferProfile,
  type MetricName,
  type Profile,
  type ServerState,
} from '@shared/contract';
import {
  DEMO_SCENARIOS,
  FAILURE_MODE_METRIC,
  RISK_THRESHOLDS,
  type DemoRun,
  type DemoScenario,
  type DemoState,
  type MetricsHistory,
  type PredictionHistory,
  type ServerPrediction,
} from '@shared/domain';
import type { ChartOption } from '../charts/EChart';
import { baseChartOption, timeAxis, valueAxis, type ChartTheme } from './trends-chart-theme';
import { formatMetricValue } from './trends-model';

// ---------------------------------------------------------------------------------------------
// Scenarios and speeds.

export interface ScenarioInfo {
  id: DemoScenario;
  label: string;
  /** What the server will do, for the picker. */
  description: string;
  /** The metric the scenario drives towards its threshold (what the demo charts beside the risk). */
  metric: MetricName;
}

export const SCENARIOS: readonly ScenarioInfo[] = [
  {
    id: 'healthy',
    label: 'Healthy',
    description: 'Heals the server: it goes back to its normal behaviour.',
    metric: 'cpu_percent',
  },
  {
    id: 'memory_leak',
    label: 'Memory leak',
    description: 'Memory climbs steadily until it runs out.',
    metric: 'memory_percent',
  },
  {
    id: 'disk_fill',
    label: 'Disk fill',
    description: 'The data filesystem fills up, I/O wait rises.',
    metric: 'disk_percent',
  },
  {
    id: 'cpu_runaway',
    label: 'CPU runaway',
    description: 'A process spins: CPU climbs to saturation.',
    metric: 'cpu_percent',
  },
  {
    id: 'network_saturation',
    label: 'Network saturation',
    description: 'Traffic fills the link; latency explodes near capacity.',
    metric: 'latency_ms',
  },
  {
    id: 'cascading_failure',
    label: 'Cascading failure',
    description: 'A dependency fails: latency builds up, then errors.',
    metric: 'latency_ms',
  },
];

export function scenarioInfo(id: DemoScenario): ScenarioInfo {
  return SCENARIOS.find((s) => s.id === id) ?? SCENARIOS[0]!;
}

export function isScenario(value: unknown): value is DemoScenario {
  return typeof value === 'string' && (DEMO_SCENARIOS as readonly string[]).includes(value);
}

/** The metric the demo charts: the scenario's, or for "healthy" the one the predicted failure mode is about. */
export function drivingMetric(scenario: DemoScenario, failureMode: string | null | undefined): MetricName {
  if (scenario === 'healthy' && failureMode && FAILURE_MODE_METRIC[failureMode])
    return FAILURE_MODE_METRIC[failureMode];
  return scenarioInfo(scenario).metric;
}

/** The steps the speed buttons offer. */
export const SPEED_STEPS = [1, 10, 60, 300] as const;
/** The slider's stops (the UI's range: the API goes further, to DEMO_MAX_SPEED). */
export const SPEED_LADDER = [1, 2, 5, 10, 20, 30, 60, 120, 180, 240, 300] as const;

/** The slider position of a speed: the nearest stop (on a log scale). */
export function speedIndex(speed: number): number {
  let best = 0;
  for (let i = 1; i < SPEED_LADDER.length; i++) {
    if (
      Math.abs(Math.log(SPEED_LADDER[i]!) - Math.log(speed)) < Math.abs(Math.log(SPEED_LADDER[best]!) - Math.log(speed))
    ) {
      best = i;
    }
  }
  return best;
}

/** "300×", "1×", "1 fleet hour every 12 s". */
export function formatSpeed(speed: number): string {
  return `${Number(speed.toPrecision(3))}×`;
}

export function describeSpeed(speed: number): string {
  if (speed <= 1) return 'real time';
  const secondsPerHour = 3600 / speed;
  if (secondsPerHour >= 60) return `1 fleet hour every ${Math.round(secondsPerHour / 60)} min`;
  return `1 fleet hour every ${Number(secondsPerHour.toPrecision(2))} s`;
}

export const PRECURSOR_MIN = 0.5;
export const PRECURSOR_MAX = 12;
export const PRECURSOR_DEFAULT = 4;

/** A precursor length as typed: clamped to the contract's range, on half hours; null when not a number. */
export function parsePrecursor(text: string): number | null {
  const value = Number(text.replace(',', '.'));
  if (!Number.isFinite(value) || text.trim() === '') return null;
  return Math.min(PRECURSOR_MAX, Math.max(PRECURSOR_MIN, Math.round(value * 2) / 2));
}

// ---------------------------------------------------------------------------------------------
// The server field: an existing simulated server, or a new one that joins the fleet.

export interface ServerChoice {
  name: string;
  /** Why the name cannot be used; null when it can. */
  error: string | null;
  /** True for a name the simulated fleet does not have yet: it joins the fleet. */
  isNew: boolean;
  /** The profile it has (existing) or would get from its name (new). */
  profile: Profile | null;
}

export function serverChoice(typed: string, servers: DemoState['servers']): ServerChoice {
  const name = typed.trim();
  if (!name) return { name, error: 'Pick a server or type a new name.', isNew: false, profile: null };
  if (!SERVER_NAME_PATTERN.test(name)) {
    return {
      name,
      error: 'A server name is letters, digits and . _ : - (up to 128), starting with a letter or digit.',
      isNew: false,
      profile: null,
    };
  }
  const known = servers.find((s) => s.name === name);
  if (known) return { name, error: null, isNew: false, profile: known.profile };
  return { name, error: null, isNew: true, profile: inferProfile(name) };
}

// ---------------------------------------------------------------------------------------------
// Following a run.

/** The run the demo follows: the newest one. */
export function currentRun(state: DemoState | undefined): DemoRun | null {
  return state?.runs[0] ?? null;
}

export type DemoStage = 'healthy' | 'degrading' | 'critical' | 'unknown';

/**
 * Where the server stands, for people: critical once the incident began (the simulator says
 * critical_issue) or the risk reached the critical level; degrading from the warning level;
 * healthy under it; unknown without a risk.
 */
export function demoStage(
  risk: number | null | undefined,
  simState: ServerState | null | undefined,
  thresholds: { warning: number; critical: number } = RISK_THRESHOLDS,
): DemoStage {
  if (simState === 'critical_issue') return 'critical';
  if (risk === null || risk === undefined || !Number.isFinite(risk)) return 'unknown';
  if (risk >= thresholds.critical) return 'critical';
  if (risk >= thresholds.warning) return 'degrading';
  return 'healthy';
}

export interface RiskPoint {
  time: number;
  risk: number;
}

/** The run's risk points, oldest first, from an hour before it started (the baseline) on. */
export function runRiskPoints(
  history: PredictionHistory | undefined,
  run: DemoRun | null,
  leadInMs = 3_600_000,
): RiskPoint[] {
  if (!history || !run) return [];
  const from = Date.parse(run.startedAt) - leadInMs;
  return history.points
    .map((p) => ({ time: Date.parse(p.time), risk: p.risk }))
    .filter((p) => Number.isFinite(p.time) && p.time >= from)
    .sort((a, b) => a.time - b.time);
}

/**
 * Adds the latest prediction (predictions.server, which can be newer than the history answer)
 * to the points, when it is newer than the last one.
 */
export function withLatest(points: readonly RiskPoint[], latest: RiskPoint | null): RiskPoint[] {
  if (!latest || !Number.isFinite(latest.time)) return [...points];
  const last = points.at(-1);
  if (last && latest.time <= last.time) return [...points];
  return [...points, latest];
}

/** The first point at or after `sinceMs` whose risk reached `level`; null if none did. */
export function firstCrossing(points: readonly RiskPoint[], level: number, sinceMs: number): RiskPoint | null {
  for (const p of points) if (p.time >= sinceMs && p.risk >= level) return p;
  return null;
}

/** How long before the onset the warning came (negative: after it); null without both. */
export function leadTimeMs(crossing: RiskPoint | null, onsetAt: string | null): number | null {
  if (!crossing || !onsetAt) return null;
  const onset = Date.parse(onsetAt);
  return Number.isFinite(onset) ? onset - crossing.time : null;
}

/** "3 h 05 min", "40 min". */
export function formatLead(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} min`;
  return m ? `${h} h ${String(m).padStart(2, '0')} min` : `${h} h`;
}

/** The headline under the risk: what the warning bought, or what is awaited. */
export function describeLead(lead: number | null, run: DemoRun | null, fleetNowMs: number): string {
  if (!run) return '';
  if (run.scenario === 'healthy') return 'The server was healed: its risk should settle under the warning level.';
  const onset = run.onsetAt ? Date.parse(run.onsetAt) : null;
  if (lead !== null) {
    return lead >= 0
      ? `Warning ${formatLead(lead)} before the incident.`
      : `The risk reached the warning level only ${formatLead(lead)} after the incident began.`;
  }
  if (onset !== null && fleetNowMs >= onset) return 'The incident began before the risk reached the warning level.';
  if (onset !== null)
    return `Incident onset in ${formatLead(onset - fleetNowMs)} (fleet time); the risk is still under the warning level.`;
  return '';
}

// ---------------------------------------------------------------------------------------------
// Charts.

const pct = (v: number): string => `${Math.round(v * 100)} %`;

/** The time window the charts show: an hour before the run to half an hour past the onset or the newest point. */
export function chartWindow(run: DemoRun, lastPointMs: number | null): { min: number; max: number } {
  const start = Date.parse(run.startedAt);
  const onset = run.onsetAt ? Date.parse(run.onsetAt) : start + 2 * 3_600_000;
  return { min: start - 3_600_000, max: Math.max(onset + 1_800_000, lastPointMs ?? 0) };
}

function verticalMarks(run: DemoRun, theme: ChartTheme, crossing: RiskPoint | null, large: boolean) {
  const fontSize = large ? 16 : 11;
  const data: Record<string, unknown>[] = [
    {
      xAxis: Date.parse(run.startedAt),
      name: 'scenario start',
      lineStyle: { color: theme.textMuted, type: 'dotted', width: 1 },
      label: { formatter: 'start', color: theme.textMuted, fontSize },
    },
  ];
  if (run.onsetAt) {
    data.push({
      xAxis: Date.parse(run.onsetAt),
      name: 'incident onset',
      lineStyle: { color: theme.error, type: 'solid', width: 2 },
      label: { formatter: 'incident onset', color: theme.error, fontSize, fontWeight: 'bold' },
    });
  }
  if (crossing) {
    data.push({
      xAxis: crossing.time,
      name: 'warning reached',
      lineStyle: { color: theme.warn, type: 'dashed', width: 1.5 },
      label: { formatter: 'warning', color: theme.warn, fontSize },
    });
  }
  return data;
}

/** The server's risk over the run, with the warning and critical levels and a marker at the incident's onset. */
export function demoRiskOption(
  points: readonly RiskPoint[],
  run: DemoRun,
  theme: ChartTheme,
  options: { crossing: RiskPoint | null; large?: boolean; thresholds?: { warning: number; critical: number } },
): ChartOption {
  const { warning, critical } = options.thresholds ?? RISK_THRESHOLDS;
  const large = options.large ?? false;
  const fontSize = large ? 16 : 11;
  const window = chartWindow(run, points.at(-1)?.time ?? null);
  const base = baseChartOption(theme);
  return {
    ...base,
    legend: { show: false },
    textStyle: { ...base.textStyle, fontSize },
    grid: { left: large ? 64 : 48, right: large ? 24 : 16, top: large ? 36 : 28, bottom: large ? 36 : 28 },
    xAxis: {
      ...timeAxis(theme, window.min, window.max),
      axisLabel: { color: theme.textMuted, hideOverlap: true, fontSize },
    },
    yAxis: valueAxis(theme, { min: 0, max: 1, axisLabel: { color: theme.textMuted, formatter: pct, fontSize } }),
    tooltip: { ...base.tooltip, valueFormatter: (v: unknown) => (typeof v === 'number' ? pct(v) : '—') },
    visualMap: {
      show: false,
      seriesIndex: 0,
      dimension: 1,
      pieces: [
        // The status colours (themed for contrast on either background), as the level lines use.
        { lt: warning, color: theme.ok },
        { gte: warning, lt: critical, color: theme.warn },
        { gte: critical, color: theme.error },
      ],
    },
    series: [
      {
        type: 'line' as const,
        name: 'Risk',
        data: points.map((p) => [p.time, p.risk]),
        showSymbol: points.length < 40,
        symbol: 'circle',
        symbolSize: large ? 8 : 5,
        lineStyle: { width: large ? 4 : 2.5 },
        markArea: {
          silent: true,
          data: [
            [{ yAxis: warning, itemStyle: { color: theme.warn, opacity: 0.06 } }, { yAxis: critical }],
            [{ yAxis: critical, itemStyle: { color: theme.error, opacity: 0.08 } }, { yAxis: 1 }],
          ],
        },
        markLine: {
          silent: true,
          symbol: 'none',
          data: [
            {
              yAxis: warning,
              name: 'warning',
              lineStyle: { color: theme.warn, type: 'dashed', width: 1.5 },
              label: { formatter: `warning ${pct(warning)}`, color: theme.warn, position: 'insideStartTop', fontSize },
            },
            {
              yAxis: critical,
              name: 'critical',
              lineStyle: { color: theme.error, type: 'dashed', width: 1.5 },
              label: {
                formatter: `critical ${pct(critical)}`,
                color: theme.error,
                position: 'insideStartTop',
                fontSize,
              },
            },
            ...verticalMarks(run, theme, options.crossing, large),
          ],
        },
      },
    ],
  };
}

/** The driving metric's samples over the run, oldest first. */
export function runMetricPoints(
  history: MetricsHistory | undefined,
  metric: MetricName,
  run: DemoRun | null,
): [number, number | null][] {
  if (!history || !run) return [];
  const from = Date.parse(run.startedAt) - 3_600_000;
  const values = history.metrics[metric] ?? [];
  const out: [number, number | null][] = [];
  history.times.forEach((t, i) => {
    const time = Date.parse(t);
    if (time >= from) out.push([time, values[i] ?? null]);
  });
  return out;
}

/** The forecast of the driving metric from the latest prediction: P50 and the P10-P90 band over the horizon. */
export function metricForecast(
  prediction: ServerPrediction | null | undefined,
  horizonTimes: readonly string[],
  metric: MetricName,
): { p10: [number, number][]; p50: [number, number][]; p90: [number, number][] } | null {
  const band = prediction?.forecast.find((f) => f.metric === metric);
  if (!band || horizonTimes.length === 0) return null;
  const at = (values: readonly number[]) =>
    horizonTimes.flatMap((t, i): [number, number][] => {
      const v = values[i];
      return v === undefined ? [] : [[Date.parse(t), v]];
    });
  return { p10: at(band.p10), p50: at(band.p50), p90: at(band.p90) };
}

/** The driving metric heading to its threshold: samples, the latest forecast, the contract's levels, the onset. */
export function demoMetricOption(
  samples: readonly [number, number | null][],
  forecast: ReturnType<typeof metricForecast>,
  metric: MetricName,
  run: DemoRun,
  theme: ChartTheme,
  options: { large?: boolean } = {},
): ChartOption {
  const spec = METRIC_BY_NAME[metric];
  const large = options.large ?? false;
  const fontSize = large ? 16 : 11;
  const lastSample = samples.at(-1)?.[0] ?? null;
  const window = chartWindow(run, lastSample);
  // The forecast runs 8 h ahead; show at most 2 h of it past the window so the run stays readable.
  const forecastEnd = window.max + 2 * 3_600_000;
  const clip = (pts: [number, number][]) => pts.filter(([t]) => t <= forecastEnd);
  const p10 = forecast ? clip(forecast.p10) : [];
  const p90 = forecast ? clip(forecast.p90) : [];
  const max = Math.max(window.max, forecast && p10.length ? p10.at(-1)![0] : 0);
  const base = baseChartOption(theme);
  const levels = [
    spec.warning !== null
      ? {
          yAxis: spec.warning,
          name: 'warning',
          lineStyle: { color: theme.warn, type: 'dashed', width: 1.5 },
          label: {
            formatter: `warning ${formatMetricValue(metric, spec.warning)}`,
            color: theme.warn,
            position: 'insideStartTop',
            fontSize,
          },
        }
      : null,
    spec.critical !== null
      ? {
          yAxis: spec.critical,
          name: 'critical',
          lineStyle: { color: theme.error, type: 'dashed', width: 1.5 },
          label: {
            formatter: `critical ${formatMetricValue(metric, spec.critical)}`,
            color: theme.error,
            position: 'insideStartTop',
            fontSize,
          },
        }
      : null,
  ].filter((l) => l !== null);
  const onset = run.onsetAt
    ? [
        {
          xAxis: Date.parse(run.onsetAt),
          name: 'incident onset',
          lineStyle: { color: theme.error, width: 2 },
          label: { formatter: 'incident onset', color: theme.error, fontSize, fontWeight: 'bold' },
        },
      ]
    : [];
  const percent = spec.unit === '%';
  return {
    ...base,
    legend: { ...base.legend, data: ['Observed', 'Forecast P50'], textStyle: { color: theme.textMuted, fontSize } },
    grid: { left: large ? 72 : 56, right: large ? 24 : 16, top: large ? 40 : 32, bottom: large ? 36 : 28 },
    xAxis: { ...timeAxis(theme, window.min, max), axisLabel: { color: theme.textMuted, hideOverlap: true, fontSize } },
    yAxis: valueAxis(theme, {
      min: percent ? 0 : undefined,
      max: percent ? 100 : undefined,
      scale: !percent,
      axisLabel: {
        color: theme.textMuted,
        fontSize,
        formatter: (v: number) => (percent ? `${v} %` : formatMetricValue(metric, v).replace(` ${spec.unit}`, '')),
      },
      name: percent ? undefined : spec.unit,
    }),
    tooltip: { ...base.tooltip, valueFormatter: (v: unknown) => formatMetricValue(metric, v as number) },
    series: [
      {
        type: 'line' as const,
        name: 'Observed',
        data: samples,
        showSymbol: false,
        connectNulls: false,
        lineStyle: { width: large ? 3.5 : 2, color: theme.accent },
        itemStyle: { color: theme.accent },
        markLine: { silent: true, symbol: 'none', data: [...levels, ...onset] },
      },
      // The band as a stack: P10 (invisible) then P90 - P10 filled.
      {
        type: 'line' as const,
        name: 'P10',
        data: p10,
        stack: 'band',
        showSymbol: false,
        lineStyle: { opacity: 0 },
        tooltip: { show: false },
        silent: true,
      },
      {
        type: 'line' as const,
        name: 'P10–P90',
        data: p90.map(([t, v], i) => [t, v - (p10[i]?.[1] ?? v)]),
        stack: 'band',
        showSymbol: false,
        lineStyle: { opacity: 0 },
        areaStyle: { color: theme.accent, opacity: 0.15 },
        tooltip: { show: false },
        silent: true,
      },
      {
        type: 'line' as const,
        name: 'Forecast P50',
        data: forecast ? clip(forecast.p50) : [],
        showSymbol: false,
        lineStyle: { width: large ? 3 : 1.5, type: 'dashed', color: theme.accent },
        itemStyle: { color: theme.accent },
      },
    ],
  };
}
