import { PassThrough } from 'node:stream';

/** What a command test hands a command as its stdout/stderr, and what it wrote there. */
export interface CapturedIo {
  stdout: PassThrough;
  stderr: NodeJS.WriteStream;
  /** Everything written to stdout so far. */
  text: () => string;
  /** Everything written to stderr so far (progress bars included). */
  errors: () => string;
}

/** Silent streams for a command under test that keep what it wrote. */
export function captureIo(): CapturedIo {
  const stdout = new PassThrough();
  const chunks: string[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c.toString()));
  const stderr = new PassThrough();
  const errChunks: string[] = [];
  stderr.on('data', (c: Buffer) => errChunks.push(c.toString()));
  return { stdout, stderr: stderr as unknown as NodeJS.WriteStream, text: () => chunks.join(''), errors: () => errChunks.join('') };
}
