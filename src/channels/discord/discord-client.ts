import type {
  RESTPostAPIChannelMessageJSONBody,
  RESTPostAPIChannelMessageResult,
} from 'discord-api-types/v10';
import type { ChannelConnector } from '../../config/ingest-settings.js';
import { type DeliveryOutcome, httpFailure, postJson, retryAfterHeader, truncate } from '../platform-http.js';

/** Discord's 429 body (`retry_after` in seconds, fractional). */
interface DiscordRateLimit {
  message?: string;
  retry_after?: number;
}

/**
 * Discord create-message (`POST /channels/{id}/messages`, 2000 characters); 429 bodies carry `retry_after` seconds.
 * `nonce` with `enforce_nonce` makes the call idempotent on Discord's side: a second create with the same nonce
 * (an attempt whose answer was lost, re-sent by the outbox) returns the message the first one created instead of
 * posting it again.
 */
export async function createDiscordMessage(
  connector: ChannelConnector,
  channelId: string,
  text: string,
  timeoutMs: number,
  nonce: string,
): Promise<DeliveryOutcome> {
  const body: RESTPostAPIChannelMessageJSONBody = {
    content: truncate(text, 2000),
    allowed_mentions: { parse: [] },
    nonce,
    enforce_nonce: true,
  };
  const response = await postJson(
    `${connector.apiBaseUrl}/channels/${encodeURIComponent(channelId)}/messages`,
    body,
    { authorization: `Bot ${connector.botToken}` },
    timeoutMs,
  );
  if ('networkError' in response)
    return { ok: false, retryable: true, status: null, error: response.networkError };
  if (response.status === 429) {
    const limit = response.body as DiscordRateLimit | null;
    return {
      ok: false,
      retryable: true,
      status: 429,
      error: limit?.message ?? 'You are being rate limited.',
      retryAfterSec: limit?.retry_after ?? retryAfterHeader(response.headers) ?? 1,
    };
  }
  if (response.status >= 300)
    return httpFailure(
      response.status,
      (response.body as { message?: string } | null)?.message ?? `HTTP ${response.status}`,
    );
  const created = response.body as Partial<RESTPostAPIChannelMessageResult> | null;
  return { ok: true, messageId: created?.id ?? null };
}
