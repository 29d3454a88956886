import type { MethodFigures, ModelEntry, ModelEvaluation } from '@shared/domain';

/** Formatting for the Models and Training views: pure, so it is tested without a DOM. */

/** A figure with `digits` decimals, or a dash: never a fake zero. */
export function formatFigure(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

/** The first 12 hex digits of a sha256 (the tooltip shows all of it). */
export function shortSha(sha: string | null): string {
  return sha === null ? '—' : sha.slice(0, 12);
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '—';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** "1 m 05 s", "850 ms". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} m ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

/** The model's size and length of training, from its hyper-parameters: "hidden 8 · 2 heads · 3 epochs". */
export function describeSettings(settings: ModelEntry['settings']): string {
  if (!settings) return '—';
  const parts: string[] = [];
  const members = ensembleMembers(settings);
  if (members > 1) parts.push(`ensemble of ${members}`);
  if (typeof settings.hidden === 'number') parts.push(`hidden ${settings.hidden}`);
  if (typeof settings.heads === 'number') parts.push(`${settings.heads} heads`);
  if (typeof settings.epochs === 'number') parts.push(`≤ ${settings.epochs} epochs`);
  if (typeof settings.batchSize === 'number') parts.push(`batch ${settings.batchSize}`);
  return parts.length > 0 ? parts.join(' · ') : '—';
}

/** How many TFTs the model's graph averages (model.json hyperParameters.ensembleMembers; 1 when absent). */
export function ensembleMembers(settings: ModelEntry['settings']): number {
  const n = settings?.ensembleMembers;
  return typeof n === 'number' && Number.isInteger(n) && n > 1 ? n : 1;
}

/** A model as people name it: "tft 20261126_224832". */
export function modelLabel(entry: Pick<ModelEntry, 'name' | 'version' | 'id'>): string {
  return entry.name && entry.version ? `${entry.name} ${entry.version}` : entry.id;
}

export interface FigureRow {
  key: keyof MethodFigures;
  label: string;
  /** Whether a larger value is better (false: smaller is better). */
  higherIsBetter: boolean;
  digits: number;
}

export const FIGURE_ROWS: readonly FigureRow[] = [
  { key: 'auroc', label: 'Risk AUROC', higherIsBetter: true, digits: 3 },
  { key: 'auprc', label: 'Risk AUPRC', higherIsBetter: true, digits: 3 },
  { key: 'recall', label: 'Incidents warned', higherIsBetter: true, digits: 2 },
  { key: 'leadTimeHoursMedian', label: 'Median lead (h)', higherIsBetter: true, digits: 1 },
  { key: 'falseAlarmsPerServerDay', label: 'False alarms / server-day', higherIsBetter: false, digits: 3 },
];

export const BASELINE_LABELS: Readonly<Record<string, string>> = {
  reactive: 'Reactive threshold',
  predict_linear_1h: 'predict_linear 1 h',
  predict_linear_6h: 'predict_linear 6 h',
  seasonal_naive: 'Seasonal naive',
  holt: 'Holt',
};

export interface ComparisonColumn {
  label: string;
  figures: MethodFigures | null;
  /** Marks the model columns (the baselines are for reference). */
  kind: 'model' | 'baseline';
}

/**
 * The columns of an evaluation comparison: each model given (its `model` method), then the
 * baselines of the first evaluation (every model's evaluation of one job runs on the same fleets).
 */
export function comparisonColumns(models: { label: string; evaluation: ModelEvaluation | null }[]): ComparisonColumn[] {
  const columns: ComparisonColumn[] = models.map((m) => ({ label: m.label, figures: m.evaluation?.methods.model ?? null, kind: 'model' }));
  const reference = models.find((m) => m.evaluation)?.evaluation;
  if (reference) {
    for (const [name, figures] of Object.entries(reference.methods)) {
      if (name === 'model') continue;
      columns.push({ label: BASELINE_LABELS[name] ?? name, figures, kind: 'baseline' });
    }
  }
  return columns;
}

/** Index of the best column on a row (models and baselines alike), or -1 when no column has a figure. */
export function bestColumn(columns: readonly ComparisonColumn[], row: FigureRow): number {
  let best = -1;
  let bestValue = 0;
  columns.forEach((c, i) => {
    const v = c.figures?.[row.key];
    if (v === null || v === undefined || !Number.isFinite(v)) return;
    if (best === -1 || (row.higherIsBetter ? v > bestValue : v < bestValue)) {
      best = i;
      bestValue = v;
    }
  });
  return best;
}
