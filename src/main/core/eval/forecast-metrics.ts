/** Calibration of a probability and quality of quantile forecasts. */

export interface ReliabilityBin {
  /** [lo, hi) (the last bin includes 1). */
  lo: number;
  hi: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

/** Equal-width reliability bins over [0, 1]. */
export function reliabilityBins(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  bins = 10,
): ReliabilityBin[] {
  if (probabilities.length !== labels.length)
    throw new Error(`${probabilities.length} probabilities for ${labels.length} labels`);
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (!(p >= 0 && p <= 1)) throw new Error(`probability ${i} is ${p}, outside [0, 1]`);
    const b = Math.min(bins - 1, Math.floor(p * bins));
    count[b]!++;
    sumP[b]! += p;
    sumY[b]! += labels[i]!;
  }
  return Array.from({ length: bins }, (_, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    count: count[b]!,
    meanPredicted: count[b]! > 0 ? sumP[b]! / count[b]! : NaN,
    observedRate: count[b]! > 0 ? sumY[b]! / count[b]! : NaN,
  }));
}

/** Expected calibration error: sum over bins of (bin share) x |mean predicted - observed rate|. */
export function expectedCalibrationError(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  bins = 10,
): number {
  const n = probabilities.length;
  if (n === 0) return NaN;
  return reliabilityBins(probabilities, labels, bins).reduce(
    (a, b) => (b.count > 0 ? a + (b.count / n) * Math.abs(b.meanPredicted - b.observedRate) : a),
    0,
  );
}

/** Pinball (quantile) loss of forecast f for quantile q at actual y. */
export function pinball(y: number, f: number, q: number): number {
  const d = y - f;
  return d >= 0 ? q * d : (q - 1) * d;
}

/** Accumulates a per-metric forecast's losses: pinball per quantile, absolute errors of the median and of a reference forecast. */
export class ForecastAccumulator {
  private readonly pinballSum: Float64Array;
  private n = 0;
  private absModel = 0;
  private absNaive = 0;
  private naiveN = 0;

  constructor(readonly quantiles: readonly number[]) {
    this.pinballSum = new Float64Array(quantiles.length);
  }

  /** `forecast[k]` = the forecast for quantiles[k]; `median` index into quantiles; `naive` NaN when unavailable. */
  add(y: number, forecast: ArrayLike<number>, medianIndex: number, naive: number): void {
    for (let k = 0; k < this.quantiles.length; k++) this.pinballSum[k]! += pinball(y, forecast[k]!, this.quantiles[k]!);
    this.n++;
    if (Number.isFinite(naive)) {
      this.absModel += Math.abs(y - forecast[medianIndex]!);
      this.absNaive += Math.abs(y - naive);
      this.naiveN++;
    }
  }

  result(): { points: number; pinball: number[]; mase: number; maeMedian: number; maeNaive: number } {
    return {
      points: this.n,
      pinball: Array.from(this.pinballSum, (s) => (this.n > 0 ? s / this.n : NaN)),
      mase: mase(this.absModel, this.absNaive),
      maeMedian: this.naiveN > 0 ? this.absModel / this.naiveN : NaN,
      maeNaive: this.naiveN > 0 ? this.absNaive / this.naiveN : NaN,
    };
  }
}

/**
 * MASE against a reference forecast on the same points: (sum |y - model|) / (sum |y - reference|).
 * Below 1 the model beats the reference. NaN when the reference is perfect.
 */
export function mase(sumAbsModel: number, sumAbsReference: number): number {
  return sumAbsReference > 0 ? sumAbsModel / sumAbsReference : NaN;
}

/** Precision-recall curve points (recall ascending), at most `max` of them, walking thresholds from the top. */
export function prCurve(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  max = 200,
): { recall: number; precision: number }[] {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i]!;
  if (positives === 0) return [];
  const order = Int32Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const all: { recall: number; precision: number }[] = [];
  let tp = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && scores[order[j]!] === scores[order[i]!]) tp += labels[order[j++]!]!;
    all.push({ recall: tp / positives, precision: tp / j });
    i = j;
  }
  if (all.length <= max) return all;
  return Array.from({ length: max }, (_, k) => all[Math.round((k * (all.length - 1)) / (max - 1))]!);
}
