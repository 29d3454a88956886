/**
 * ONNX inference benchmark on this machine's CPU: the workload model (LSTM encoder-decoder +
 * attention, 64 context + 16 horizon steps, hidden 32, 30 observed channels; see
 * src/main/core/model/onnx/testing/workload-model.ts) recorded two ways (LSTM unrolled through
 * `Ops`, and as one ONNX LSTM node), run through the inference module for 90 and 1,000 servers.
 * Medians of 10 runs after a warm-up. Targets (issue 4): 90 servers < 50 ms, 1,000 < 1 s.
 *
 *   npx vitest bench --run bench/onnx-infer.bench.ts
 *
 * Prints one JSON object; ONNX_BENCH_OUT=file also writes it there. ONNX_BENCH_CONTEXT and
 * ONNX_BENCH_HORIZON change the sequence (e.g. 96 + 32 for a 15-minute step, 288 + 96 for 5).
 * ONNX_BENCH_COMPARE=DIR also times the model folder DIR the same way, in the same run, and
 * prints the bundled model's medians as ratios of DIR's (`compared`): e.g. a single TFT against
 * the bundled ensemble.
 */
import { writeFileSync } from 'node:fs';
import { bench, describe } from 'vitest';
import { expectedTensors, loadModelFolder } from '../src/main/core/model/folder';
import { createInferenceSession } from '../src/main/core/model/infer';
import type { InputTensor } from '../src/main/core/model/infer';
import { runWorkloadBench } from '../src/main/core/model/onnx/testing/workload-bench';
import { seededRandom } from '../src/main/core/util/seeded-random';
import { createMemoryLogger } from '../src/main/core/util/logger';
import { median, round } from '../src/main/core/util/stats';

const TARGET_MS: Record<number, number> = { 90: 50, 1000: 1000 };

interface ModelResult {
  lstm: string;
  providers: { timings: Record<string, { medianMs?: number }> }[];
}

describe('onnx inference', () => {
  bench(
    'onnx inference on the CPU (JSON on stdout)',
    async () => {
      const config = {
        ...(process.env.ONNX_BENCH_CONTEXT ? { contextSteps: Number(process.env.ONNX_BENCH_CONTEXT) } : {}),
        ...(process.env.ONNX_BENCH_HORIZON ? { horizonSteps: Number(process.env.ONNX_BENCH_HORIZON) } : {}),
      };
      const result = await runWorkloadBench({ providers: ['cpu'], batches: [90, 1000], lstm: ['unrolled', 'fused'], config });
      const targets = (result.models as ModelResult[]).map((m) => ({
        lstm: m.lstm,
        ...Object.fromEntries(
          Object.entries(TARGET_MS).map(([batch, targetMs]) => {
            const medianMs = m.providers[0]?.timings[batch]?.medianMs ?? null;
            return [batch, { medianMs, targetMs, met: medianMs !== null && medianMs < targetMs }];
          }),
        ),
      }));
      const bundled = await modelFolderTimings('resources/models/default', [90, 1000]);
      const compareDir = process.env.ONNX_BENCH_COMPARE;
      const compared = compareDir ? await modelFolderTimings(compareDir, [90, 1000]) : null;
      const ratios = compared
        ? Object.fromEntries(Object.keys(bundled.timings).map((b) => [b, round(bundled.timings[b]!.medianMs / compared.timings[b]!.medianMs, 2)]))
        : null;
      const json = JSON.stringify({ bench: 'onnx-infer', bundled, ...(compared ? { compared: { ...compared, bundledOverThis: ratios } } : {}), targets, ...result }, null, 2);
      console.log(json);
      if (process.env.ONNX_BENCH_OUT) writeFileSync(process.env.ONNX_BENCH_OUT, `${json}\n`);
    },
    // One pass: the function measures its own medians; tinybench's timing of it is not the result.
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});

/**
 * A model folder (the bundled one: resources/models/default, as exported), CPU provider: median
 * of 10 runs after a warm-up, on seeded inputs in the model's ranges (standardised observed values,
 * masks 1, calendar in [-1, 1], valid profile and bucket indices). Inference time does not depend
 * on the values.
 */
interface FolderTimings {
  dir: string;
  version: string;
  members: number;
  provider: 'cpu';
  timings: Record<string, { medianMs: number; targetMs: number | null; met: boolean | null }>;
}

async function modelFolderTimings(dir: string, batches: number[]): Promise<FolderTimings> {
  const model = await loadModelFolder(dir);
  const tensors = expectedTensors(model.manifest);
  const session = await createInferenceSession({ modelBytes: model.onnxBytes, ...tensors, provider: 'cpu', logger: createMemoryLogger() });
  const random = seededRandom(7);
  const timings: Record<string, { medianMs: number; targetMs: number | null; met: boolean | null }> = {};
  try {
    for (const batch of batches) {
      const inputs: Record<string, InputTensor> = {};
      for (const spec of tensors.expectedInputs) {
        const size = spec.shape.reduce((n, d) => n * (d === -1 ? batch : d), 1);
        if (spec.dtype === 'int32') {
          const [lo, hi] = spec.range ?? [0, 0];
          inputs[spec.name] = Int32Array.from({ length: size }, () => lo + Math.floor(random() * (hi - lo + 1)));
        } else inputs[spec.name] = Float32Array.from({ length: size }, () => (spec.name === 'observed_mask' ? 1 : 2 * random() - 1));
      }
      await session.run(inputs, batch);
      const ms: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        await session.run(inputs, batch);
        ms.push(performance.now() - t0);
      }
      const medianMs = round(median(ms), 2);
      const targetMs = TARGET_MS[batch] ?? null;
      timings[batch] = { medianMs, targetMs, met: targetMs === null ? null : medianMs < targetMs };
    }
  } finally {
    await session.close();
  }
  return { dir, version: model.manifest.version, members: model.manifest.training.ensemble?.members.length ?? 1, provider: 'cpu', timings };
}
