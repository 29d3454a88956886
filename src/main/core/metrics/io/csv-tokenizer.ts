/**
 * RFC 4180 records from text that arrives in chunks of any size: a chunk may end inside a
 * quoted field, between CR and LF, or in the middle of a field. Records end at LF, CRLF or a
 * lone CR; quoted fields may hold commas, doubled quotes and line breaks. Each field carries
 * the line it starts on, so an error in a field after a multi-line quoted one still names the
 * line an editor shows.
 *
 * Malformed quoting is reported and parsing goes on (the quote is kept as text), so one stray
 * quote does not hide the rest of a file's problems. A field longer than `maxFieldChars` is
 * fatal: it is almost always an unclosed quote swallowing the file, and it must not grow a
 * string without bound.
 */

const COMMA = 44;
const QUOTE = 34;
const CR = 13;
const LF = 10;

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** A quote inside a quoted field: the field's end, or the first of a doubled quote. */
  QuoteInQuoted,
  /** A CR outside quotes: the record ended; an LF right after it belongs to the same break. */
  AfterCr,
}

export interface CsvRecordSink {
  record(fields: string[], fieldLines: number[]): void;
  /** A quoting problem; `fatal` means parsing cannot go on. */
  problem(line: number, reason: string, fatal: boolean): void;
}

export const DEFAULT_MAX_FIELD_CHARS = 65_536;
export const DEFAULT_MAX_FIELDS = 1_000;

export class CsvTokenizer {
  private state = State.FieldStart;
  private field = '';
  private fields: string[] = [];
  private fieldLines: number[] = [];
  private line = 1;
  private fieldLine = 1;
  private quoteLine = 1;
  private quoted = false;

  constructor(
    private readonly sink: CsvRecordSink,
    private readonly maxFieldChars = DEFAULT_MAX_FIELD_CHARS,
    private readonly maxFields = DEFAULT_MAX_FIELDS,
  ) {}

  /** The line the tokenizer has reached (for messages about the bytes themselves). */
  get currentLine(): number {
    return this.line;
  }

  push(chunk: string): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case State.AfterCr: {
          this.line++;
          this.state = State.FieldStart;
          if (chunk.charCodeAt(i) === LF) i++;
          break;
        }
        case State.FieldStart: {
          this.fieldLine = this.line;
          if (chunk.charCodeAt(i) === QUOTE) {
            this.quoted = true;
            this.quoteLine = this.line;
            this.state = State.Quoted;
            i++;
          } else {
            this.state = State.Unquoted;
          }
          break;
        }
        case State.Unquoted: {
          const start = i;
          let c = 0;
          while (i < n) {
            c = chunk.charCodeAt(i);
            if (c === COMMA || c === LF || c === CR || c === QUOTE) break;
            i++;
          }
          this.append(chunk, start, i);
          if (i === n) break;
          i++;
          if (c === QUOTE) {
            this.sink.problem(this.line, 'a quote in the middle of an unquoted field (quote the whole field and double the quotes inside it)', false);
            this.appendText('"');
          } else {
            this.endField();
            this.afterDelimiter(c);
          }
          break;
        }
        case State.Quoted: {
          const end = chunk.indexOf('"', i);
          const stop = end === -1 ? n : end;
          for (let k = chunk.indexOf('\n', i); k !== -1 && k < stop; k = chunk.indexOf('\n', k + 1)) this.line++;
          this.append(chunk, i, stop);
          i = stop;
          if (end !== -1) {
            i++;
            this.state = State.QuoteInQuoted;
          }
          break;
        }
        case State.QuoteInQuoted: {
          const c = chunk.charCodeAt(i);
          i++;
          if (c === QUOTE) {
            this.appendText('"');
            this.state = State.Quoted;
          } else if (c === COMMA || c === LF || c === CR) {
            this.endField();
            this.afterDelimiter(c);
          } else {
            this.sink.problem(this.line, 'text after the closing quote of a quoted field', false);
            this.appendText(chunk[i - 1]!);
            this.state = State.Unquoted;
          }
          break;
        }
      }
    }
  }

  /** The input is over: flushes the last record (a file need not end with a line break). */
  end(): void {
    switch (this.state) {
      case State.Quoted:
        this.sink.problem(this.quoteLine, `a quoted field opened on line ${this.quoteLine} never closes`, true);
        return;
      case State.AfterCr:
        this.line++;
        return;
      case State.FieldStart:
        // A final record ending with a comma still has its empty last field.
        if (this.fields.length > 0) {
          this.endField();
          this.endRecord();
        }
        return;
      case State.Unquoted:
      case State.QuoteInQuoted:
        this.endField();
        this.endRecord();
        return;
    }
  }

  private afterDelimiter(c: number): void {
    if (c === COMMA) {
      this.state = State.FieldStart;
      return;
    }
    this.endRecord();
    if (c === LF) {
      this.line++;
      this.state = State.FieldStart;
    } else {
      this.state = State.AfterCr;
    }
  }

  private append(chunk: string, start: number, end: number): void {
    if (end > start) this.appendText(start === 0 && end === chunk.length ? chunk : chunk.slice(start, end));
  }

  private appendText(text: string): void {
    this.field += text;
    if (this.field.length > this.maxFieldChars) {
      this.sink.problem(
        this.fieldLine,
        `a field longer than ${this.maxFieldChars} characters starts here${this.quoted ? ' (an unclosed quote?)' : ''}`,
        true,
      );
      // The sink throws on fatal problems; this keeps memory bounded if one does not.
      this.field = '';
    }
  }

  private endField(): void {
    this.fields.push(this.field);
    this.fieldLines.push(this.fieldLine);
    this.field = '';
    this.quoted = false;
    if (this.fields.length > this.maxFields) {
      this.sink.problem(this.fieldLine, `a record with more than ${this.maxFields} fields`, true);
      this.fields = [];
      this.fieldLines = [];
    }
  }

  private endRecord(): void {
    const fields = this.fields;
    const lines = this.fieldLines;
    this.fields = [];
    this.fieldLines = [];
    // Blank lines (and lines of spaces) carry nothing; editors and exporters leave them at the end.
    if (fields.length === 1 && fields[0]!.trim() === '') return;
    this.sink.record(fields, lines);
  }
}
