/**
 * The early-warning benchmark of EVALUATION.md in one run: a validation fleet (Holt parameters and
 * every method's alert threshold are chosen there, then frozen) and an evaluation fleet of
 * servers the model never saw, both simulated with seeds other than the training seed. Returns
 * the whole report as one JSON-serialisable object.
 */
import { PROFILES } from '@shared/contract';
import type { Incident } from '@shared/domain';
import { defaultFleet } from '../metrics/simulator/fleet-sim';
import { generateFleet, type GeneratedFleet } from '../metrics/simulator/generate';
import { expectedTensors, loadModelFolder } from '../model/folder';
import { createInferenceSession } from '../model/infer';
import { combineUpstreamRisk } from '../model/upstream-risk';
import { createMemoryLogger } from '../util/logger';
import { quantile } from '../util/stats';
import {
  alertOutcome,
  chooseThreshold,
  DEFAULT_ALERT_RULES,
  leadTimes,
  onsetsByServer,
  serverWeeks,
  type AlertRules,
} from './alerts';
import { baselineScores, BASELINES, holtScores, HOLT_GRID, seriesByServer, type HoltParams } from './baselines';
import { expectedCalibrationError, prCurve, reliabilityBins, type ReliabilityBin } from './forecast-metrics';
import { auprc, auroc, brierScore } from './ranking';
import { scoreFleet, type FleetScores, type ForecastExample } from './score-fleet';

export interface EvaluateOptions {
  modelDir: string;
  servers?: number;
  days?: number;
  seedValidation?: string;
  seedEval?: string;
  /** First index of the server names (defaultFleet): unseen in training. */
  validationFirstIndex?: number;
  evalFirstIndex?: number;
  validationStart?: number;
  evalStart?: number;
  onPhase?: (phase: string, done: number, total: number) => void;
  signal?: AbortSignal;
  now?: () => Date;
}

export const EVALUATE_DEFAULTS = {
  servers: 30,
  days: 30,
  seedValidation: 'tftmp-validation',
  seedEval: 'tftmp-eval',
  validationFirstIndex: 300,
  evalFirstIndex: 500,
  validationStart: Date.UTC(2024, 2, 1),
  evalStart: Date.UTC(2024, 3, 1),
};

const HOUR = 3_600_000;
const MAX_FA_PER_SERVER_WEEK = 1;
/** The report's row for the TFT's risk without the upstream term (when the model has one). */
export const MODEL_ALONE = 'model_without_topology';

/**
 * Each point's risk with its server's upstream carried over (combineUpstreamRisk): the upstream's
 * risk at the same t, from the same scoring run (both read only data <= t). A server without an
 * upstream, or whose upstream has no point at t (inside an incident, or no data), keeps its own.
 */
export function withUpstreamRisk(scores: FleetScores, dependencies: ReadonlyMap<string, string>, coefficient: number): Float64Array {
  const { points, risk } = scores;
  const slotOf = new Map(points.servers.map((name, slot) => [name, slot]));
  const at = new Map<number, Map<number, number>>();
  for (let i = 0; i < risk.length; i++) {
    const slot = points.slot[i]!;
    let bySlot = at.get(slot);
    if (!bySlot) at.set(slot, (bySlot = new Map<number, number>()));
    bySlot.set(points.time[i]!, risk[i]!);
  }
  return Float64Array.from(risk, (r, i) => {
    const upstream = dependencies.get(points.servers[points.slot[i]!]!);
    const upSlot = upstream === undefined ? undefined : slotOf.get(upstream);
    const upRisk = upSlot === undefined ? undefined : at.get(upSlot)?.get(points.time[i]!);
    return upRisk === undefined ? r : combineUpstreamRisk(r, upRisk, coefficient);
  });
}

export interface Recall {
  warned: number;
  incidents: number;
  recall: number | null;
  /** Median lead time of the warned ones, hours (null: none warned). */
  medianLeadHours: number | null;
}

export interface MethodReport {
  auroc: number | null;
  auprc: number | null;
  /** Probability scores only (the model). */
  brier?: number | null;
  ece?: number | null;
  threshold: number;
  validationFalseAlarmsPerServerWeek: number;
  /**
   * Recall on the validation fleet at the same threshold (in-sample for the threshold): what
   * training settings are compared on, so that no choice looks at the evaluation fleet.
   */
  validationRecall: { withPrecursor: Recall; byTypeWithPrecursor: Record<string, Recall>; medianLeadHours: number | null };
  alerts: number;
  falseAlarms: number;
  falseAlarmsPerServerDay: number;
  falseAlarmsPerServerWeek: number;
  recall: { all: Recall; withPrecursor: Recall; sudden: Recall };
  leadTimeHours: { median: number | null; p10: number | null; values: number[] };
  recallByType: Record<string, Recall>;
  /** The same, counting only incidents with a precursor (the sudden ones no score can warn of). */
  recallByTypeWithPrecursor: Record<string, Recall>;
  recallByProfile: Record<string, Recall>;
  prCurve: { recall: number; precision: number }[];
}

export interface Goal {
  id: string;
  goal: string;
  value: number | null;
  target: string;
  met: boolean;
}

export interface EvaluationReport {
  report: 'early-warning-benchmark';
  createdAt: string;
  model: {
    dir: string;
    name: string;
    version: string;
    trainingServers: number;
    /**
     * The upstream term (model.json training.cascade) the served risk adds along the fleet's
     * topology; null when the model has none, and then `model` is the TFT's risk alone.
     */
    cascade: { coefficient: number; pairs: number; followed: number; followWindowMinutes: number } | null;
  };
  definitions: Record<string, string>;
  fleets: { validation: FleetInfo; evaluation: FleetInfo };
  holt: HoltParams & { chosenBy: string };
  methods: Record<string, MethodReport>;
  calibration: ReliabilityBin[];
  forecast: Record<
    string,
    {
      points: number;
      pinballP10: number;
      pinballP50: number;
      pinballP90: number;
      mase: number | null;
      maeP50: number;
      maeSeasonalNaive: number;
    }
  >;
  forecastExamples: ForecastExample[];
  goals: Goal[];
  seconds: number;
}

export interface FleetInfo {
  seed: string;
  servers: number;
  days: number;
  start: string;
  firstServerIndex: number;
  points: number;
  positivePoints: number;
  incidents: number;
  /** Incidents whose warning window [onset - 8 h, onset - 30 min] lies within the evaluated points. */
  scoredIncidents: number;
  unseenServers: number;
  unseenByProfile: Record<string, number>;
  serverWeeks: number;
}

const num = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : null);

export async function runEvaluation(options: EvaluateOptions): Promise<EvaluationReport> {
  const started = performance.now();
  const o = { ...EVALUATE_DEFAULTS, ...stripUndefined(options), modelDir: options.modelDir };
  const rules: AlertRules = DEFAULT_ALERT_RULES;
  const phase = options.onPhase ?? ((): void => undefined);
  const model = await loadModelFolder(o.modelDir);
  const spec = model.manifest.featureSpec;
  const trained = new Set(model.manifest.training.dataset.trainingServers);
  const hours = o.days * 24;
  const check = (): void => {
    if (options.signal?.aborted)
      throw options.signal.reason instanceof Error
        ? options.signal.reason
        : new Error(String(options.signal.reason ?? 'aborted'));
  };

  const generate = (label: string, seed: string, start: number, firstIndex: number): GeneratedFleet => {
    const fleet = generateFleet({
      seed,
      start,
      servers: defaultFleet(o.servers, firstIndex),
      hours,
      onProgress: (d, t) => phase(`generate ${label}`, d, t),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    phase(`generate ${label}`, 1, 1);
    return fleet;
  };

  const session = await createInferenceSession({
    modelBytes: model.onnxBytes,
    ...expectedTensors(model.manifest),
    provider: 'cpu',
    logger: createMemoryLogger(),
  });
  let validation: { fleet: GeneratedFleet; scores: FleetScores };
  let evaluation: { fleet: GeneratedFleet; scores: FleetScores };
  try {
    const vFleet = generate('validation fleet', o.seedValidation, o.validationStart, o.validationFirstIndex);
    check();
    const vScores = await scoreFleet({
      columns: vFleet.columns,
      incidents: vFleet.incidents,
      spec,
      session,
      knownServers: trained,
      onProgress: (d, t) => phase('score validation fleet', d, t),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    validation = { fleet: vFleet, scores: vScores };
    check();
    const eFleet = generate('evaluation fleet', o.seedEval, o.evalStart, o.evalFirstIndex);
    check();
    const examples = pickExampleIncidents(eFleet.incidents, spec.targets);
    const eScores = await scoreFleet({
      columns: eFleet.columns,
      incidents: eFleet.incidents,
      spec,
      session,
      knownServers: trained,
      exampleIncidents: examples,
      onProgress: (d, t) => phase('score evaluation fleet', d, t),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    evaluation = { fleet: eFleet, scores: eScores };
  } finally {
    await session.close();
  }

  // Holt's alpha and beta: the best validation AUPRC over the grid.
  const vSeries = seriesByServer(validation.fleet.columns);
  let holt: HoltParams = HOLT_GRID[0]!;
  let bestHolt = -Infinity;
  HOLT_GRID.forEach((p, k) => {
    check();
    const a = auprc(holtScores(validation.scores.points, vSeries, p, rules.horizonMs), validation.scores.labels);
    if (a > bestHolt) {
      bestHolt = a;
      holt = p;
    }
    phase('fit Holt on validation', k + 1, HOLT_GRID.length);
  });
  check();
  phase('baselines', 0, 2);
  const vBase = baselineScores(validation.scores.points, vSeries, { horizonMs: rules.horizonMs, holt });
  phase('baselines', 1, 2);
  const eSeries = seriesByServer(evaluation.fleet.columns);
  const eBase = baselineScores(evaluation.scores.points, eSeries, { horizonMs: rules.horizonMs, holt });
  phase('baselines', 2, 2);

  const vScored = scoredIncidents(validation.fleet.incidents, validation.scores.range, rules);
  const vOnsets = onsetsByServer(validation.fleet.incidents);
  const eOnsets = onsetsByServer(evaluation.fleet.incidents);
  const e = evaluation.scores;
  const scored = scoredIncidents(evaluation.fleet.incidents, e.range, rules);
  const profileOf = new Map(e.points.servers.map((s, i) => [s, e.profiles[i]!]));
  const eWeeks = serverWeeks(e.points, rules);

  // The served risk: the TFT's, plus its upstream's carried over the simulator's topology (what
  // the app serves on a simulated fleet); the TFT alone as its own row, to show what each does.
  const cascade = model.manifest.training.cascade ?? null;
  const served = (fleet: GeneratedFleet, scores: FleetScores): Float64Array =>
    cascade ? withUpstreamRisk(scores, fleet.dependencies, cascade.coefficient) : scores.risk;
  const eServed = served(evaluation.fleet, e);
  const methodScores: Record<string, { v: Float64Array; e: Float64Array }> = {
    model: { v: served(validation.fleet, validation.scores), e: eServed },
    ...(cascade ? { [MODEL_ALONE]: { v: validation.scores.risk, e: e.risk } } : {}),
  };
  for (const b of BASELINES) methodScores[b] = { v: vBase[b], e: eBase[b] };

  /** Recall over `incidents` (those `keep` accepts), each warned when its lead is not null. */
  const recallIn =
    (incidents: readonly Incident[], leadOf: readonly (number | null)[]) =>
    (keep: (x: Incident) => boolean): Recall => {
      let total = 0;
      const leads: number[] = [];
      incidents.forEach((x, i) => {
        if (!keep(x)) return;
        total++;
        const lead = leadOf[i];
        if (lead !== null && lead !== undefined) leads.push(lead / HOUR);
      });
      return { warned: leads.length, incidents: total, recall: total > 0 ? num(leads.length / total) : null, medianLeadHours: num(quantile(leads, 0.5)) };
    };
  const methods: Record<string, MethodReport> = {};
  for (const [name, s] of Object.entries(methodScores)) {
    check();
    const choice = chooseThreshold(validation.scores.points, s.v, vOnsets, MAX_FA_PER_SERVER_WEEK, rules);
    const outcome = alertOutcome(e.points, s.e, choice.threshold, eOnsets, rules);
    const leads = leadTimes(scored, outcome.alertTimes, rules);
    const recallOf = recallIn(scored, leads);
    const vOutcome = alertOutcome(validation.scores.points, s.v, choice.threshold, vOnsets, rules);
    const vLeads = leadTimes(vScored, vOutcome.alertTimes, rules);
    const vRecallOf = recallIn(vScored, vLeads);
    const vTypes = [...new Set(vScored.filter((x) => x.precursor).map((x) => x.type))].sort();
    const leadHours = leads.filter((l): l is number => l !== null).map((l) => l / HOUR);
    const types = [...new Set(scored.map((x) => x.type))].sort();
    const profiles = PROFILES.filter((p) => scored.some((x) => profileOf.get(x.server) === p));
    methods[name] = {
      auroc: num(auroc(s.e, e.labels)),
      auprc: num(auprc(s.e, e.labels)),
      ...(name === 'model' || name === MODEL_ALONE
        ? { brier: num(brierScore(s.e, e.labels)), ece: num(expectedCalibrationError(s.e, e.labels, 10)) }
        : {}),
      threshold: choice.threshold,
      validationFalseAlarmsPerServerWeek: num(choice.falseAlarmsPerServerWeek) ?? 0,
      validationRecall: {
        withPrecursor: vRecallOf((x) => x.precursor),
        byTypeWithPrecursor: Object.fromEntries(vTypes.map((t) => [t, vRecallOf((x) => x.type === t && x.precursor)])),
        medianLeadHours: num(quantile(vLeads.filter((l): l is number => l !== null).map((l) => l / HOUR), 0.5)),
      },
      alerts: outcome.alerts,
      falseAlarms: outcome.falseAlarms,
      falseAlarmsPerServerDay: num(eWeeks > 0 ? outcome.falseAlarms / (eWeeks * 7) : 0) ?? 0,
      falseAlarmsPerServerWeek: num(eWeeks > 0 ? outcome.falseAlarms / eWeeks : 0) ?? 0,
      recall: {
        all: recallOf(() => true),
        withPrecursor: recallOf((x) => x.precursor),
        sudden: recallOf((x) => !x.precursor),
      },
      leadTimeHours: {
        median: num(quantile(leadHours, 0.5)),
        p10: num(quantile(leadHours, 0.1)),
        values: leadHours.map((h) => num(h) ?? 0),
      },
      recallByType: Object.fromEntries(types.map((t) => [t, recallOf((x) => x.type === t)])),
      recallByTypeWithPrecursor: Object.fromEntries(
        types
          .filter((t) => scored.some((x) => x.type === t && x.precursor))
          .map((t) => [t, recallOf((x) => x.type === t && x.precursor)]),
      ),
      recallByProfile: Object.fromEntries(profiles.map((p) => [p, recallOf((x) => profileOf.get(x.server) === p)])),
      prCurve: prCurve(s.e, e.labels, 150).map((p) => ({
        recall: num(p.recall) ?? 0,
        precision: num(p.precision) ?? 0,
      })),
    };
  }

  const forecast: EvaluationReport['forecast'] = {};
  for (const [metric, f] of Object.entries(e.forecast)) {
    const at = (q: number): number =>
      f.pinball[
        spec.quantiles.reduce((best, x, i) => (Math.abs(x - q) < Math.abs(spec.quantiles[best]! - q) ? i : best), 0)
      ]!;
    forecast[metric] = {
      points: f.points,
      pinballP10: num(at(0.1)) ?? NaN,
      pinballP50: num(at(0.5)) ?? NaN,
      pinballP90: num(at(0.9)) ?? NaN,
      mase: num(f.mase),
      maeP50: num(f.maeMedian) ?? NaN,
      maeSeasonalNaive: num(f.maeNaive) ?? NaN,
    };
  }

  const m = methods.model!;
  const bestBaseline = Math.max(...BASELINES.map((b) => methods[b]!.auprc ?? 0));
  const goals: Goal[] = [
    {
      id: 'auprc_vs_baselines',
      goal: 'model AUPRC at least 2x the best baseline AUPRC',
      value: m.auprc !== null && bestBaseline > 0 ? num(m.auprc / bestBaseline) : null,
      target: '>= 2',
      met: m.auprc !== null && m.auprc >= 2 * bestBaseline,
    },
    {
      id: 'precursor_recall',
      goal: 'recall of incidents with a precursor >= 0.9 at <= 1 false alarm per server-week (threshold from validation, both measured on the evaluation fleet)',
      value: m.recall.withPrecursor.recall,
      target: `>= 0.9 with false alarms/server-week <= 1 (measured ${m.falseAlarmsPerServerWeek})`,
      met: (m.recall.withPrecursor.recall ?? 0) >= 0.9 && m.falseAlarmsPerServerWeek <= MAX_FA_PER_SERVER_WEEK,
    },
    {
      id: 'median_lead',
      goal: 'median lead time of warned incidents >= 2 h',
      value: m.leadTimeHours.median,
      target: '>= 2 h',
      met: (m.leadTimeHours.median ?? 0) >= 2,
    },
    {
      id: 'ece',
      goal: 'expected calibration error of the risk (10 bins) <= 0.05',
      value: m.ece ?? null,
      target: '<= 0.05',
      met: m.ece !== null && m.ece !== undefined && m.ece <= 0.05,
    },
    ...Object.entries(forecast).map(([metric, f]) => ({
      id: `mase_${metric}`,
      goal: `MASE of the P50 forecast of ${metric} against the 1-day seasonal naive forecast < 1`,
      value: f.mase,
      target: '< 1',
      met: f.mase !== null && f.mase < 1,
    })),
  ];

  const info = (
    label: 'validation' | 'evaluation',
    seed: string,
    start: number,
    firstIndex: number,
    fleet: GeneratedFleet,
    s: FleetScores,
  ): FleetInfo => {
    const unseenByProfile: Record<string, number> = {};
    s.points.servers.forEach((server, i) => {
      if (!trained.has(server)) unseenByProfile[s.profiles[i]!] = (unseenByProfile[s.profiles[i]!] ?? 0) + 1;
    });
    void label;
    return {
      seed,
      servers: o.servers,
      days: o.days,
      start: new Date(start).toISOString(),
      firstServerIndex: firstIndex,
      points: s.labels.length,
      positivePoints: s.labels.reduce((a, y) => a + y, 0),
      incidents: fleet.incidents.length,
      scoredIncidents: scoredIncidents(fleet.incidents, s.range, rules).length,
      unseenServers: s.points.servers.filter((x) => !trained.has(x)).length,
      unseenByProfile,
      serverWeeks: num(serverWeeks(s.points, rules)) ?? 0,
    };
  };

  return {
    report: 'early-warning-benchmark',
    createdAt: (options.now?.() ?? new Date()).toISOString(),
    model: {
      dir: o.modelDir,
      name: model.manifest.name,
      version: model.manifest.version,
      trainingServers: trained.size,
      cascade,
    },
    definitions: DEFINITIONS,
    fleets: {
      validation: info(
        'validation',
        o.seedValidation,
        o.validationStart,
        o.validationFirstIndex,
        validation.fleet,
        validation.scores,
      ),
      evaluation: info('evaluation', o.seedEval, o.evalStart, o.evalFirstIndex, evaluation.fleet, e),
    },
    holt: {
      ...holt,
      chosenBy: `highest validation AUPRC over ${HOLT_GRID.length} (alpha, beta) pairs on 5-minute samples`,
    },
    methods,
    calibration: reliabilityBins(eServed, e.labels, 10),
    forecast,
    forecastExamples: e.examples,
    goals,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

/** Incidents whose warning window [onset - horizon, onset - minLead] lies within the server's evaluated points. */
export function scoredIncidents(
  incidents: readonly Incident[],
  range: Map<string, { first: number; last: number }>,
  rules: AlertRules = DEFAULT_ALERT_RULES,
): Incident[] {
  return incidents.filter((x) => {
    const r = range.get(x.server);
    return r !== undefined && x.onset - rules.horizonMs >= r.first && x.onset - rules.minLeadMs <= r.last;
  });
}

/** Up to 4 incidents with a precursor, of different types, whose driving metric the model forecasts. */
function pickExampleIncidents(incidents: readonly Incident[], targets: readonly string[]): Incident[] {
  const out: Incident[] = [];
  const types = new Set<string>();
  for (const x of incidents) {
    if (out.length >= 4) break;
    if (!x.precursor || types.has(x.type) || !targets.includes(x.metric)) continue;
    if (x.onset - 2 * HOUR < (incidents[0]?.onset ?? 0)) continue;
    types.add(x.type);
    out.push(x);
  }
  return out;
}

function stripUndefined<T extends object>(x: T): Partial<T> {
  return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export const DEFINITIONS: Record<string, string> = {
  points:
    "every 30 min after each server's first 24 h; positive when an incident begins in (t, t + 8 h]; points inside an ongoing incident skipped; a score at t reads only data <= t",
  auroc_auprc:
    'over all evaluation points of the evaluation fleet (AUPRC = average precision); the positive share is the AUPRC of a random score',
  model:
    "the risk the app serves: the TFT's risk at t, and where the fleet's topology is known (the simulator's: web, ingest and analytics servers depend on a database) its upstream's risk at t carried over, 1 - (1 - risk) x (1 - coefficient x upstream risk), with the coefficient counted in the training data (model.json training.cascade); model_without_topology is the TFT's risk alone",
  brier_ece:
    'model risk only: Brier = mean squared error of the risk; ECE = sum over 10 equal-width bins of (share of points) x |mean risk - positive rate|',
  alert:
    'an alert fires when the score reaches the threshold while armed; it re-arms when the score drops below the threshold or after a gap in the points (an incident)',
  false_alarm:
    'an alert at t with no incident onset on that server in (t, t + 8 h]; per server-day/week of evaluated points (each point = 30 min of one server)',
  threshold:
    'per method, on the validation fleet: the lowest threshold such that it and every higher candidate give at most 1 false alarm per server-week; then frozen for the evaluation fleet',
  warned:
    'an alert fired in [onset - 8 h, onset - 30 min]; lead time = onset - the earliest such alert. Incidents count when that window lies inside the evaluated points',
  baselines:
    'score = highest share of its critical threshold over the contract metrics that have one (cpu, memory, disk, iowait, swap, latency, error rate). reactive: highest sample in (t - 30 min, t]; predict_linear_1h/6h: least-squares line over (t - 1 h, t] / (t - 6 h, t] evaluated at t + 8 h; seasonal_naive: highest sample in (t - 24 h, t - 16 h]; holt: highest point of the 8 h Holt forecast',
  forecast:
    'model quantile forecasts of the 30-min step means over the 8 h horizon, metric units; points = (evaluation point, horizon step) pairs with an observed value; pinball loss per quantile averaged over points and steps; MASE = sum |actual - P50| / sum |actual - same step one day earlier| on the steps where both exist (< 1: better than seasonal naive)',
};
