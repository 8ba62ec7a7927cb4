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

/** The update kinds that carry a chat the reply can go to (SPEC's Telegram paths); others are acknowledged only. */
const chatUpdates = ['message', 'edited_message', 'channel_post', 'callback_query'] as const;

function messageText(update: Record<string, unknown>): string | undefined {
  for (const key of ['message', 'edited_message', 'channel_post']) {
    const message = update[key] as { text?: unknown; caption?: unknown } | undefined;
    if (typeof message?.text === 'string') return message.text;
    if (typeof message?.caption === 'string') return message.caption;
  }
  const callback = update.callback_query as { data?: unknown } | undefined;
  return typeof callback?.data === 'string' ? callback.data : undefined;
}

export type TelegramMapping =
  | { kind: 'ignore'; reason: string }
  | { kind: 'ingest'; input: IngestRequestInput };

/**
 * One Telegram update → pipeline input: dedup on `update_id`, the update itself as payload (plus its text). Updates
 * of other kinds (`my_chat_member`, `edited_channel_post`, polls …) have no chat on SPEC's paths: each would open a
 * session of its own and a reply with nowhere to go, so they are acknowledged (200) and not stored.
 */
export function mapTelegramUpdate(connectorId: string, update: Record<string, unknown>): TelegramMapping {
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
  const kind = chatUpdates.find((key) => update[key] !== undefined && update[key] !== null);
  if (!kind) {
    const other = Object.keys(update).find((key) => key !== 'update_id') ?? 'empty';
    return { kind: 'ignore', reason: `update type ${other.slice(0, 64)}` };
  }
  const text = messageText(update);
  return {
    kind: 'ingest',
    input: {
      connectorId,
      eventId: `update-${updateId}`,
      fields: { payload: text === undefined ? update : { ...update, text } },
    },
  };
}
