import type { ApiResponse, Message, Opts } from '@grammyjs/types';
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
  const params: Opts<never>['sendMessage'] = {
    chat_id: /^-?\d+$/.test(chatId) ? Number(chatId) : chatId,
    text: truncate(text, 4096),
  };
  if (placement.telegramThreadId !== undefined) params.message_thread_id = placement.telegramThreadId;
  if (placement.telegramReplyTo !== undefined)
    params.reply_parameters = { message_id: placement.telegramReplyTo, allow_sending_without_reply: true };
  const response = await postJson(
    `${connector.apiBaseUrl}/bot${connector.botToken}/sendMessage`,
    params,
    {},
    timeoutMs,
  );
  if ('networkError' in response)
    return { ok: false, retryable: true, status: null, error: response.networkError };
  // The Bot API's own envelope; read defensively (a proxy in between may answer with anything).
  const body = response.body as Partial<ApiResponse<Message.TextMessage>> | null;
  const failure = body?.ok === false ? body : undefined;
  if (response.status === 429) {
    return {
      ok: false,
      retryable: true,
      status: 429,
      error: failure?.description ?? 'Too Many Requests',
      retryAfterSec: failure?.parameters?.retry_after ?? retryAfterHeader(response.headers) ?? 1,
    };
  }
  if (response.status >= 300 || body?.ok !== true)
    return httpFailure(response.status, failure?.description ?? `HTTP ${response.status}`);
  const messageId = body.result?.message_id;
  return { ok: true, messageId: messageId === undefined ? null : String(messageId) };
}
