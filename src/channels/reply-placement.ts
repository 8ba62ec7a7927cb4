import type { ChannelConnector } from '../config/ingest-settings.js';

/**
 * Where on the platform a reply goes, besides its chat: into the thread or forum topic the message it answers came
 * from, and (in Telegram groups) as a reply to that message, so a busy conversation shows what is being answered.
 */
export interface ReplyPlacement {
  /** Slack: the thread of the message answered (`thread_ts`), when that message was in a thread. */
  slackThreadTs?: string;
  /** Telegram: the message answered (`reply_parameters.message_id`), in groups and supergroups. */
  telegramReplyTo?: number;
  /** Telegram: the forum topic of the message answered (`message_thread_id`). */
  telegramThreadId?: number;
}

const slackTs = /^\d{1,12}\.\d{1,8}$/;

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A positive safe integer (a platform message id, an event seq), or undefined. */
export function positiveId(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/**
 * The placement of a reply to the event whose payload is `payload` (the platform's own update or envelope, as the
 * native webhooks and most signed-ingest senders store it). Anything unrecognised places the reply in the chat.
 */
export function replyPlacement(platform: ChannelConnector['platform'], payload: unknown): ReplyPlacement {
  const body = record(payload);
  if (!body) return {};
  if (platform === 'slack') {
    const event = record(body.event);
    const thread = event?.thread_ts;
    return typeof thread === 'string' && slackTs.test(thread) ? { slackThreadTs: thread } : {};
  }
  if (platform === 'telegram') {
    const message =
      record(body.message) ??
      record(body.edited_message) ??
      record(body.channel_post) ??
      record(record(body.callback_query)?.message);
    if (!message) return {};
    const placement: ReplyPlacement = {};
    const type = record(message.chat)?.type;
    const messageId = positiveId(message.message_id);
    if (messageId !== undefined && (type === 'group' || type === 'supergroup'))
      placement.telegramReplyTo = messageId;
    const threadId = positiveId(message.message_thread_id);
    if (threadId !== undefined && message.is_topic_message === true) placement.telegramThreadId = threadId;
    return placement;
  }
  return {};
}
