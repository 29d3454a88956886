import { describe, expect, it } from 'vitest';
import type { ModelEvaluation } from '@shared/domain';
import { FIGURE_ROWS, bestColumn, comparisonColumns, describeSettings, formatFigure, formatMs, shortSha } from './models-format';

const evaluation = (auroc: number, fa: number): ModelEvaluation => ({
  createdAt: '2026-11-26T23:00:00.000Z',
  fleet: { servers: 4, days: 3, incidents: 2, points: 400 },
  methods: {
    model: { auroc, auprc: 0.1, recall: 0.5, falseAlarmsPerServerDay: fa, leadTimeHoursMedian: 3 },
    reactive: { auroc: 0.55, auprc: null, recall: 0.2, falseAlarmsPerServerDay: 0.01, leadTimeHoursMedian: null },
  },
  goalsMet: 1,
  goalsTotal: 5,
  seconds: 2,
});

describe('models formatting', () => {
  it('shows a dash for a missing figure, never a zero', () => {
    expect(formatFigure(null)).toBe('—');
    expect(formatFigure(Number.NaN)).toBe('—');
    expect(formatFigure(0.12345, 2)).toBe('0.12');
    expect(shortSha(null)).toBe('—');
    expect(shortSha('abcdef0123456789')).toBe('abcdef012345');
    expect(formatMs(850)).toBe('850 ms');
    expect(formatMs(65_000)).toBe('1 m 05 s');
    expect(describeSettings({ hidden: 8, heads: 2, epochs: 3 })).toBe('hidden 8 · 2 heads · ≤ 3 epochs');
    expect(describeSettings({ ensembleMembers: 3, hidden: 24, heads: 4 })).toBe('ensemble of 3 · hidden 24 · 4 heads');
    expect(describeSettings({ ensembleMembers: 1, hidden: 24 })).toBe('hidden 24');
  });

  it('puts the models first, then the first evaluation’s baselines, and marks the best per row', () => {
    const columns = comparisonColumns([
      { label: 'new', evaluation: evaluation(0.8, 0.2) },
      { label: 'active', evaluation: evaluation(0.7, 0.05) },
    ]);
    expect(columns.map((c) => `${c.kind}:${c.label}`)).toEqual(['model:new', 'model:active', 'baseline:Reactive threshold']);
    const auroc = FIGURE_ROWS.find((r) => r.key === 'auroc')!;
    const falseAlarms = FIGURE_ROWS.find((r) => r.key === 'falseAlarmsPerServerDay')!;
    expect(bestColumn(columns, auroc)).toBe(0);
    // Fewer false alarms is better.
    expect(bestColumn(columns, falseAlarms)).toBe(2);
    expect(bestColumn(comparisonColumns([{ label: 'x', evaluation: null }]), auroc)).toBe(-1);
  });
});
