/** The core's logging surface: the desktop writes it to a rotated file, the daemon to stderr. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** One JSON line per record on stderr: greppable, and safe for journald and log shippers. */
export function createStderrLogger(minLevel: 'info' | 'warn' | 'error' = 'info'): Logger {
  const levels = { info: 0, warn: 1, error: 2 } as const;
  const write = (level: keyof typeof levels, message: string, fields?: Record<string, unknown>): void => {
    if (levels[level] < levels[minLevel]) return;
    const record = { time: new Date().toISOString(), level, message, ...serialiseFields(fields) };
    process.stderr.write(`${JSON.stringify(record)}\n`);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/** Errors lose their message and stack through JSON.stringify; keep them. */
export function serialiseFields(fields?: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!fields) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
  }
  return out;
}

/** For tests: keeps records in memory so a test can assert on what was logged. */
export function createMemoryLogger(): Logger & { records: { level: string; message: string; fields?: Record<string, unknown> }[] } {
  const records: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const push = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    records.push(fields ? { level, message, fields } : { level, message });
  };
  return { records, info: push('info'), warn: push('warn'), error: push('error') };
}
