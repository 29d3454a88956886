import { METRIC_NAMES, METRICS, SERVER_STATES, STEP_MS, type MetricName } from '@shared/contract';
import type { SampleColumns } from '@shared/domain';
import { allocateColumns } from '../columns';

/**
 * Deterministic sample batches for the io tests and benchmark: realistic enough to compress
 * like real data (smooth series plus noise), and salted with the values that break naive code
 * (missing, NaN, ±Inf, -0) at known rates.
 */
export interface FixtureOptions {
  servers: number;
  steps: number;
  /** Epoch ms of the first step (on the grid). */
  start?: number;
  /** Share of metric values left missing. */
  missing?: number;
  /** Share of metric values that are NaN, +Inf, -Inf or -0 (a quarter each). */
  special?: number;
  seed?: number;
  /** Rows ordered by time then server, like the simulator's batches (default), or by server then time. */
  order?: 'time' | 'server';
}

export function fixtureColumns(options: FixtureOptions): SampleColumns {
  const { servers, steps } = options;
  const start = options.start ?? Date.UTC(2024, 0, 1);
  const missing = options.missing ?? 0.01;
  const special = options.special ?? 0.001;
  let state = (options.seed ?? 1) >>> 0 || 1;
  const random = (): number => {
    // xorshift32: fast and reproducible; quality is irrelevant here.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const names = Array.from({ length: servers }, (_, s) => `${['ppml', 'ppdb', 'ppweb', 'ppetl'][s % 4]}${String(s).padStart(4, '0')}`);
  const n = servers * steps;
  const columns = allocateColumns(n);
  const specs = METRIC_NAMES.map((name) => METRICS.find((m) => m.name === name)!);
  for (let t = 0; t < steps; t++) {
    for (let s = 0; s < servers; s++) {
      const i = options.order === 'server' ? s * steps + t : t * servers + s;
      columns.server[i] = names[s]!;
      columns.timestamp[i] = start + t * STEP_MS;
      columns.state[i] = random() < 0.05 ? null : SERVER_STATES[(s + Math.floor(t / 100)) % SERVER_STATES.length]!;
      specs.forEach((spec, k) => {
        const r = random();
        if (r < missing) return;
        const column = columns.metrics[spec.name];
        column.present[i] = 1;
        if (r < missing + special) {
          column.values[i] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0][Math.floor(random() * 4)]!;
          return;
        }
        const span = Math.min(spec.max - spec.min, 100);
        const level = 0.5 + 0.3 * Math.sin((t + 37 * s) / 48 + k) + 0.05 * random();
        column.values[i] = Math.round(Math.min(1, Math.max(0, level)) * span * 1000) / 1000 + spec.min;
      });
    }
  }
  return columns;
}

/** Every metric present-mask and value, bit for bit (values compared as bytes where present). */
export function sameSamples(a: SampleColumns, b: SampleColumns): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a.server[i] !== b.server[i]) return `row ${i}: server ${a.server[i]} vs ${b.server[i]}`;
    if (a.timestamp[i] !== b.timestamp[i]) return `row ${i}: timestamp ${a.timestamp[i]} vs ${b.timestamp[i]}`;
    if ((a.state[i] ?? null) !== (b.state[i] ?? null)) return `row ${i}: state ${a.state[i]} vs ${b.state[i]}`;
  }
  for (const name of METRIC_NAMES) {
    const diff = sameMetric(a, b, name);
    if (diff !== null) return diff;
  }
  return null;
}

function sameMetric(a: SampleColumns, b: SampleColumns, name: MetricName): string | null {
  const x = a.metrics[name];
  const y = b.metrics[name];
  const xb = new Uint8Array(x.values.buffer, x.values.byteOffset, a.length * 8);
  const yb = new Uint8Array(y.values.buffer, y.values.byteOffset, b.length * 8);
  for (let i = 0; i < a.length; i++) {
    if (x.present[i] !== y.present[i]) return `row ${i}: ${name} present ${x.present[i]} vs ${y.present[i]}`;
    if (!x.present[i]) continue;
    for (let j = i * 8; j < i * 8 + 8; j++) {
      if (xb[j] !== yb[j]) return `row ${i}: ${name} ${x.values[i]} vs ${y.values[i]} (bytes differ)`;
    }
  }
  return null;
}
