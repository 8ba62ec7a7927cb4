import type { ChannelConnector } from '../../config/ingest-settings.js';
import { type DeliveryOutcome, httpFailure, postJson, retryAfterHeader, truncate } from '../platform-http.js';
import type { ReplyPlacement } from '../reply-placement.js';

/**
 * Slack Web API `chat.postMessage`; rate limits are HTTP 429 with `Retry-After`, other errors `ok: false`. A reply to
 * a message in a thread goes into that thread.
 */
export async function postSlackMessage(
  connector: ChannelConnector,
  channel: string,
  text: string,
  timeoutMs: number,
  placement: ReplyPlacement = {},
): Promise<DeliveryOutcome> {
  const response = await postJson(
    `${connector.apiBaseUrl}/chat.postMessage`,
    {
      channel,
      text: truncate(text, 4000),
      ...(placement.slackThreadTs !== undefined ? { thread_ts: placement.slackThreadTs } : {}),
    },
    { authorization: `Bearer ${connector.botToken}` },
    timeoutMs,
  );
  if ('networkError' in response)
    return { ok: false, retryable: true, status: null, error: response.networkError };
  const body = response.body as { ok?: boolean; error?: string; ts?: string } | null;
  if (response.status === 429 || body?.error === 'ratelimited') {
    return {
      ok: false,
      retryable: true,
      status: 429,
      error: 'ratelimited',
      retryAfterSec: retryAfterHeader(response.headers) ?? 1,
    };
  }
  if (response.status >= 300) return httpFailure(response.status, body?.error ?? `HTTP ${response.status}`);
  if (body?.ok !== true) {
    const error = body?.error ?? 'unknown_error';
    // Slack answers 200 with ok:false; only its transient errors are worth another attempt.
    const retryable = ['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'].includes(
      error,
    );
    return { ok: false, retryable, status: response.status, error };
  }
  return { ok: true, messageId: body.ts ?? null };
}
