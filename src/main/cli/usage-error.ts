/** A mistake in the command line: printed with the usage, exit code 2, no stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
