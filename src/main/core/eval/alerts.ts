/**
 * Alert-level scoring, as EVALUATION.md defines it: an alert threshold turns a score series into
 * alerts; alerts are matched to incidents (warned, lead time) or counted as false alarms.
 *
 * - An alert fires at a point whose score is >= the threshold while the server is armed; it then
 *   stays silent until the score drops below the threshold (re-arming). A gap between two
 *   consecutive points longer than `strideMs` (points inside an incident are skipped) re-arms too,
 *   so a score still high after an incident alerts again.
 * - A false alarm is an alert at t with no incident onset on that server in (t, t + horizon].
 * - An incident is warned when an alert fired at a in [onset - horizon, onset - minLead]; its lead
 *   time is onset - (the earliest such alert).
 */

export interface ScoredPoints {
  /** (N) server of each point, as an index into `servers`. */
  slot: Int32Array;
  /** (N) t, epoch ms; within a server, increasing. Points of a server are contiguous. */
  time: Float64Array;
  servers: readonly string[];
}

export interface IncidentRef {
  server: string;
  onset: number;
}

export interface AlertRules {
  /** Evaluation stride (30 min). */
  strideMs: number;
  /** Prediction horizon (8 h). */
  horizonMs: number;
  /** An alert must fire at least this long before onset to count (30 min). */
  minLeadMs: number;
}

export const DEFAULT_ALERT_RULES: AlertRules = {
  strideMs: 30 * 60_000,
  horizonMs: 8 * 3_600_000,
  minLeadMs: 30 * 60_000,
};

/** Indices of the points where an alert fires, in point order. */
export function alertIndices(
  points: ScoredPoints,
  scores: ArrayLike<number>,
  threshold: number,
  rules: AlertRules = DEFAULT_ALERT_RULES,
): number[] {
  const out: number[] = [];
  let armed = true;
  for (let i = 0; i < points.time.length; i++) {
    const newServer = i === 0 || points.slot[i] !== points.slot[i - 1];
    if (newServer || points.time[i]! - points.time[i - 1]! > rules.strideMs) armed = true;
    if (scores[i]! >= threshold) {
      if (armed) out.push(i);
      armed = false;
    } else armed = true;
  }
  return out;
}

/** Onsets by server, sorted. */
export function onsetsByServer(incidents: readonly IncidentRef[]): Map<string, Float64Array> {
  const m = new Map<string, number[]>();
  for (const x of incidents) {
    const list = m.get(x.server) ?? [];
    list.push(x.onset);
    m.set(x.server, list);
  }
  return new Map([...m].map(([k, v]) => [k, Float64Array.from(v).sort()]));
}

/** Whether a sorted list has a value in (lo, hi]. */
function anyIn(sorted: Float64Array | undefined, lo: number, hi: number): boolean {
  if (!sorted) return false;
  let a = 0;
  let b = sorted.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (sorted[mid]! <= lo) a = mid + 1;
    else b = mid;
  }
  return a < sorted.length && sorted[a]! <= hi;
}

export interface AlertOutcome {
  alerts: number;
  falseAlarms: number;
  /** Alert times by server. */
  alertTimes: Map<string, number[]>;
}

export function alertOutcome(
  points: ScoredPoints,
  scores: ArrayLike<number>,
  threshold: number,
  onsets: Map<string, Float64Array>,
  rules: AlertRules = DEFAULT_ALERT_RULES,
): AlertOutcome {
  const idx = alertIndices(points, scores, threshold, rules);
  const alertTimes = new Map<string, number[]>();
  let falseAlarms = 0;
  for (const i of idx) {
    const server = points.servers[points.slot[i]!]!;
    const t = points.time[i]!;
    if (!anyIn(onsets.get(server), t, t + rules.horizonMs)) falseAlarms++;
    const list = alertTimes.get(server) ?? [];
    list.push(t);
    alertTimes.set(server, list);
  }
  return { alerts: idx.length, falseAlarms, alertTimes };
}

/** Lead time (ms) of each incident: onset - earliest alert in [onset - horizon, onset - minLead], or null when not warned. */
export function leadTimes(
  incidents: readonly IncidentRef[],
  alertTimes: Map<string, number[]>,
  rules: AlertRules = DEFAULT_ALERT_RULES,
): (number | null)[] {
  return incidents.map((x) => {
    const times = alertTimes.get(x.server) ?? [];
    let best: number | null = null;
    for (const a of times) {
      if (a >= x.onset - rules.horizonMs && a <= x.onset - rules.minLeadMs) {
        best = x.onset - a;
        break;
      }
    }
    return best;
  });
}

/** Server-weeks covered by the points: each point stands for one stride of one server. */
export function serverWeeks(points: ScoredPoints, rules: AlertRules = DEFAULT_ALERT_RULES): number {
  return (points.time.length * rules.strideMs) / (7 * 86_400_000);
}

/** Up to `max` candidate thresholds: quantiles of the distinct scores, ascending. */
export function candidateThresholds(scores: ArrayLike<number>, max = 400): number[] {
  const sorted = Float64Array.from(scores).sort();
  const distinct: number[] = [];
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
  if (distinct.length <= max) return distinct;
  const out = new Set<number>();
  for (let k = 0; k < max; k++) out.add(distinct[Math.round((k * (distinct.length - 1)) / (max - 1))]!);
  return [...out].sort((a, b) => a - b);
}

export interface ThresholdChoice {
  threshold: number;
  falseAlarmsPerServerWeek: number;
  /** False-alarm rate at each candidate tried, top down (for the report). */
  tried: number;
}

/**
 * The lowest threshold such that it and every higher candidate give at most `maxPerWeek` false
 * alarms per server-week (walking down from the top and stopping at the first violation, so a
 * low threshold that alerts once and never re-arms cannot win). When even the top candidate
 * violates, returns just above the highest score (never alerts).
 */
export function chooseThreshold(
  points: ScoredPoints,
  scores: ArrayLike<number>,
  onsets: Map<string, Float64Array>,
  maxPerWeek = 1,
  rules: AlertRules = DEFAULT_ALERT_RULES,
): ThresholdChoice {
  const weeks = serverWeeks(points, rules);
  const candidates = candidateThresholds(scores);
  let chosen: ThresholdChoice | null = null;
  let tried = 0;
  for (let k = candidates.length - 1; k >= 0; k--) {
    tried++;
    const o = alertOutcome(points, scores, candidates[k]!, onsets, rules);
    const rate = weeks > 0 ? o.falseAlarms / weeks : 0;
    if (rate > maxPerWeek) break;
    chosen = { threshold: candidates[k]!, falseAlarmsPerServerWeek: rate, tried };
  }
  if (chosen) return { ...chosen, tried };
  const top = candidates.length > 0 ? candidates[candidates.length - 1]! : 0;
  return { threshold: top + Math.max(1e-9, Math.abs(top) * 1e-9), falseAlarmsPerServerWeek: 0, tried };
}

