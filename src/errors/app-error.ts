import { type ErrorCode, errorCatalogue } from './catalogue.js';

export interface AppErrorOptions {
  /** Overrides the catalogue status (rarely needed; e.g. a provider error keeping its upstream status). */
  status?: number;
  cause?: unknown;
  details?: Record<string, unknown>;
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
}

/** The one error type the gateway raises on purpose. The HTTP layer maps it to `{ error, message, requestId }`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? errorCatalogue[code].status;
    this.details = options.details;
    this.headers = options.headers;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
