import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileLogger } from './file-logger';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tftmp-logs-'));
  dirs.push(dir);
  return dir;
}

function records(file: string): { message: string; level: string }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { message: string; level: string });
}

describe('the file logger', () => {
  it('writes JSON lines to main.log', async () => {
    const dir = join(tempDir(), 'logs');
    const logger = createFileLogger(dir);
    logger.info('hello', { a: 1 });
    logger.error('boom', { error: new Error('bad') });
    await logger.close();
    const lines = records(join(dir, 'main.log'));
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['info', 'hello'],
      ['error', 'boom'],
    ]);
    expect(readdirSync(dir)).toEqual(['main.log']);
  });

  it('rotates by size, keeps at most maxFiles, and loses none of the newest lines', async () => {
    const dir = tempDir();
    const logger = createFileLogger(dir, { maxBytes: 1000, maxFiles: 3 });
    for (let i = 0; i < 200; i += 1) logger.info(`line ${i}`);
    await logger.close();
    expect(readdirSync(dir).sort()).toEqual(['main.1.log', 'main.2.log', 'main.log']);
    for (const file of readdirSync(dir)) expect(statSync(join(dir, file)).size).toBeLessThanOrEqual(1000);
    // Oldest to newest: main.2, main.1, main: consecutive, ending with the last line.
    const kept = ['main.2.log', 'main.1.log', 'main.log'].flatMap((f) => records(join(dir, f)).map((r) => r.message));
    const first = Number(kept[0]!.split(' ')[1]);
    expect(kept).toEqual(Array.from({ length: 200 - first }, (_, k) => `line ${first + k}`));
    expect(first).toBeGreaterThan(0);
  });

  it('rotates an oversized main.log left by an earlier run before writing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'main.log'), `${'x'.repeat(2000)}\n`);
    const logger = createFileLogger(dir, { maxBytes: 1000, maxFiles: 2 });
    logger.info('fresh');
    await logger.close();
    expect(records(join(dir, 'main.log')).map((r) => r.message)).toEqual(['fresh']);
    expect(readFileSync(join(dir, 'main.1.log'), 'utf8')).toHaveLength(2001);
  });

  it('uses 5 files of 5 MiB by default', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'main.log'), 'x'.repeat(5 * 1024 * 1024 - 10));
    for (let n = 1; n <= 4; n += 1) writeFileSync(join(dir, `main.${n}.log`), `old ${n}\n`);
    const logger = createFileLogger(dir);
    logger.info('a line longer than ten bytes');
    await logger.close();
    expect(readdirSync(dir).sort()).toEqual(['main.1.log', 'main.2.log', 'main.3.log', 'main.4.log', 'main.log']);
    expect(readFileSync(join(dir, 'main.4.log'), 'utf8')).toBe('old 3\n'); // old 4 is gone
    expect(statSync(join(dir, 'main.1.log')).size).toBe(5 * 1024 * 1024 - 10);
    expect(existsSync(join(dir, 'main.5.log'))).toBe(false);
  });
});
