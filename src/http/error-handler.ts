import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/catalogue.js';

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

const defaultValidationCodes: Record<string, ErrorCode> = {
  body: 'ADMIN_INVALID_BODY',
  querystring: 'ADMIN_INVALID_QUERY',
  params: 'ADMIN_INVALID_QUERY',
  headers: 'ADMIN_INVALID_QUERY',
};

/** Names each failing field: `body.keepRecent: Too big: expected number to be <=1000`. */
function describeValidation(
  context: string,
  issues: ValidationIssue[],
): { message: string; fields: string[] } {
  const prefix = context === 'querystring' ? 'query' : context;
  const fields: string[] = [];
  const parts = issues.slice(0, 5).map((issue) => {
    const path = (issue.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
    let field = path ? `${prefix}.${path}` : prefix;
    if (issue.keyword === 'unrecognized_keys' && Array.isArray(issue.params?.keys)) {
      const keys = issue.params.keys as string[];
      field = keys.map((k) => (path ? `${prefix}.${path}.${k}` : `${prefix}.${k}`)).join(', ');
      fields.push(...keys.map((k) => (path ? `${path}.${k}` : k)));
      return `unknown field(s) ${field}`;
    }
    fields.push(path || prefix);
    return `${field}: ${issue.message ?? 'invalid'}`;
  });
  return { message: parts.join('; '), fields };
}

/** Maps a thrown error to an AppError: ours as is, framework and parser errors to stable codes, the rest to 500. */
export function toAppError(error: unknown, request: FastifyRequest): AppError {
  if (isAppError(error)) return error;
  const err = error as FastifyError & { validationContext?: string; validation?: ValidationIssue[] };
  if (Array.isArray(err.validation)) {
    const context = err.validationContext ?? 'body';
    const code =
      request.routeOptions.config?.validationCodes?.[context as 'body'] ?? defaultValidationCodes[context];
    const { message, fields } = describeValidation(context, err.validation);
    return new AppError(code ?? 'ADMIN_INVALID_BODY', message, { details: { fields } });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is larger than this endpoint accepts.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('INVALID_JSON', 'The request body is not valid JSON.');
    case 'FST_ERR_NOT_FOUND':
      return new AppError('NOT_FOUND', 'No route matches this method and path.');
  }
  if (isDatabaseUnavailable(err)) {
    return new AppError(
      'DATABASE_UNAVAILABLE',
      'The database is unavailable; nothing was written. Retry later.',
      {
        cause: error,
        headers: { 'retry-after': '2' },
      },
    );
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    // A framework 4xx we do not name specifically (e.g. a malformed header): still a client error, never a 500.
    return new AppError('ADMIN_INVALID_QUERY', err.message, { status: err.statusCode });
  }
  return new AppError('INTERNAL_ERROR', 'Internal server error.', { cause: error });
}

const connectionErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01',
  '57P02',
  '57P03',
]);

/** Connection-level database failures (server down, restarting, pool exhausted): 503, the client may retry. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const err = error as { code?: string; message?: string; cause?: unknown } | null;
  if (!err) return false;
  if (err.code && (connectionErrorCodes.has(err.code) || err.code.startsWith('08'))) return true;
  const message = err.message ?? '';
  if (
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
      message,
    )
  ) {
    return true;
  }
  return err.cause !== undefined && err.cause !== error ? isDatabaseUnavailable(err.cause) : false;
}

export function sendAppError(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  const body: Record<string, unknown> = {
    error: error.code,
    message: error.message,
    requestId: reply.request.id,
  };
  if (error.details) body.details = error.details;
  return reply.status(error.status).type('application/json; charset=utf-8').send(body);
}
