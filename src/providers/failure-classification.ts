import { type CallSignal, ProviderFailure } from './provider.js';

/** Parses `retry-after-ms` or `Retry-After` (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(
  headers: Record<string, string | string[] | undefined>,
  now: number = Date.now(),
): number | null {
  const ms = first(headers['retry-after-ms']);
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const value = first(headers['retry-after'])?.trim();
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** What an adapter learned from an error body: the provider's reason and a safe human message. */
export interface ErrorBodyInfo {
  reason: string | null;
  message: string | null;
}

const contextPatterns = [
  /context[_ ]length/i,
  /prompt is too long/i,
  /maximum context/i,
  /exceeds the maximum number of tokens/i,
  /too many tokens/i,
];
const policyPatterns = [/content[_ ]polic/i, /content[_ ]filter/i, /safety/i, /responsible ai/i];

/** Normalises vendor wording to the two reasons the runtime names: context length and content policy. */
export function normaliseReason(reason: string | null, message: string | null): string | null {
  const text = `${reason ?? ''} ${message ?? ''}`;
  if (contextPatterns.some((p) => p.test(text))) return 'context_length_exceeded';
  if (policyPatterns.some((p) => p.test(text))) return 'content_policy';
  return reason;
}

/** Maps a non-2xx answer to a classified failure (SPEC §4 codes), keeping status, reason and Retry-After. */
export function failureFromStatus(
  provider: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  info: ErrorBodyInfo,
): ProviderFailure {
  const retryAfterMs = parseRetryAfter(headers);
  const reason = normaliseReason(info.reason, info.message);
  const detail = info.message ? `: ${info.message.slice(0, 300)}` : '';
  const base = { httpStatus: status, reason, retryAfterMs };
  if (status === 429) {
    return new ProviderFailure({
      ...base,
      code: 'AI_PROVIDER_RATE_LIMITED',
      retryable: true,
      message: `${provider} rate limited the request (429)${detail}`,
    });
  }
  if (status === 401 || status === 403) {
    return new ProviderFailure({
      ...base,
      code: 'AI_PROVIDER_AUTH_ERROR',
      retryable: false,
      message: `${provider} rejected the credentials (${status})${detail}`,
    });
  }
  if (status === 503 || status === 529) {
    return new ProviderFailure({
      ...base,
      code: 'AI_PROVIDER_UNAVAILABLE',
      retryable: true,
      message: `${provider} is unavailable (${status})${detail}`,
    });
  }
  if (status === 408) {
    return new ProviderFailure({
      ...base,
      code: 'AI_PROVIDER_HTTP_ERROR',
      retryable: true,
      message: `${provider} answered 408${detail}`,
    });
  }
  if (status >= 400 && status < 500) {
    return new ProviderFailure({
      ...base,
      code: 'AI_PROVIDER_BAD_REQUEST',
      retryable: false,
      message: `${provider} rejected the request (${status}${reason ? `, ${reason}` : ''})${detail}`,
    });
  }
  return new ProviderFailure({
    ...base,
    code: 'AI_PROVIDER_HTTP_ERROR',
    retryable: status >= 500,
    message: `${provider} answered HTTP ${status}${detail}`,
  });
}

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const timeoutCodes = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** Maps a transport error (refused, reset, aborted, undici timeouts) to a classified failure. */
export function failureFromTransport(provider: string, error: unknown, signal: CallSignal): ProviderFailure {
  if (error instanceof ProviderFailure) return error;
  const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = err?.code ?? err?.cause?.code;
  if (signal.aborted || err?.name === 'AbortError' || code === 'UND_ERR_ABORTED') {
    const why = signal.reason instanceof ProviderFailure ? signal.reason : null;
    return (
      why ??
      new ProviderFailure({
        code: 'AI_PROVIDER_TIMEOUT',
        retryable: false,
        message: `${provider} did not answer in time; the request was aborted`,
      })
    );
  }
  if (code && timeoutCodes.has(code)) {
    return new ProviderFailure({
      code: 'AI_PROVIDER_TIMEOUT',
      retryable: false,
      message: `${provider} did not answer in time (${code})`,
    });
  }
  if (code && unavailableCodes.has(code)) {
    return new ProviderFailure({
      code: 'AI_PROVIDER_UNAVAILABLE',
      retryable: true,
      message: `${provider} could not be reached (${code})`,
    });
  }
  return new ProviderFailure({
    code: 'AI_PROVIDER_ERROR',
    retryable: false,
    message: `${provider} call failed: ${err?.message ?? String(error)}`.slice(0, 300),
  });
}

/** A malformed or empty answer: never passed on as a success. */
/**
 * The provider answered 200 but withheld the answer on policy grounds (a refusal, a content filter, a safety block):
 * a non-retryable bad request whose reason survives fallbacks. `what` completes "<provider> …".
 */
export function contentPolicyFailure(provider: string, what: string): ProviderFailure {
  return new ProviderFailure({
    code: 'AI_PROVIDER_BAD_REQUEST',
    retryable: false,
    httpStatus: 200,
    reason: 'content_policy',
    message: `${provider} ${what}`,
  });
}

export function badResponse(
  provider: string,
  why: string,
  httpStatus: number | null = null,
): ProviderFailure {
  return new ProviderFailure({
    code: 'AI_PROVIDER_BAD_RESPONSE',
    retryable: false,
    httpStatus,
    message: `${provider} returned an unusable response: ${why}`,
  });
}
