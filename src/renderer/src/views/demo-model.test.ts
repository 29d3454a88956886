import { describe, expect, it } from 'vitest';
import type { DemoRun, MetricsHistory, PredictionHistory, ServerPrediction } from '@shared/domain';
import {
  SPEED_LADDER,
  chartWindow,
  currentRun,
  demoMetricOption,
  demoRiskOption,
  demoStage,
  describeLead,
  describeSpeed,
  drivingMetric,
  firstCrossing,
  formatLead,
  formatSpeed,
  leadTimeMs,
  metricForecast,
  parsePrecursor,
  runMetricPoints,
  runRiskPoints,
  serverChoice,
  speedIndex,
  withLatest,
} from './demo-model';
import { readChartTheme } from './trends-chart-theme';

const theme = readChartTheme((_name, fallback) => fallback);
const H = 3_600_000;
const START = Date.UTC(2026, 2, 3, 8, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const run: DemoRun = {
  server: 'ppweb001',
  scenario: 'memory_leak',
  startedAt: iso(START),
  onsetAt: iso(START + 4 * H),
  state: 'healthy',
};

type AnySeries = {
  name: string;
  data: unknown[];
  markLine?: { data: { xAxis?: number; yAxis?: number; name?: string }[] };
};
const seriesOf = (option: unknown) => (option as { series: AnySeries[] }).series;

describe('demo view model', () => {
  it('follows the newest run', () => {
    expect(currentRun(undefined)).toBeNull();
    const older = { ...run, server: 'a' };
    expect(
      currentRun({ available: true, speed: 1, paused: false, fleetTime: iso(START), servers: [], runs: [run, older] }),
    ).toBe(run);
  });

  it('charts the metric each scenario drives, and for healing the one the failure mode names', () => {
    expect(drivingMetric('memory_leak', null)).toBe('memory_percent');
    expect(drivingMetric('disk_fill', 'cpu')).toBe('disk_percent');
    expect(drivingMetric('cpu_runaway', null)).toBe('cpu_percent');
    expect(drivingMetric('network_saturation', null)).toBe('latency_ms');
    expect(drivingMetric('healthy', 'memory')).toBe('memory_percent');
    expect(drivingMetric('healthy', 'none')).toBe('cpu_percent');
  });

  it('maps speeds to the slider stops and says what they mean', () => {
    expect(SPEED_LADDER[speedIndex(1)]).toBe(1);
    expect(SPEED_LADDER[speedIndex(60)]).toBe(60);
    expect(SPEED_LADDER[speedIndex(3600)]).toBe(300);
    expect(SPEED_LADDER[speedIndex(55)]).toBe(60);
    expect(formatSpeed(300)).toBe('300×');
    expect(describeSpeed(1)).toBe('real time');
    expect(describeSpeed(300)).toBe('1 fleet hour every 12 s');
    expect(describeSpeed(10)).toBe('1 fleet hour every 6 min');
  });

  it('reads a precursor length: clamped to 0.5..12 h on half hours', () => {
    expect(parsePrecursor('4')).toBe(4);
    expect(parsePrecursor('2,5')).toBe(2.5);
    expect(parsePrecursor('0.1')).toBe(0.5);
    expect(parsePrecursor('40')).toBe(12);
    expect(parsePrecursor('3.3')).toBe(3.5);
    expect(parsePrecursor('')).toBeNull();
    expect(parsePrecursor('abc')).toBeNull();
  });

  it('tells an existing server from a new one, and infers the new one’s profile from its name', () => {
    const servers = [{ name: 'ppdb001', profile: 'database' as const }];
    expect(serverChoice('ppdb001', servers)).toEqual({
      name: 'ppdb001',
      error: null,
      isNew: false,
      profile: 'database',
    });
    expect(serverChoice(' web-new-01 ', servers)).toEqual({
      name: 'web-new-01',
      error: null,
      isNew: true,
      profile: 'web_api',
    });
    expect(serverChoice('zz9', servers).profile).toBe('generic');
    expect(serverChoice('', servers).error).toMatch(/Pick a server/);
    expect(serverChoice('bad name!', servers).error).toMatch(/letters, digits/);
  });

  it('stages the server: healthy, degrading from the warning level, critical from the critical level or the incident', () => {
    expect(demoStage(0.1, 'healthy')).toBe('healthy');
    expect(demoStage(0.3, 'healthy')).toBe('degrading');
    expect(demoStage(0.59, 'heavy_load')).toBe('degrading');
    expect(demoStage(0.6, 'healthy')).toBe('critical');
    expect(demoStage(0.05, 'critical_issue')).toBe('critical');
    expect(demoStage(null, 'healthy')).toBe('unknown');
  });

  const history: PredictionHistory = {
    server: 'ppweb001',
    points: [
      { time: iso(START - 3 * H), risk: 0.9, failureMode: 'memory', model: 'm@1' },
      { time: iso(START - 0.5 * H), risk: 0.05, failureMode: 'none', model: 'm@1' },
      { time: iso(START + 2 * H), risk: 0.35, failureMode: 'memory', model: 'm@1' },
      { time: iso(START + 1 * H), risk: 0.2, failureMode: 'memory', model: 'm@1' },
    ],
  };

  it('keeps the run’s risk points from an hour before it, in time order, and adds a newer latest prediction', () => {
    const points = runRiskPoints(history, run);
    expect(points.map((p) => p.risk)).toEqual([0.05, 0.2, 0.35]);
    expect(withLatest(points, { time: START + 2.5 * H, risk: 0.5 }).map((p) => p.risk)).toEqual([0.05, 0.2, 0.35, 0.5]);
    expect(withLatest(points, { time: START + 2 * H, risk: 0.5 })).toHaveLength(3);
    expect(withLatest(points, null)).toHaveLength(3);
    expect(runRiskPoints(undefined, run)).toEqual([]);
  });

  it('finds the first warning crossing after the start, and the lead it gives before the onset', () => {
    const points = runRiskPoints(history, run);
    // The 0.9 three hours before the start does not count: it is outside the run.
    const crossing = firstCrossing([{ time: START - H, risk: 0.9 }, ...points], 0.3, START);
    expect(crossing).toEqual({ time: START + 2 * H, risk: 0.35 });
    expect(leadTimeMs(crossing, run.onsetAt)).toBe(2 * H);
    expect(leadTimeMs(crossing, null)).toBeNull();
    expect(leadTimeMs(null, run.onsetAt)).toBeNull();
    expect(firstCrossing(points, 0.6, START)).toBeNull();
  });

  it('says what the warning bought, or what is awaited', () => {
    expect(formatLead(2 * H + 5 * 60_000)).toBe('2 h 05 min');
    expect(formatLead(40 * 60_000)).toBe('40 min');
    expect(describeLead(2 * H, run, START + 3 * H)).toBe('Warning 2 h before the incident.');
    expect(describeLead(-30 * 60_000, run, START + 5 * H)).toMatch(/only 30 min after the incident began/);
    expect(describeLead(null, run, START + H)).toMatch(/^Incident onset in 3 h/);
    expect(describeLead(null, run, START + 5 * H)).toMatch(/began before the risk reached/);
    expect(describeLead(null, { ...run, scenario: 'healthy', onsetAt: null }, START)).toMatch(/healed/);
    expect(describeLead(null, null, START)).toBe('');
  });

  it('frames the charts from an hour before the start to past the onset', () => {
    expect(chartWindow(run, null)).toEqual({ min: START - H, max: START + 4.5 * H });
    expect(chartWindow(run, START + 6 * H).max).toBe(START + 6 * H);
  });

  it('draws the risk with the warning and critical levels, the onset and the warning crossing', () => {
    const points = runRiskPoints(history, run);
    const option = demoRiskOption(points, run, theme, { crossing: { time: START + 2 * H, risk: 0.35 } });
    const [risk] = seriesOf(option);
    expect(risk!.data).toEqual(points.map((p) => [p.time, p.risk]));
    const marks = risk!.markLine!.data;
    expect(marks.filter((m) => m.yAxis !== undefined).map((m) => [m.name, m.yAxis])).toEqual([
      ['warning', 0.3],
      ['critical', 0.6],
    ]);
    expect(marks.find((m) => m.name === 'incident onset')?.xAxis).toBe(START + 4 * H);
    expect(marks.find((m) => m.name === 'warning reached')?.xAxis).toBe(START + 2 * H);
    const healing = demoRiskOption(points, { ...run, onsetAt: null }, theme, { crossing: null });
    expect(seriesOf(healing)[0]!.markLine!.data.some((m) => m.name === 'incident onset')).toBe(false);
  });

  it('draws the driving metric from the run’s samples, with its forecast band and thresholds', () => {
    const metrics: MetricsHistory = {
      server: 'ppweb001',
      profile: 'web_api',
      stepMinutes: 5,
      times: [iso(START - 2 * H), iso(START), iso(START + H)],
      metrics: { memory_percent: [40, 45, null] } as MetricsHistory['metrics'],
      states: ['healthy', 'healthy', null],
    };
    const samples = runMetricPoints(metrics, 'memory_percent', run);
    expect(samples).toEqual([
      [START, 45],
      [START + H, null],
    ]);
    const prediction = {
      forecast: [{ metric: 'memory_percent', p10: [50, 55], p50: [60, 70], p90: [65, 80] }],
    } as unknown as ServerPrediction;
    const forecast = metricForecast(prediction, [iso(START + 1.25 * H), iso(START + 1.5 * H)], 'memory_percent');
    expect(forecast?.p50).toEqual([
      [START + 1.25 * H, 60],
      [START + 1.5 * H, 70],
    ]);
    expect(metricForecast(prediction, [], 'memory_percent')).toBeNull();
    expect(metricForecast(prediction, [iso(START)], 'disk_percent')).toBeNull();
    const series = seriesOf(demoMetricOption(samples, forecast, 'memory_percent', run, theme));
    expect(series.map((s) => s.name)).toEqual(['Observed', 'P10', 'P10–P90', 'Forecast P50']);
    // The band is stacked on P10: its height is P90 - P10.
    expect(series[2]!.data).toEqual([
      [START + 1.25 * H, 15],
      [START + 1.5 * H, 25],
    ]);
    expect(series[0]!.markLine!.data.map((m) => m.yAxis ?? m.name)).toEqual([85, 95, 'incident onset']);
  });
});
