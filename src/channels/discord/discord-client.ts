import type { ChannelConnector } from '../../config/ingest-settings.js';
import { type DeliveryOutcome, httpFailure, postJson, retryAfterHeader, truncate } from '../platform-http.js';

/** Discord create-message (`POST /channels/{id}/messages`, 2000 characters); 429 bodies carry `retry_after` seconds. */
export async function createDiscordMessage(
  connector: ChannelConnector,
  channelId: string,
  text: string,
  timeoutMs: number,
): Promise<DeliveryOutcome> {
  const response = await postJson(
    `${connector.apiBaseUrl}/channels/${encodeURIComponent(channelId)}/messages`,
    { content: truncate(text, 2000), allowed_mentions: { parse: [] } },
    { authorization: `Bot ${connector.botToken}` },
    timeoutMs,
  );
  if ('networkError' in response)
    return { ok: false, retryable: true, status: null, error: response.networkError };
  const body = response.body as { id?: string; message?: string; retry_after?: number } | null;
  if (response.status === 429) {
    return {
      ok: false,
      retryable: true,
      status: 429,
      error: body?.message ?? 'You are being rate limited.',
      retryAfterSec: body?.retry_after ?? retryAfterHeader(response.headers) ?? 1,
    };
  }
  if (response.status >= 300) return httpFailure(response.status, body?.message ?? `HTTP ${response.status}`);
  return { ok: true, messageId: body?.id ?? null };
}
