/**
 * Scores of a binary warning against labels, as EVALUATION.md reports them. Inputs are parallel
 * arrays: `scores` (any real; higher = more likely positive) and `labels` (1 positive, 0 not).
 * Ties are handled exactly (AUROC by mid-ranks, AUPRC by stepping through tied groups whole), so a
 * constant score gives AUROC 0.5 and AUPRC the positive share.
 */

function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<number>): { positives: number } {
  if (scores.length !== labels.length) throw new Error(`${scores.length} scores for ${labels.length} labels`);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new Error(`label ${i} is ${y}, not 0 or 1`);
    if (Number.isNaN(scores[i])) throw new Error(`score ${i} is NaN`);
    positives += y;
  }
  return { positives };
}

/** Indices sorted by score, descending. */
function byScoreDescending(scores: ArrayLike<number>): Int32Array {
  const idx = Int32Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => scores[b]! - scores[a]!);
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative (ties count half). NaN when either class is empty.
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives } = checkInputs(scores, labels);
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  const order = byScoreDescending(scores);
  // Walk tied groups from the top: each positive beats the negatives below its group, ties half.
  let negativesBelow = negatives;
  let wins = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    let pos = 0;
    let neg = 0;
    while (j < order.length && scores[order[j]!] === scores[order[i]!]) {
      if (labels[order[j]!] === 1) pos++;
      else neg++;
      j++;
    }
    negativesBelow -= neg;
    wins += pos * negativesBelow + 0.5 * pos * neg;
    i = j;
  }
  return wins / (positives * negatives);
}

/**
 * Area under the precision-recall curve as average precision: the mean, over thresholds at each
 * distinct score, of precision weighted by the recall gained there. NaN without positives.
 */
export function auprc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives } = checkInputs(scores, labels);
  if (positives === 0) return NaN;
  const order = byScoreDescending(scores);
  let tp = 0;
  let seen = 0;
  let area = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    let pos = 0;
    while (j < order.length && scores[order[j]!] === scores[order[i]!]) {
      pos += labels[order[j]!]!;
      j++;
    }
    tp += pos;
    seen += j - i;
    area += (pos / positives) * (tp / seen);
    i = j;
  }
  return area;
}

/** Mean squared error of probabilities against labels (lower is better). */
export function brierScore(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkInputs(probabilities, labels);
  if (labels.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i]!;
    if (!(p >= 0 && p <= 1)) throw new Error(`probability ${i} is ${p}, outside [0, 1]`);
    sum += (p - labels[i]!) ** 2;
  }
  return sum / labels.length;
}
