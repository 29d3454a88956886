/**
 * One thing wrong with an input file, located the way a person would look for it: CSV by line
 * (1-based, as an editor numbers them), Parquet and Arrow by data row (1-based, header excluded).
 */
export interface FileProblem {
  file: string;
  line: number | null;
  row: number | null;
  field: string | null;
  /** The problem alone, e.g. `"12,5" is not a number`. */
  reason: string;
  /** The whole sentence, with the location: `metrics.csv line 1042, field cpu_percent: "12,5" is not a number`. */
  message: string;
}

export interface ProblemLocation {
  line?: number | null;
  row?: number | null;
  field?: string | null;
}

export function describeProblem(file: string, at: ProblemLocation, reason: string): FileProblem {
  const line = at.line ?? null;
  const row = at.row ?? null;
  const field = at.field ?? null;
  let where = file;
  if (line !== null) where += ` line ${line}`;
  else if (row !== null) where += ` row ${row}`;
  if (field !== null) where += `${line !== null || row !== null ? ',' : ''} field ${field}`;
  return { file, line, row, field, reason, message: `${where}: ${reason}` };
}

/**
 * The one error every reader throws for bad input. It carries every problem found (up to the
 * reader's limit) so a bad file gets one useful report rather than a fix-rerun loop; `file`,
 * `line`, `row` and `field` are those of the first problem, for callers that show only one.
 */
export class FileFormatError extends Error {
  override readonly name = 'FileFormatError';
  readonly file: string;
  readonly line: number | null;
  readonly row: number | null;
  readonly field: string | null;
  readonly problems: readonly FileProblem[];
  /** True when the reader stopped collecting at its limit: the file may hold more problems. */
  readonly truncated: boolean;

  constructor(problems: readonly FileProblem[], truncated = false) {
    const first = problems[0];
    if (!first) throw new Error('FileFormatError needs at least one problem');
    const rest = problems.length - 1;
    const more = rest === 0 ? '' : `\n${problems.slice(1).map((p) => p.message).join('\n')}`;
    const tail = truncated ? `\n(stopped after ${problems.length} problems; the file may hold more)` : '';
    super(`${first.message}${more}${tail}`);
    this.file = first.file;
    this.line = first.line;
    this.row = first.row;
    this.field = first.field;
    this.problems = problems;
    this.truncated = truncated;
  }

  static single(file: string, at: ProblemLocation, reason: string): FileFormatError {
    return new FileFormatError([describeProblem(file, at, reason)]);
  }
}

export const DEFAULT_MAX_ERRORS = 20;

/**
 * Gathers problems while a reader carries on; throws once the limit is reached (there is no
 * point in reading the rest of a file that is already refused) or when the reader finishes.
 */
export class ProblemCollector {
  private readonly problems: FileProblem[] = [];

  constructor(
    readonly file: string,
    readonly maxErrors = DEFAULT_MAX_ERRORS,
  ) {
    if (!Number.isInteger(maxErrors) || maxErrors < 1) throw new RangeError(`maxErrors must be a positive integer, got ${maxErrors}`);
  }

  get count(): number {
    return this.problems.length;
  }

  add(at: ProblemLocation, reason: string): void {
    this.problems.push(describeProblem(this.file, at, reason));
    if (this.problems.length >= this.maxErrors) throw new FileFormatError(this.problems, true);
  }

  /** Throws if anything was collected: the caller's result must not be used. */
  throwIfAny(): void {
    if (this.problems.length > 0) throw new FileFormatError(this.problems, false);
  }
}
