import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * Soak test of the built daemon (`npm run soak -- --minutes N`): a simulated fleet at high speed
 * (default 200 servers at 300x: ingest and a prediction cycle about every second) plus an API
 * load loop (concurrent GETs of /predictions/current, /status, /alerts/active), sampled every
 * minute (every 10 s when N < 10): daemon RSS and open fds (/proc), the store's WAL size,
 * /health latency, the event loop's delay (p99 and max over the daemon's last 30-60 s, from
 * tftmp_event_loop_delay_seconds on /metrics) and prediction cycles by outcome (/metrics). Ends
 * with one verdict line, PASS or FAIL, and exits non-zero on FAIL.
 *
 * Rules: RSS growth over the second half below --max-rss-growth % (default 10), comparing the
 * median of its first third of samples with the median of its last third (one sample is noisy:
 * RSS moves by tens of MiB with each GC of the main and prediction worker heaps); open fds flat
 * (last <= first of the second half + 5); WAL bounded (never above --max-wal-mb, default 64);
 * no failed prediction cycle; no non-2xx answer and no request error. The event-loop delay is
 * reported, not judged: on a loaded 2-core machine it measures the machine as much as the daemon.
 */

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'out', 'main', 'cli.js');

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    servers: { type: 'string', default: '200' },
    speed: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '4' },
    'max-rss-growth': { type: 'string', default: '10' },
    'max-wal-mb': { type: 'string', default: '64' },
  },
});
const minutes = Number(values.minutes);
const maxRssGrowth = Number(values['max-rss-growth']);
const maxWalBytes = Number(values['max-wal-mb']) * 1024 * 1024;
const concurrency = Number(values.concurrency);
const sampleEveryMs = minutes < 10 ? 10_000 : 60_000;

interface Sample {
  t: number;
  rssMiB: number;
  fds: number;
  walMiB: number;
  healthMs: number;
  /** The daemon's event-loop delay over its last 30-60 s (ms): p99 and max. */
  lagP99Ms: number;
  lagMaxMs: number;
  cyclesOk: number;
  cyclesSkipped: number;
  cyclesFailed: number;
  requests: number;
  non2xx: number;
}

function procStatusKiB(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : Number.NaN;
}

function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx electron-vite build --logLevel warn\` first`);
  if (!(minutes > 0)) throw new Error('--minutes must be a positive number');
  const dataDir = mkdtempSync(join(tmpdir(), 'tftmp-soak-'));
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--servers',
      String(values.servers),
      '--speed',
      String(values.speed),
      '--provider',
      'cpu',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 120 s:\n${output}`)), 120_000);
    const check = (): void => {
      const match = /listening on (http:\/\/\S+?)\/?\s/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${output}`));
    });
  });
  const pid = child.pid!;
  console.log(
    `soak: daemon pid ${pid} at ${url}, ${values.servers} servers at ${values.speed}x, ${minutes} min, sampling every ${sampleEveryMs / 1000} s`,
  );

  let requests = 0;
  let non2xx = 0;
  const failures: string[] = [];
  let stopping = false;
  const paths = ['/predictions/current', '/status', '/alerts/active'];
  const loop = async (worker: number): Promise<void> => {
    for (let i = worker; !stopping; i++) {
      const path = paths[i % paths.length]!;
      try {
        const response = await fetch(`${url}${path}`);
        await response.arrayBuffer();
        requests++;
        if (response.status < 200 || response.status >= 300) {
          non2xx++;
          if (failures.length < 5) failures.push(`${path}: HTTP ${response.status}`);
        }
      } catch (error) {
        if (stopping) return;
        requests++;
        non2xx++;
        if (failures.length < 5) failures.push(`${path}: ${String(error)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const loops = Array.from({ length: concurrency }, (_, w) => loop(w));

  const samples: Sample[] = [];
  const started = Date.now();
  const sample = async (): Promise<Sample> => {
    const t0 = performance.now();
    const health = await fetch(`${url}/health`);
    await health.arrayBuffer();
    const healthMs = performance.now() - t0;
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const wal = join(dataDir, 'metrics.sqlite-wal');
    return {
      t: Math.round((Date.now() - started) / 1000),
      rssMiB: Math.round(procStatusKiB(pid, 'VmRSS') / 102.4) / 10,
      fds: readdirSync(`/proc/${pid}/fd`).length,
      walMiB: existsSync(wal) ? Math.round(statSync(wal).size / 104857.6) / 10 : 0,
      healthMs: Math.round(healthMs * 10) / 10,
      lagP99Ms: Math.round(metricValue(metrics, 'tftmp_event_loop_delay_seconds', 'quantile="0.99"') * 10_000) / 10,
      lagMaxMs: Math.round(metricValue(metrics, 'tftmp_event_loop_delay_max_seconds', '') * 10_000) / 10,
      cyclesOk: metricValue(metrics, 'tftmp_prediction_cycles_total', 'outcome="ok"'),
      cyclesSkipped: metricValue(metrics, 'tftmp_prediction_cycles_total', 'outcome="skipped"'),
      cyclesFailed: metricValue(metrics, 'tftmp_prediction_cycles_total', 'outcome="failed"'),
      requests,
      non2xx,
    };
  };

  try {
    const end = started + minutes * 60_000;
    while (Date.now() < end && exited === undefined) {
      await new Promise((r) => setTimeout(r, Math.min(sampleEveryMs, end - Date.now())));
      if (exited !== undefined) break;
      const s = await sample();
      samples.push(s);
      console.log(`soak: ${JSON.stringify(s)}`);
    }
  } finally {
    stopping = true;
    await Promise.allSettled(loops);
    if (child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }

  // The verdict.
  const reasons: string[] = [];
  if (exited !== undefined && samples.length === 0)
    reasons.push(`the daemon exited (${exited}) before the first sample`);
  const half = samples.slice(Math.floor(samples.length / 2));
  const first = half[0];
  const last = samples.at(-1);
  let rssGrowth = Number.NaN;
  const third = Math.max(1, Math.floor(half.length / 3));
  const medianOf = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rssStart = medianOf(half.slice(0, third).map((s) => s.rssMiB));
  const rssEnd = medianOf(half.slice(-third).map((s) => s.rssMiB));
  if (first && last) {
    rssGrowth = ((rssEnd - rssStart) / rssStart) * 100;
    if (!(rssGrowth < maxRssGrowth))
      reasons.push(`RSS grew ${rssGrowth.toFixed(1)} % over the second half (limit ${maxRssGrowth} %)`);
    if (last.fds > first.fds + 5) reasons.push(`open fds grew from ${first.fds} to ${last.fds} over the second half`);
    if (!(last.cyclesOk > (samples[0]?.cyclesOk ?? 0))) reasons.push('no prediction cycle completed during the run');
    if (last.cyclesFailed > 0) reasons.push(`${last.cyclesFailed} failed prediction cycles`);
  } else reasons.push('no samples');
  const maxWal = Math.max(0, ...samples.map((s) => s.walMiB));
  if (maxWal * 1024 * 1024 > maxWalBytes)
    reasons.push(`WAL reached ${maxWal} MiB (limit ${maxWalBytes / 1024 / 1024} MiB)`);
  if (non2xx > 0) reasons.push(`${non2xx} non-2xx answers or request errors: ${failures.join('; ')}`);
  if (exited !== undefined && exited !== null && !stopping) reasons.push(`the daemon exited with ${exited}`);

  const health = samples.map((s) => s.healthMs).sort((a, b) => a - b);
  const summary = {
    minutes,
    servers: Number(values.servers),
    speed: Number(values.speed),
    samples: samples.length,
    requests,
    non2xx,
    rssMiB: {
      start: samples[0]?.rssMiB,
      secondHalfStart: first?.rssMiB,
      end: last?.rssMiB,
      max: Math.max(...samples.map((s) => s.rssMiB)),
      secondHalfFirstThirdMedian: rssStart,
      secondHalfLastThirdMedian: rssEnd,
      secondHalfGrowthPercent: Math.round(rssGrowth * 10) / 10,
    },
    fds: { start: samples[0]?.fds, secondHalfStart: first?.fds, end: last?.fds },
    walMiB: { max: maxWal, end: last?.walMiB },
    healthLatencyMs: {
      median: health[Math.floor(health.length / 2)],
      max: health.at(-1),
    },
    eventLoopDelayMs: {
      p99Median: medianOf(samples.map((s) => s.lagP99Ms)),
      p99Max: Math.max(...samples.map((s) => s.lagP99Ms)),
      max: Math.max(...samples.map((s) => s.lagMaxMs)),
    },
    cycles: { ok: last?.cyclesOk, skipped: last?.cyclesSkipped, failed: last?.cyclesFailed },
  };
  console.log(`soak: summary ${JSON.stringify(summary)}`);
  console.log(`SOAK ${reasons.length === 0 ? 'PASS' : 'FAIL'}${reasons.length ? `: ${reasons.join('; ')}` : ''}`);
  process.exitCode = reasons.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});
