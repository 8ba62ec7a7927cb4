import type { ChannelConnector } from '../../config/ingest-settings.js';
import { AppError } from '../../errors/app-error.js';
import type { IngestRequestInput } from '../ingest-input.js';
import { secretEquals } from '../ingest-signature.js';

/** Telegram proves a webhook call with the `secret_token` given to setWebhook, echoed in this header. */
export function verifyTelegram(connector: ChannelConnector, secretHeader: string | undefined): void {
  if (!secretEquals(secretHeader, connector.secret ?? '')) {
    throw new AppError(
      'AGENT_GATEWAY_INGEST_SIGNATURE_INVALID',
      'X-Telegram-Bot-Api-Secret-Token does not match the connector secret.',
    );
  }
}

function messageText(update: Record<string, unknown>): string | undefined {
  for (const key of ['message', 'edited_message', 'channel_post', 'edited_channel_post']) {
    const message = update[key] as { text?: unknown; caption?: unknown } | undefined;
    if (typeof message?.text === 'string') return message.text;
    if (typeof message?.caption === 'string') return message.caption;
  }
  const callback = update.callback_query as { data?: unknown } | undefined;
  return typeof callback?.data === 'string' ? callback.data : undefined;
}

/** One Telegram update → pipeline input: dedup on `update_id`, the update itself as payload (plus its text). */
export function telegramUpdateToInput(
  connectorId: string,
  update: Record<string, unknown>,
): IngestRequestInput {
  const updateId = update.update_id;
  if (typeof updateId !== 'number' || !Number.isSafeInteger(updateId)) {
    throw new AppError(
      'AGENT_GATEWAY_INGEST_INVALID_INPUT',
      'update_id: must be an integer (a Telegram Update)',
      {
        details: { fields: ['update_id'] },
      },
    );
  }
  const text = messageText(update);
  return {
    connectorId,
    eventId: `update-${updateId}`,
    fields: { payload: text === undefined ? update : { ...update, text } },
  };
}
