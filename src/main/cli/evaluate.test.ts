import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationReport } from '../core/eval/evaluate';
import { evaluateCommand } from './evaluate';
import { UsageError } from './usage-error';
import { captureIo } from './testing/capture-io';

let root: string;

const quiet = captureIo;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'evaluate-cli-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

// The bundled model (286 KB) on tiny fleets: 3 servers x 3 days each.
const TINY = [
  '--model',
  'resources/models/default',
  '--servers',
  '3',
  '--days',
  '3',
  '--seed-validation',
  'cli-val',
  '--seed-eval',
  'cli-eval',
];

describe('evaluate command', () => {
  it(
    'writes report.json with every method and goal, and a self-contained report.html',
    { timeout: 60_000 },
    async () => {
      const io = quiet();
      const output = join(root, 'tiny');
      const report = await evaluateCommand([...TINY, '--output', output], {
        ...io,
        now: () => new Date(Date.UTC(2026, 0, 2)),
      });
      expect(report).not.toBeNull();
      expect(readdirSync(output).sort()).toEqual(['report.html', 'report.json']);
      const json = JSON.parse(readFileSync(join(output, 'report.json'), 'utf8')) as EvaluationReport;
      expect(json.createdAt).toBe('2026-01-02T00:00:00.000Z');
      // The bundled model has a cascade coefficient: the served risk, then the TFT's alone.
      expect(json.model.cascade).not.toBeNull();
      expect(Object.keys(json.methods)).toEqual([
        'model',
        'model_without_topology',
        'reactive',
        'predict_linear_1h',
        'predict_linear_6h',
        'seasonal_naive',
        'holt',
      ]);
      expect(json.fleets.validation.seed).toBe('cli-val');
      expect(json.fleets.evaluation.seed).toBe('cli-eval');
      expect(json.fleets.evaluation.unseenServers).toBe(3);
      expect(json.fleets.evaluation.points).toBeGreaterThan(100);
      const m = json.methods.model!;
      expect(m.auroc === null || (m.auroc >= 0 && m.auroc <= 1)).toBe(true);
      expect(m.ece).toBeGreaterThanOrEqual(0);
      expect(m.brier).toBeGreaterThanOrEqual(0);
      expect(json.methods.reactive!.ece).toBeUndefined();
      // Lead times per group of incidents: the median of the warned ones' leads, null when none.
      for (const method of Object.values(json.methods)) {
        expect(method.recall.all.medianLeadHours).toBe(method.leadTimeHours.median);
        for (const r of [...Object.values(method.recallByType), ...Object.values(method.validationRecall.byTypeWithPrecursor)])
          expect(r.warned === 0 ? r.medianLeadHours === null : r.medianLeadHours! >= 0.5 && r.medianLeadHours! <= 8).toBe(true);
      }
      expect(json.calibration).toHaveLength(10);
      expect(Object.keys(json.forecast)).toEqual([
        'cpu_percent',
        'memory_percent',
        'disk_percent',
        'latency_ms',
        'error_rate',
      ]);
      expect(json.goals.map((g) => g.id)).toEqual([
        'auprc_vs_baselines',
        'precursor_recall',
        'median_lead',
        'ece',
        'mase_cpu_percent',
        'mase_memory_percent',
        'mase_disk_percent',
        'mase_latency_ms',
        'mase_error_rate',
      ]);
      for (const g of json.goals) expect(typeof g.met).toBe('boolean');

      const html = readFileSync(join(output, 'report.html'), 'utf8');
      expect(html).toMatch(/^<!doctype html>/);
      expect(html).toContain('<svg');
      expect(html).toContain('Goals');
      expect(html).toContain('<th>with a precursor: warned, median lead</th>');
      expect(html).not.toMatch(/<script|<link|\ssrc=|\shref=|url\(/i);

      expect(io.text()).toContain('model ');
      expect(io.text()).toContain(`Wrote ${join(output, 'report.json')}`);
      expect(io.errors()).toContain('score evaluation fleet');
      expect(readdirSync(output).some((f) => f.endsWith('.tmp'))).toBe(false);
    },
  );

  it('writes nothing when cancelled', { timeout: 30_000 }, async () => {
    const controller = new AbortController();
    const io = quiet();
    const output = join(root, 'cancelled');
    io.stderr.on('data', () => controller.abort(new Error('test cancel')));
    await expect(evaluateCommand([...TINY, '--output', output], { ...io, signal: controller.signal })).rejects.toThrow(
      /interrupted; nothing written/,
    );
    expect(existsSync(output)).toBe(false);
  });

  it('refuses bad options', async () => {
    await expect(evaluateCommand(['--model', 'x'])).rejects.toThrow(UsageError);
    await expect(evaluateCommand(['--output', join(root, 'x'), '--servers', '0'])).rejects.toThrow(/--servers/);
    await expect(
      evaluateCommand(['--output', join(root, 'x'), '--seed-validation', 's', '--seed-eval', 's']),
    ).rejects.toThrow(/must differ/);
    const io = quiet();
    expect(await evaluateCommand(['--help'], io)).toBeNull();
    expect(io.text()).toContain('Usage: npm run evaluate');
  });
});
