import { parsePromResponse, PromResponseError, type PromSeries } from './parse';
import type { MetricName } from '@shared/contract';
import type { SourceProblem } from '@shared/domain';

export interface PromClientOptions {
  url: string;
  /** Bearer token; never part of an error message or a log record. */
  token: string | null;
  timeoutMs: number;
}

/** A request that got no usable answer: refused, timed out, HTTP error. The message never holds the token. */
export class PromRequestError extends Error {
  override readonly name = 'PromRequestError';
  constructor(
    message: string,
    /** HTTP status when one came back. */
    readonly status: number | null,
  ) {
    super(message);
  }
}

export interface PromAnswer {
  series: PromSeries[];
  problems: SourceProblem[];
  bytes: number;
}

/** The two read endpoints the source uses, over POST (a long PromQL query does not fit every URL limit). */
export class PromClient {
  private readonly base: string;

  constructor(private readonly options: PromClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  /** /api/v1/query at `time` (epoch ms). */
  query(query: string, time: number, metric: MetricName | null = null): Promise<PromAnswer> {
    return this.post('/api/v1/query', { query, time: (time / 1000).toFixed(3) }, metric);
  }

  /** /api/v1/query_range over [start, end] (epoch ms) at `stepMs`. */
  queryRange(query: string, start: number, end: number, stepMs: number, metric: MetricName | null = null): Promise<PromAnswer> {
    return this.post(
      '/api/v1/query_range',
      { query, start: (start / 1000).toFixed(3), end: (end / 1000).toFixed(3), step: `${stepMs / 1000}s` },
      metric,
    );
  }

  private async post(path: string, params: Record<string, string>, metric: MetricName | null): Promise<PromAnswer> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.base}${path}`, {
        method: 'POST',
        headers,
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new PromRequestError(`${path}: ${describeFetchError(error, this.options.timeoutMs)}`, null);
    }
    // Prometheus answers 400/422/503 with a JSON error body that names the problem: prefer it.
    if (!response.ok) {
      let detail = `HTTP ${response.status}`;
      try {
        parsePromResponse(text, metric);
      } catch (error) {
        if (error instanceof PromResponseError && error.message.startsWith('Prometheus answered')) detail += `: ${error.message}`;
      }
      if (response.status === 401 || response.status === 403) detail += ' (check the bearer token)';
      throw new PromRequestError(`${path}: ${detail}`, response.status);
    }
    const parsed = parsePromResponse(text, metric);
    return { ...parsed, bytes: text.length };
  }
}

export function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return `connection failed (${cause.code})`;
  if (cause && typeof cause.message === 'string') return `connection failed (${cause.message})`;
  return error instanceof Error ? error.message : String(error);
}
