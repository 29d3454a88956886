/**
 * A progress bar for long CLI work, on stderr so stdout stays clean for data. On a terminal it
 * redraws one line (bar, percent, rate, ETA); elsewhere (CI logs, pipes) it prints a line every
 * 10% so logs stay short.
 */
export interface ProgressBar {
  update(done: number, total?: number): void;
  done(message?: string): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  stream?: NodeJS.WriteStream;
  now?: () => number;
}

export function createProgressBar(options: ProgressOptions): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const unit = options.unit ?? 'items';
  const started = now();
  let total = options.total;
  let lastDraw = -Infinity;
  let lastDecile = -1;
  let finished = false;

  const render = (done: number): string => {
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const elapsed = (now() - started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 && fraction < 1 ? (total - done) / rate : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    return `${options.label} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${formatCount(done)}/${formatCount(total)} ${unit} · ${formatCount(rate)}/s · ETA ${formatDuration(eta)}`;
  };

  return {
    update(done, newTotal) {
      if (finished) return;
      if (newTotal !== undefined) total = newTotal;
      if (stream.isTTY) {
        const t = now();
        if (t - lastDraw < 80 && done < total) return;
        lastDraw = t;
        stream.write(`\r${render(done)}\u001b[K`);
      } else {
        const decile = total > 0 ? Math.floor((done / total) * 10) : 0;
        if (decile > lastDecile) {
          lastDecile = decile;
          stream.write(`${render(done)}\n`);
        }
      }
    },
    done(message) {
      if (finished) return;
      finished = true;
      const elapsed = (now() - started) / 1000;
      const text = message ?? `${options.label} done in ${formatDuration(elapsed)}`;
      stream.write(stream.isTTY ? `\r${text}\u001b[K\n` : `${text}\n`);
    },
  };
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 90) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
