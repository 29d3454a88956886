/**
 * The typed errors every transport carries unchanged: IPC returns them in an envelope,
 * HTTP maps `code` to a status, the in-process client throws them as they are.
 */

export const API_ERROR_CODES = [
  'unknown_method',
  'invalid_input',
  'not_found',
  'conflict',
  'unauthorized',
  'forbidden',
  'payload_too_large',
  'unsupported_media_type',
  'unavailable',
  'internal',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** One problem with one field of an input: `path` is the field, as in zod ("servers.3.name"). */
export interface ApiIssue {
  path: string;
  message: string;
}

/** The JSON shape of an error on the wire (HTTP body, IPC envelope, WebSocket). */
export interface ApiErrorBody {
  code: ApiErrorCode;
  message: string;
  issues?: ApiIssue[];
}

export const HTTP_STATUS_BY_CODE: Record<ApiErrorCode, number> = {
  unknown_method: 404,
  invalid_input: 400,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unavailable: 503,
  internal: 500,
};

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly issues?: ApiIssue[],
  ) {
    super(message);
  }

  get httpStatus(): number {
    return HTTP_STATUS_BY_CODE[this.code];
  }

  toJSON(): ApiErrorBody {
    return this.issues ? { code: this.code, message: this.message, issues: this.issues } : { code: this.code, message: this.message };
  }

  /** Rebuilds an ApiError from whatever came over a wire; anything unrecognised becomes `internal`. */
  static fromBody(body: unknown, fallbackMessage = 'Unexpected response'): ApiError {
    if (typeof body === 'object' && body !== null) {
      const { code, message, issues } = body as { code?: unknown; message?: unknown; issues?: unknown };
      if (isErrorCode(code)) {
        return new ApiError(
          code,
          typeof message === 'string' ? message : fallbackMessage,
          Array.isArray(issues) ? issues.filter(isIssue) : undefined,
        );
      }
    }
    return new ApiError('internal', fallbackMessage);
  }
}

function isErrorCode(value: unknown): value is ApiErrorCode {
  return typeof value === 'string' && (API_ERROR_CODES as readonly string[]).includes(value);
}

function isIssue(value: unknown): value is ApiIssue {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ApiIssue).path === 'string' &&
    typeof (value as ApiIssue).message === 'string'
  );
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}
