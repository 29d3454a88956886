import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

interface TargetSummary {
  target: string;
  cases: number;
  ok: number;
  rejections: Record<string, number>;
  crashes: number;
  crashSamples: string[];
}

/** Global setup of scripts/fuzz/vitest.config.ts: its teardown prints the run's JSON summary. */
export default function setup(): () => void {
  return () => {
    const dir = process.env.FUZZ_SUMMARY_DIR;
    if (!dir) return;
    const targets = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as TargetSummary)
      .sort((a, b) => a.target.localeCompare(b.target));
    const rejections: Record<string, number> = {};
    for (const t of targets)
      for (const [k, n] of Object.entries(t.rejections)) rejections[k] = (rejections[k] ?? 0) + n;
    const summary = {
      runsPerTarget: Number(process.env.FUZZ_RUNS),
      cases: targets.reduce((n, t) => n + t.cases, 0),
      ok: targets.reduce((n, t) => n + t.ok, 0),
      rejections,
      crashes: targets.reduce((n, t) => n + t.crashes, 0),
      targets,
    };
    console.log(`\nFUZZ SUMMARY ${JSON.stringify(summary, null, 2)}`);
    rmSync(dir, { recursive: true, force: true });
  };
}
