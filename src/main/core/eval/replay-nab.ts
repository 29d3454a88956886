/**
 * Replay on the NAB AWS CloudWatch files (../shared/datasets/nab-aws/, not in the project):
 * every file whose metric maps onto the data contract is replayed (replayHistory), then each
 * labelled anomaly window is checked for alarms of three scores:
 *   - anomaly: the model's anomaly score (actual outside the P10-P90 band of its first step),
 *     known at t + one step;
 *   - risk: the model's incident risk at t;
 *   - reactive (baseline): the raw value, the maximum sample in (t - step, t].
 *
 * Thresholds are never tuned on the windows. Two rules, applied alike to every score:
 *   - `probation`: NAB's probationary period (the first 15 % of each file's time span, where
 *     NAB scores nothing; here counted from the first step the model can score, 24 h in):
 *     threshold = the score's maximum there; alarm when a later score
 *     exceeds it ("higher than anything seen while learning the series").
 *   - `fixed`: a-priori values: anomaly score > 1 (more than one band width outside the
 *     80 % band), risk > 0.5, raw value above the contract's warning threshold (none for network).
 * Alarms inside the probationary period are ignored, and windows over by then are not scored. A window is detected when an alarm
 * starts or is on inside [start, end]; the lead is measured from the alarm to the window's
 * centre (NAB centres windows on the labelled anomaly; positive = before it). A false alarm
 * is an alarm onset (alarm now, none on the previous grid step) outside every window.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { METRIC_BY_NAME, type MetricName } from '@shared/contract';
import { readSamplesFile } from '../metrics/io';
import { stepMs, type FeatureSpec } from '../model/features';
import type { InferenceSession } from '../model/infer';
import { replayHistory, type ReplayRow } from './replay';
import { median } from '../util/stats';

export const NAB_PROBATION_SHARE = 0.15;
/** CloudWatch NetworkIn: bytes per 5-minute period -> Mbit/s. */
export const BYTES_PER_5MIN_TO_MBPS = 8 / 300 / 1e6;

export interface NabMapping {
  metric: MetricName;
  scale: number;
  note: string;
}

/** The contract metric closest to a NAB file's metric, or why there is none. */
export function nabMapping(file: string): NabMapping | { skip: string } {
  const name = file.toLowerCase();
  if (name.includes('cpu_utilization'))
    return { metric: 'cpu_percent', scale: 1, note: 'CloudWatch CPUUtilization (%) as cpu_percent' };
  if (name.includes('network_in') || name.includes('networkin'))
    return {
      metric: 'network_in_mbps',
      scale: BYTES_PER_5MIN_TO_MBPS,
      note: 'CloudWatch NetworkIn (bytes per 5-minute period) x 8 / 300 / 1e6 = Mbit/s; not a model target, so risk only',
    };
  if (name.includes('disk_write_bytes'))
    return {
      skip: 'disk write bytes: the contract has no disk-throughput metric (disk_percent is space used, iowait_percent is time waiting)',
    };
  return { skip: 'the file does not say which metric it holds' };
}

type ScoreName = 'anomaly' | 'risk' | 'reactive';
const SCORES: readonly ScoreName[] = ['anomaly', 'risk', 'reactive'];
type RuleName = 'probation' | 'fixed';

interface Series {
  /** When each value is known (epoch ms), ascending. */
  time: number[];
  value: (number | null)[];
}

export interface WindowResult {
  start: string;
  end: string;
  detected: boolean;
  firstAlarm: string | null;
  /** Minutes from the first alarm to the window's centre (positive = before the labelled anomaly). */
  leadMinutesBeforeCentre: number | null;
}

export interface ScoreResult {
  threshold: number | null;
  windows: WindowResult[];
  detected: number;
  falseAlarms: number;
}

export interface NabFileResult {
  file: string;
  skipped?: string;
  metric?: MetricName;
  mapping?: string;
  rows?: number;
  days?: number;
  /** Labelled windows scored (those ending after the probationary period). */
  windows?: number;
  /** Labelled windows over before the model's first 24 h of context plus the probation: not scorable. */
  windowsBeforeScoring?: number;
  results?: Record<RuleName, Record<ScoreName, ScoreResult | null>>;
}

export interface NabReport {
  dataset: string;
  rules: Record<RuleName, string>;
  files: NabFileResult[];
  headline: Record<
    RuleName,
    Record<
      ScoreName,
      {
        windows: number;
        detected: number;
        medianLeadMinutes: number | null;
        falseAlarms: number;
        falseAlarmsPerDay: number;
      }
    >
  >;
}

export interface NabOptions {
  dir: string;
  spec: FeatureSpec;
  session: InferenceSession;
  knownServers: ReadonlySet<string>;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

const parseNabTime = (s: string): number => Date.parse(`${s.trim().replace(' ', 'T').slice(0, 19)}Z`);
const iso = (t: number): string => new Date(t).toISOString();

function evaluate(
  series: Series,
  threshold: number | null,
  windows: [number, number][],
  probationEnd: number,
): ScoreResult | null {
  if (threshold === null) return null;
  const results: WindowResult[] = windows.map(([s, e]) => ({
    start: iso(s),
    end: iso(e),
    detected: false,
    firstAlarm: null,
    leadMinutesBeforeCentre: null,
  }));
  let falseAlarms = 0;
  let previous = false;
  for (let i = 0; i < series.time.length; i++) {
    const t = series.time[i]!;
    const v = series.value[i];
    const alarm = t > probationEnd && v !== null && v !== undefined && v > threshold;
    if (alarm) {
      const w = windows.findIndex(([s, e]) => t >= s && t <= e);
      if (w >= 0) {
        const r = results[w]!;
        if (!r.detected) {
          r.detected = true;
          r.firstAlarm = iso(t);
          r.leadMinutesBeforeCentre = Math.round(((windows[w]![0] + windows[w]![1]) / 2 - t) / 60_000);
        }
      } else if (!previous) falseAlarms++;
    }
    previous = alarm;
  }
  return { threshold, windows: results, detected: results.filter((r) => r.detected).length, falseAlarms };
}

export async function replayNab(options: NabOptions): Promise<NabReport> {
  const { dir, spec, signal } = options;
  const labels = JSON.parse(await readFile(join(dir, 'anomaly_windows.json'), 'utf8')) as Record<
    string,
    [string, string][]
  >;
  const files = (await readdir(dir)).filter((f) => f.endsWith('.csv')).sort();
  const ms = stepMs(spec);
  const out: NabFileResult[] = [];
  for (const file of files) {
    signal?.throwIfAborted();
    const mapping = nabMapping(file);
    if ('skip' in mapping) {
      out.push({ file, skipped: mapping.skip });
      options.log?.(`${file}: skipped (${mapping.skip})`);
      continue;
    }
    const server = basename(file, '.csv');
    const read = await readSamplesFile(join(dir, file), {
      series: { server, metric: mapping.metric, scale: mapping.scale },
      ...(signal ? { signal } : {}),
    });
    const rows: ReplayRow[] = [];
    await replayHistory({
      columns: read.columns,
      spec,
      session: options.session,
      knownServers: options.knownServers,
      metric: mapping.metric,
      ...(signal ? { signal } : {}),
      onRows: (batch) => void rows.push(...batch),
    });
    const ts = read.columns.timestamp;
    const col = read.columns.metrics[mapping.metric];
    let last = -Infinity;
    for (let i = 0; i < ts.length; i++) last = Math.max(last, ts[i]!);
    // Counted from the first step the model can score (the first 24 h are its context).
    const first = rows.length ? rows[0]!.time : last;
    const probationEnd = first + NAB_PROBATION_SHARE * (last - first);
    // Raw maximum per step (t - step, t], from the samples.
    const rawMax = new Map<number, number>();
    for (let i = 0; i < ts.length; i++) {
      if (!col.present[i] || !Number.isFinite(col.values[i]!)) continue;
      const t = Math.ceil(ts[i]! / ms) * ms;
      rawMax.set(t, Math.max(rawMax.get(t) ?? -Infinity, col.values[i]!));
    }
    const series: Record<ScoreName, Series> = {
      anomaly: { time: rows.map((r) => r.time + ms), value: rows.map((r) => r.anomalyScore) },
      risk: { time: rows.map((r) => r.time), value: rows.map((r) => r.risk) },
      reactive: { time: rows.map((r) => r.time), value: rows.map((r) => rawMax.get(r.time) ?? null) },
    };
    const labelled = (labels[file] ?? []).map(([s, e]) => [parseNabTime(s), parseNabTime(e)] as [number, number]);
    // A window over before the probation ends cannot be scored by any rule (for the baseline neither).
    const windows = labelled.filter(([, e]) => e > probationEnd);
    const warning = METRIC_BY_NAME[mapping.metric].warning;
    const fixed: Record<ScoreName, number | null> = {
      anomaly: rows.some((r) => r.anomalyScore !== null) ? 1 : null,
      risk: 0.5,
      reactive: warning,
    };
    const results = { probation: {}, fixed: {} } as Record<RuleName, Record<ScoreName, ScoreResult | null>>;
    for (const score of SCORES) {
      const s = series[score];
      let max: number | null = null;
      s.time.forEach((t, i) => {
        const v = s.value[i];
        if (t <= probationEnd && v !== null && v !== undefined) max = Math.max(max ?? -Infinity, v);
      });
      results.probation[score] = evaluate(s, max, windows, probationEnd);
      results.fixed[score] = evaluate(s, fixed[score], windows, probationEnd);
    }
    const days = Math.round(((last - probationEnd) / 86_400_000) * 100) / 100;
    out.push({
      file,
      metric: mapping.metric,
      mapping: mapping.note,
      rows: rows.length,
      days,
      windows: windows.length,
      ...(labelled.length > windows.length ? { windowsBeforeScoring: labelled.length - windows.length } : {}),
      results,
    });
    options.log?.(`${file}: ${rows.length} steps replayed, ${windows.length} labelled window(s)`);
  }
  const headline = { probation: {}, fixed: {} } as NabReport['headline'];
  for (const rule of ['probation', 'fixed'] as const)
    for (const score of SCORES) {
      let windows = 0;
      let detected = 0;
      let falseAlarms = 0;
      let days = 0;
      const leads: number[] = [];
      for (const f of out) {
        if (!f.results) continue;
        windows += f.windows!;
        days += f.days!;
        const r = f.results[rule][score];
        if (!r) continue;
        detected += r.detected;
        falseAlarms += r.falseAlarms;
        for (const w of r.windows) if (w.leadMinutesBeforeCentre !== null) leads.push(w.leadMinutesBeforeCentre);
      }
      headline[rule][score] = {
        windows,
        detected,
        medianLeadMinutes: leads.length ? median(leads) : null,
        falseAlarms,
        falseAlarmsPerDay: days > 0 ? Math.round((falseAlarms / days) * 1000) / 1000 : 0,
      };
    }
  return {
    dataset: dir,
    rules: {
      probation: `threshold = the score's maximum over the first ${NAB_PROBATION_SHARE * 100} % of each file's replayed time span (NAB's probationary share, from the first step the model can score); alarm when above it afterwards; windows over before then are not scored`,
      fixed:
        'anomaly score > 1 band width; risk > 0.5; raw value > the contract warning threshold (cpu_percent 85; none for network)',
    },
    files: out,
    headline,
  };
}
