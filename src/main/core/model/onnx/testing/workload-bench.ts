import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createInferenceSession,
  listExecutionProviders,
  type InferenceSession,
  type OutputTensor,
  type ProviderAttempt,
  type ProviderSetting,
} from '../../infer';
import type { Logger } from '../../../util/logger';
import { toTensorSpecs } from './check-graph';
import { DEFAULT_WORKLOAD, buildWorkloadModel, workloadInputs, type WorkloadConfig } from './workload-model';
import { median, round } from '../../../util/stats';

/**
 * Times the workload model per provider and batch size through the inference module, and
 * compares each provider's outputs with the CPU's: what `bench/onnx-infer.bench.ts` and the GPU
 * check (`scripts/gpu-check.ts`) both run. Returns one JSON-able object.
 */
export interface WorkloadBenchOptions {
  providers: readonly ProviderSetting[];
  batches: readonly number[];
  lstm: readonly WorkloadConfig['lstm'][];
  config?: Partial<Omit<WorkloadConfig, 'lstm'>>;
  /** Timed runs per batch size (after one warm-up); default 10, 3 from 5,000 rows up. */
  runs?: (batch: number) => number;
  /** Once spent, remaining measurements are skipped (and say so) rather than overrun a lease. */
  budgetMs?: number;
  /** Largest |provider - cpu| allowed over every output. */
  tolerance?: number;
}

interface Timing {
  medianMs: number;
  minMs: number;
  runs: number;
}

interface ProviderResult {
  requested: ProviderSetting;
  /** The provider that actually ran (a failed GPU request shows cpu here and `ok: false`). */
  provider: string | null;
  ok: boolean;
  error: string | null;
  createMs: number | null;
  reason: string | null;
  /** Every session creation tried (and, for auto, the calibration timings). */
  attempts: ProviderAttempt[];
  timings: Record<string, Timing | { skipped: string } | { error: string }>;
  /** Per batch: largest |this provider - cpu| over all outputs (null for cpu itself). */
  maxAbsDiff: Record<string, number> | null;
}

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function runWorkloadBench(options: WorkloadBenchOptions): Promise<Record<string, unknown>> {
  const started = performance.now();
  // Timings on a shared 2-core machine move with its load: record it beside them.
  const loadAtStart = round(loadavg()[0]!, 2);
  const budgetMs = options.budgetMs ?? Infinity;
  const tolerance = options.tolerance ?? 1e-4;
  const runsFor = options.runs ?? ((batch: number) => (batch >= 5_000 ? 3 : 10));
  const dir = mkdtempSync(join(tmpdir(), 'tftmp-onnx-bench-'));
  const models: Record<string, unknown>[] = [];
  const problems: string[] = [];
  const summary: Record<string, unknown>[] = [];
  try {
    for (const lstm of options.lstm) {
      const cfg: WorkloadConfig = { ...DEFAULT_WORKLOAD, ...options.config, lstm };
      const t0 = performance.now();
      const model = buildWorkloadModel(cfg);
      const buildMs = performance.now() - t0;
      const modelPath = join(dir, `workload-${lstm}.onnx`);
      writeFileSync(modelPath, model.bytes);
      const expectedInputs = toTensorSpecs(model.inputs, { profile: [0, cfg.profiles - 1], server_bucket: [0, cfg.serverBuckets - 1] });
      const expectedOutputs = toTensorSpecs(model.outputs);

      const reference = new Map<number, Record<string, OutputTensor>>();
      const results: ProviderResult[] = [];
      for (const requested of options.providers) {
        const result: ProviderResult = { requested, provider: null, ok: false, error: null, createMs: null, reason: null, attempts: [], timings: {}, maxAbsDiff: requested === 'cpu' ? null : {} };
        results.push(result);
        let session: InferenceSession;
        try {
          const c0 = performance.now();
          const calibrationRows = options.batches[0] ?? 90;
          session = await createInferenceSession({
            modelPath,
            expectedInputs,
            expectedOutputs,
            provider: requested,
            logger: silent,
            ...(requested === 'auto' ? { calibration: { inputs: workloadInputs(cfg, calibrationRows), batch: calibrationRows } } : {}),
          });
          result.createMs = round(performance.now() - c0);
        } catch (error) {
          result.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          problems.push(`${lstm}/${requested}: ${result.error}`);
          continue;
        }
        try {
          result.provider = session.provider;
          result.reason = session.report.reason;
          result.attempts = session.report.attempts;
          if (requested === 'auto') {
            // The policy's own choice and calibration timings are the result; the batches were measured above.
            result.ok = true;
            continue;
          }
          if (session.provider !== requested) {
            // The fallback worked as designed, but this provider was not measured.
            result.error = session.fallbackReason ?? `ran on ${session.provider}`;
            continue;
          }
          result.ok = true;
          for (const batch of options.batches) {
            if (performance.now() - started > budgetMs) {
              result.timings[batch] = { skipped: `time budget of ${Math.round(budgetMs / 1000)} s spent` };
              continue;
            }
            const inputs = workloadInputs(cfg, batch);
            try {
              const first = await session.run(inputs, batch); // warm-up (allocation, GPU shader compilation)
              const runs = runsFor(batch);
              const times: number[] = [];
              for (let i = 0; i < runs; i++) {
                const r0 = performance.now();
                await session.run(inputs, batch);
                times.push(performance.now() - r0);
              }
              result.timings[batch] = { medianMs: round(median(times), 2), minMs: round(Math.min(...times), 2), runs };
              if (requested === 'cpu') reference.set(batch, first);
              else {
                const ref = reference.get(batch);
                if (ref && result.maxAbsDiff) {
                  const diff = maxAbsDiff(ref, first);
                  result.maxAbsDiff[batch] = diff;
                  if (!(diff <= tolerance)) problems.push(`${lstm}/${requested} batch ${batch}: max |diff| vs cpu ${diff} > ${tolerance}`);
                }
              }
            } catch (error) {
              result.timings[batch] = { error: error instanceof Error ? error.message : String(error) };
              problems.push(`${lstm}/${requested} batch ${batch}: ${error instanceof Error ? error.message : String(error)}`);
            }
          }
        } finally {
          await session.close();
        }
      }
      models.push({ lstm, nodes: model.nodes, bytes: model.bytes.length, buildMs: round(buildMs), providers: results });
      for (const r of results) {
        const medians = Object.fromEntries(Object.entries(r.timings).map(([batch, t]) => [batch, 'medianMs' in t ? t.medianMs : null]));
        const diffs = r.maxAbsDiff && Object.keys(r.maxAbsDiff).length > 0 ? r.maxAbsDiff : null;
        summary.push({
          lstm,
          requested: r.requested,
          ran: r.provider,
          ok: r.ok,
          ...(r.error ? { error: r.error } : {}),
          ...(r.requested !== 'cpu' && r.reason ? { reason: r.reason } : {}),
          createMs: r.createMs,
          medianMs: medians,
          maxAbsDiffVsCpu: diffs,
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const { lstm: _lstm, ...shape } = { ...DEFAULT_WORKLOAD, ...options.config };
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    loadAverage: { atStart: loadAtStart, atEnd: round(loadavg()[0]!, 2) },
    providersAvailable: listExecutionProviders(),
    workload: shape,
    batches: options.batches,
    tolerance,
    summary,
    models,
    problems,
    totalMs: round(performance.now() - started),
  };
}

function maxAbsDiff(a: Record<string, OutputTensor>, b: Record<string, OutputTensor>): number {
  let m = 0;
  for (const [name, ta] of Object.entries(a)) {
    const tb = b[name];
    if (!tb || tb.data.length !== ta.data.length) return Infinity;
    for (let i = 0; i < ta.data.length; i++) {
      const d = Math.abs(Number(ta.data[i]) - Number(tb.data[i]));
      // NaN must fail the comparison, not vanish in Math.max.
      if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
    }
  }
  return m;
}

