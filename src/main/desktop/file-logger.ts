import { createWriteStream, fstatSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { serialiseFields, type Logger } from '../core/util/logger';

export interface FileLogger extends Logger {
  readonly filePath: string;
  /** Flushes what is buffered; later records go to stderr. */
  close(): Promise<void>;
}

export interface FileLoggerOptions {
  /** Rotate when main.log would pass this many bytes (default 5 MiB). */
  maxBytes?: number;
  /** How many files in all, main.log included: main.log, main.1.log … (default 5). */
  maxFiles?: number;
}

export const LOG_MAX_BYTES = 5 * 1024 * 1024;
export const LOG_MAX_FILES = 5;

/**
 * JSON lines in `<dir>/main.log`, the format the daemon writes to stderr, so one set of tools
 * reads both. A stream, not appendFileSync: the main process must not block on the disk.
 * If the file cannot be written, records go to stderr rather than nowhere.
 *
 * Size-based rotation: before a line would take main.log past `maxBytes`, main.log becomes
 * main.1.log (main.1 becomes main.2, …, the oldest is deleted), and a new main.log starts; at
 * most `maxFiles` files, so the logs never take more than about maxFiles × maxBytes.
 */
export function createFileLogger(dir: string, options: FileLoggerOptions = {}): FileLogger {
  const maxBytes = options.maxBytes ?? LOG_MAX_BYTES;
  const maxFiles = Math.max(1, options.maxFiles ?? LOG_MAX_FILES);
  const filePath = join(dir, 'main.log');
  const rotated = (n: number): string => join(dir, `main.${n}.log`);
  let stream: NodeJS.WritableStream | undefined;
  let size = 0;
  let closed = false;
  /** Rotated-out streams still flushing: close() waits for them too. */
  const ending = new Set<Promise<void>>();

  const open = (): void => {
    try {
      mkdirSync(dir, { recursive: true });
      // Opened here, not by the stream: the file exists at once (a rotation right after renames
      // it), and the descriptor follows it when it is renamed, so buffered lines are not lost.
      const fd = openSync(filePath, 'a');
      size = fstatSync(fd).size;
      const fileStream = createWriteStream(filePath, { fd });
      fileStream.on('error', (error) => {
        if (stream === fileStream) stream = undefined;
        process.stderr.write(`cannot write ${filePath}: ${error.message}\n`);
      });
      stream = fileStream;
    } catch (error) {
      stream = undefined;
      process.stderr.write(`cannot write ${filePath}: ${(error as Error).message}\n`);
    }
  };

  const rotate = (): void => {
    // The old stream keeps its descriptor: what it still has buffered lands in main.1.log.
    const old = stream;
    stream = undefined;
    if (old) {
      const ended = new Promise<void>((resolve) => old.end(() => resolve()));
      ending.add(ended);
      void ended.then(() => ending.delete(ended));
    }
    try {
      rmSync(rotated(maxFiles - 1), { force: true });
      for (let n = maxFiles - 2; n >= 1; n -= 1) {
        try {
          renameSync(rotated(n), rotated(n + 1));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      if (maxFiles > 1) renameSync(filePath, rotated(1));
      else rmSync(filePath, { force: true });
    } catch (error) {
      process.stderr.write(`cannot rotate ${filePath}: ${(error as Error).message}\n`);
    }
    open();
  };

  open();
  if (stream && size >= maxBytes) rotate();

  const write = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void => {
    const line = `${JSON.stringify({ time: new Date().toISOString(), level, message, ...serialiseFields(fields) })}\n`;
    const bytes = Buffer.byteLength(line);
    if (stream && !closed && size > 0 && size + bytes > maxBytes) rotate();
    if (stream && !closed) {
      stream.write(line);
      size += bytes;
    } else process.stderr.write(line);
  };

  return {
    filePath,
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    close: async () => {
      closed = true;
      const current = stream;
      stream = undefined;
      if (current) await new Promise<void>((resolve) => current.end(() => resolve()));
      await Promise.all([...ending]);
    },
  };
}
