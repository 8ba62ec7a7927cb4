import type { ChannelConnector } from '../../config/ingest-settings.js';
import { type DeliveryOutcome, httpFailure, postJson, retryAfterHeader, truncate } from '../platform-http.js';
import type { ReplyPlacement } from '../reply-placement.js';

/**
 * Telegram Bot API `sendMessage` (4096-character limit); 429 carries `parameters.retry_after`. In a forum topic the
 * reply stays in that topic; in groups it quotes the message it answers (and is still sent if that was deleted).
 */
export async function sendTelegramMessage(
  connector: ChannelConnector,
  chatId: string,
  text: string,
  timeoutMs: number,
  placement: ReplyPlacement = {},
): Promise<DeliveryOutcome> {
  const chat = /^-?\d+$/.test(chatId) ? Number(chatId) : chatId;
  const response = await postJson(
    `${connector.apiBaseUrl}/bot${connector.botToken}/sendMessage`,
    {
      chat_id: chat,
      text: truncate(text, 4096),
      ...(placement.telegramThreadId !== undefined ? { message_thread_id: placement.telegramThreadId } : {}),
      ...(placement.telegramReplyTo !== undefined
        ? { reply_parameters: { message_id: placement.telegramReplyTo, allow_sending_without_reply: true } }
        : {}),
    },
    {},
    timeoutMs,
  );
  if ('networkError' in response)
    return { ok: false, retryable: true, status: null, error: response.networkError };
  const body = response.body as {
    ok?: boolean;
    description?: string;
    result?: { message_id?: number };
    parameters?: { retry_after?: number };
  } | null;
  if (response.status === 429) {
    return {
      ok: false,
      retryable: true,
      status: 429,
      error: body?.description ?? 'Too Many Requests',
      retryAfterSec: body?.parameters?.retry_after ?? retryAfterHeader(response.headers) ?? 1,
    };
  }
  if (response.status >= 300 || body?.ok !== true)
    return httpFailure(response.status, body?.description ?? `HTTP ${response.status}`);
  return {
    ok: true,
    messageId: body.result?.message_id === undefined ? null : String(body.result.message_id),
  };
}
