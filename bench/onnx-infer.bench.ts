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
 */
import { writeFileSync } from 'node:fs';
import { bench, describe } from 'vitest';
import { runWorkloadBench } from '../src/main/core/model/onnx/testing/workload-bench';

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
      const json = JSON.stringify({ bench: 'onnx-infer', targets, ...result }, null, 2);
      console.log(json);
      if (process.env.ONNX_BENCH_OUT) writeFileSync(process.env.ONNX_BENCH_OUT, `${json}\n`);
    },
    // One pass: the function measures its own medians; tinybench's timing of it is not the result.
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
