import type { FastifyReply } from 'fastify';
import type { AppError } from '../errors/app-error.js';
import { errorCatalogue } from '../errors/catalogue.js';
import type { ProviderFailure } from '../providers/provider.js';

/** OpenAI's `type` for an HTTP status, so OpenAI clients raise the error class they expect. */
function typeOf(status: number): string {
  if (status === 400 || status === 413 || status === 415) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  return 'api_error';
}

/**
 * `/v1` errors in OpenAI's shape `{ error: { message, type, code, param } }`. `code` is the gateway's classified
 * code; a provider's reason (`context_length_exceeded`, `content_policy`) and the provider ride along.
 */
export function openAiErrorBody(error: AppError, requestId: string) {
  const details = error.details ?? {};
  return {
    error: {
      message: error.message,
      type: typeOf(error.status),
      code: error.code,
      param: typeof details.param === 'string' ? details.param : null,
      ...(details.reason ? { reason: details.reason } : {}),
      ...(details.provider ? { provider: details.provider } : {}),
      request_id: requestId,
    },
  };
}

export function sendOpenAiError(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply
    .status(error.status)
    .type('application/json; charset=utf-8')
    .send(openAiErrorBody(error, reply.request.id));
}

/** The SSE error event that ends a stream which broke after its first token. */
export function openAiStreamError(failure: ProviderFailure, provider: string) {
  const status = errorCatalogue[failure.code].status;
  return {
    error: {
      message: `The answer is incomplete: ${failure.message}`,
      type: typeOf(status),
      code: failure.code,
      param: null,
      ...(failure.reason ? { reason: failure.reason } : {}),
      provider,
    },
  };
}
