/**
 * How well a model folder's risk ranks the windows of a fleet it never saw, against simple
 * baselines on the same windows. Not the full early-warning benchmark of EVALUATION.md (alert
 * thresholds, incident recall, lead times: `npm run evaluate`, a later issue): window-level
 * AUROC, AUPRC and Brier score, every 30 minutes after each server's first 24 h, positives =
 * an incident begins within 8 h, windows inside an incident skipped.
 *
 * Evaluation fleet: 30 servers whose names the training fleets do not use (defaultFleet from
 * index 500), seed "tftmp-eval", 30 days from 2024-04-01. Baselines: `level` = the highest of
 * CPU, memory and disk (scaled 0..1) in the last 30-minute step; `reactive` = the largest share of
 * its critical threshold any contract metric reached in that step. "visible" restricts the
 * positives to windows where the incident's precursor had already begun at t (what a model
 * could possibly see).
 *
 *   npm run bench:quality                     (resources/models/default)
 *   QUALITY_MODEL=models/tft_model_... npm run bench:quality
 *
 * Prints one JSON object; QUALITY_OUT=file also writes it there.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { it } from 'vitest';
import { METRIC_BY_NAME, METRIC_NAMES } from '@shared/contract';
import { auprc, auroc, brierScore } from '../src/main/core/eval/ranking';
import { defaultFleet } from '../src/main/core/metrics/simulator/fleet-sim';
import { generateFleet } from '../src/main/core/metrics/simulator/generate';
import { tftFeeds } from '../src/main/core/model/export/feeds';
import { buildDataset } from '../src/main/core/model/features/dataset';
import type { FeatureSpec } from '../src/main/core/model/features/feature-spec';
import { expectedTensors, loadModelFolder } from '../src/main/core/model/folder';
import { createInferenceSession } from '../src/main/core/model/infer';
import { createMemoryLogger } from '../src/main/core/util/logger';

const MODEL_DIR = resolve(process.env.QUALITY_MODEL ?? 'resources/models/default');
const round = (x: number): number => Math.round(x * 1000) / 1000;

it('model quality on an unseen fleet (JSON on stdout)', { timeout: 1_800_000 }, async () => {
  const started = performance.now();
  const model = await loadModelFolder(MODEL_DIR);
  const spec = model.manifest.featureSpec;
  const fleet = generateFleet({ seed: 'tftmp-eval', start: Date.UTC(2024, 3, 1), servers: defaultFleet(30, 500), hours: 720 });
  const trained = new Set(model.manifest.training.dataset.trainingServers);
  const selection = { validationShare: 0, heldOutCount: 0, knownServers: trained };
  const ds = buildDataset(fleet.columns, fleet.incidents, { ...selection, spec });
  // The same windows on the contract scale, for the baselines.
  const { normalization: _, ...unnormalized } = spec;
  const raw = buildDataset(fleet.columns, fleet.incidents, { ...selection, spec: unnormalized, fitNormalization: false });
  const n = ds.train.size;
  if (raw.train.size !== n) throw new Error('the baseline windows differ from the model windows');

  const session = await createInferenceSession({ modelBytes: model.onnxBytes, ...expectedTensors(model.manifest), provider: 'cpu', logger: createMemoryLogger() });
  const risk = new Float64Array(n);
  const level = new Float64Array(n);
  const reactive = new Float64Array(n);
  const labels = new Uint8Array(n);
  const visible = new Uint8Array(n);
  const incidents = [...fleet.incidents].sort((a, b) => a.onset - b.onset);
  const T = spec.contextSteps;
  const F = spec.observed.length;
  const channel = (name: string): number => spec.observed.indexOf(name);
  const levelChannels = ['cpu_percent:mean', 'memory_percent:mean', 'disk_percent:mean'].map(channel);
  let inferMs = 0;
  const B = 512;
  try {
    for (let from = 0; from < n; from += B) {
      const rows = Int32Array.from({ length: Math.min(B, n - from) }, (_, k) => from + k);
      const batch = ds.materialize('train', rows);
      const base = raw.materialize('train', rows);
      const t0 = performance.now();
      const out = await session.run(tftFeeds(batch), batch.size);
      inferMs += performance.now() - t0;
      risk.set(out.risk!.data as Float32Array, from);
      for (let b = 0; b < batch.size; b++) {
        const i = from + b;
        if (batch.server[b] !== base.server[b] || batch.time[b] !== base.time[b]) throw new Error(`window ${i} differs between the two datasets`);
        const last = (b * T + T - 1) * F;
        level[i] = Math.max(...levelChannels.map((c) => (base.observedMask[last + c]! > 0 ? base.observed[last + c]! : 0)));
        reactive[i] = reactiveScore(base.observed, base.observedMask, last, spec);
        labels[i] = batch.risk[b]!;
        if (labels[i] === 1) {
          const t = batch.time[b]!;
          const next = incidents.find((x) => x.server === batch.server[b] && x.onset > t);
          visible[i] = next?.precursorStart !== null && next?.precursorStart !== undefined && next.precursorStart <= t ? 1 : 0;
        }
      }
    }
  } finally {
    await session.close();
  }

  const positives = labels.reduce((a, y) => a + y, 0);
  const keepVisible = (xs: Float64Array): { s: number[]; y: number[] } => {
    const s: number[] = [];
    const y: number[] = [];
    xs.forEach((v, i) => {
      if (labels[i] === 0 || visible[i] === 1) {
        s.push(v);
        y.push(labels[i]!);
      }
    });
    return { s, y };
  };
  const scoreOf = (xs: Float64Array): Record<string, number> => {
    const v = keepVisible(xs);
    return { auroc: round(auroc(xs, labels)), auprc: round(auprc(xs, labels)), aurocVisible: round(auroc(v.s, v.y)), auprcVisible: round(auprc(v.s, v.y)) };
  };
  const result = {
    bench: 'model-quality',
    model: { dir: MODEL_DIR, version: model.manifest.version, trainedOn: model.manifest.training.dataset.description },
    fleet: { seed: 'tftmp-eval', servers: 30, days: 30, unseenServers: ds.servers.filter((s) => !trained.has(s.server)).length },
    windows: n,
    positives,
    positiveShare: round(positives / n),
    positivesWithVisiblePrecursor: visible.reduce((a, y) => a + y, 0),
    model_risk: { ...scoreOf(risk), brier: round(brierScore(risk, labels)), meanRisk: round(risk.reduce((a, x) => a + x, 0) / n) },
    baseline_level: scoreOf(level),
    baseline_reactive: scoreOf(reactive),
    inferenceWindowsPerSecond: Math.round(n / (inferMs / 1000)),
    seconds: round((performance.now() - started) / 1000),
  };
  const json = JSON.stringify(result, null, 2);
  process.stdout.write(`${json}\n`);
  if (process.env.QUALITY_OUT) writeFileSync(process.env.QUALITY_OUT, json);
});

/** The largest value / critical threshold over the metrics that have one, in the window's last step (contract scale). */
function reactiveScore(observed: Float32Array, mask: Float32Array, offset: number, spec: Pick<FeatureSpec, 'observed' | 'scaling'>): number {
  let best = 0;
  for (const metric of METRIC_NAMES) {
    const critical = METRIC_BY_NAME[metric].critical;
    if (critical === null) continue;
    const c = spec.observed.indexOf(`${metric}:max`);
    if (c < 0 || !(mask[offset + c]! > 0)) continue;
    const s = spec.scaling[metric];
    const y = observed[offset + c]!;
    const value = s.kind === 'linear' ? y * s.scale : s.scale * Math.expm1(y * Math.log1p(s.reference / s.scale));
    best = Math.max(best, value / critical);
  }
  return best;
}
