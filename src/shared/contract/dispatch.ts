import type { z } from 'zod';
import { api, isMethod, type Method, type Output, type ParsedInput } from './api';
import { ApiError, type ApiIssue } from './errors';
import type { EventBus } from './events';

/** Who is calling: transports fill it so handlers (and logs) can tell. */
export interface CallContext {
  transport: 'ipc' | 'http' | 'in-process';
}

/**
 * The core's side of the contract: one handler per method, typed from the contract. A core
 * that misses a method or returns the wrong shape does not compile.
 */
export type Handlers = {
  [M in Method]: (input: ParsedInput<M>, ctx: CallContext) => Promise<Output<M>> | Output<M>;
};

/** What every transport needs from the core. */
export interface CoreApi {
  handlers: Handlers;
  events: EventBus;
}

export interface DispatchOptions {
  /** Called with errors that are not ApiErrors (bugs): they reach the caller only as "internal". */
  onInternalError?: (method: Method, error: unknown) => void;
  /** Validate outputs too (tests): a handler that breaks its promise becomes an internal error. */
  validateOutput?: boolean;
}

/**
 * The one entry point of the API: checks that `method` is a contract method, validates `input`
 * with its zod schema, calls the handler. Throws ApiError only.
 */
export async function dispatch(
  core: CoreApi,
  method: string,
  input: unknown,
  ctx: CallContext,
  options: DispatchOptions = {},
): Promise<unknown> {
  if (!isMethod(method)) {
    throw new ApiError('unknown_method', `Unknown method "${truncate(method, 80)}"`);
  }
  const spec = api[method];
  const parsed = spec.input.safeParse(input === undefined || input === null ? {} : input);
  if (!parsed.success) {
    throw new ApiError('invalid_input', `Invalid input for ${method}`, zodIssues(parsed.error));
  }
  const handler = core.handlers[method] as (input: unknown, ctx: CallContext) => unknown;
  try {
    const output = await handler(parsed.data, ctx);
    if (options.validateOutput) {
      const checked = spec.output.safeParse(output);
      if (!checked.success) {
        throw new Error(`${method} returned an invalid output: ${formatIssues(zodIssues(checked.error))}`);
      }
    }
    return output;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    options.onInternalError?.(method, error);
    throw new ApiError('internal', `Internal error in ${method}`);
  }
}

export function zodIssues(error: z.ZodError): ApiIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(input)',
    message: issue.message,
  }));
}

export function formatIssues(issues: readonly ApiIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
