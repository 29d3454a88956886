/**
 * GPU check for the GPU lender (shared/GPU.md): builds the workload model (LSTM encoder-decoder +
 * attention, shaped like the TFT) with our ONNX builder, writes it to a temp dir, and for the
 * cpu and webgpu providers creates sessions through the inference module, checks the outputs
 * agree (1e-4), times median run latency per batch size, and prints ONE JSON object.
 *
 * Bundled to one CommonJS file that requires only onnxruntime-node and Node built-ins:
 *   npx vite build --config scripts/gpu-check.vite.config.ts      -> out/gpu/gpu-check.cjs
 * On the device (carry [".gpu", "out"]):
 *   bash .gpu/run-on-device.sh node out/gpu/gpu-check.cjs
 *
 * Environment (all optional):
 *   GPU_CHECK_BATCHES="90,1000,10000"
 *   GPU_CHECK_PROVIDERS="cpu,webgpu,auto"   auto: the policy's choice and calibration timings only
 *   GPU_CHECK_LSTM="unrolled,fused"         the LSTM recorded step by step through Ops, or one node
 *   GPU_CHECK_CONTEXT=64, GPU_CHECK_HORIZON=16 (steps)
 *   GPU_CHECK_BUDGET_S=300                  once spent, remaining measurements are skipped (and say so)
 * Exit status 0 when every measurement that ran agreed with the CPU, 1 if not. A webgpu provider
 * that cannot start is reported in the JSON (ok: false, error) and is not a failure.
 */
import { runWorkloadBench } from '../src/main/core/model/onnx/testing/workload-bench';
import type { ProviderSetting } from '../src/main/core/model/infer';

const list = (value: string | undefined, fallback: string): string[] =>
  (value ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const PROVIDERS = new Set<ProviderSetting>(['cpu', 'webgpu', 'cuda', 'auto']);

async function main(): Promise<number> {
  const batches = list(process.env.GPU_CHECK_BATCHES, '90,1000,10000').map(Number);
  const providers = list(process.env.GPU_CHECK_PROVIDERS, 'cpu,webgpu,auto') as ProviderSetting[];
  const lstm = list(process.env.GPU_CHECK_LSTM, 'unrolled,fused') as ('unrolled' | 'fused')[];
  if (batches.some((b) => !Number.isInteger(b) || b < 1) || providers.some((p) => !PROVIDERS.has(p)) || lstm.some((l) => l !== 'unrolled' && l !== 'fused')) {
    process.stderr.write('gpu-check: bad GPU_CHECK_BATCHES, GPU_CHECK_PROVIDERS or GPU_CHECK_LSTM\n');
    return 2;
  }
  if (!providers.includes('cpu')) providers.unshift('cpu'); // the reference the others are compared with
  const config = {
    ...(process.env.GPU_CHECK_CONTEXT ? { contextSteps: Number(process.env.GPU_CHECK_CONTEXT) } : {}),
    ...(process.env.GPU_CHECK_HORIZON ? { horizonSteps: Number(process.env.GPU_CHECK_HORIZON) } : {}),
  };
  const result = await runWorkloadBench({ providers, batches, lstm, config, budgetMs: Number(process.env.GPU_CHECK_BUDGET_S ?? 300) * 1000 });
  process.stdout.write(`${JSON.stringify({ check: 'gpu', ...result })}\n`);
  return (result.problems as string[]).length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stdout.write(`${JSON.stringify({ check: 'gpu', fatal: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })}\n`);
    process.exitCode = 1;
  },
);
