import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { serialiseFields, type Logger } from '../core/util/logger';

export interface FileLogger extends Logger {
  readonly filePath: string;
  /** Flushes what is buffered; later records go to stderr. */
  close(): Promise<void>;
}

/**
 * JSON lines in `<dir>/main.log`, the format the daemon writes to stderr, so one set of tools
 * reads both. A stream, not appendFileSync: the main process must not block on the disk.
 * If the file cannot be written, records go to stderr rather than nowhere.
 */
export function createFileLogger(dir: string): FileLogger {
  const filePath = join(dir, 'main.log');
  let stream: NodeJS.WritableStream | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    const fileStream = createWriteStream(filePath, { flags: 'a' });
    fileStream.on('error', (error) => {
      stream = undefined;
      process.stderr.write(`cannot write ${filePath}: ${error.message}\n`);
    });
    stream = fileStream;
  } catch (error) {
    process.stderr.write(`cannot write ${filePath}: ${(error as Error).message}\n`);
  }

  const write = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void => {
    const line = `${JSON.stringify({ time: new Date().toISOString(), level, message, ...serialiseFields(fields) })}\n`;
    if (stream) stream.write(line);
    else process.stderr.write(line);
  };

  return {
    filePath,
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    close: () =>
      new Promise<void>((resolve) => {
        const current = stream;
        stream = undefined;
        if (!current) return resolve();
        current.end(() => resolve());
      }),
  };
}
