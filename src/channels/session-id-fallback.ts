/**
 * Channel-aware `externalSessionId` fallback (SPEC §7) for requests that omit it: the platform's own chat / channel
 * id, read from fixed payload paths, then metadata keys. The first usable value wins.
 */

type Path = readonly string[];

interface FallbackRule {
  payload: Path[];
  metadata: string[];
  prefix: string;
}

export type FallbackPlatform = 'telegram' | 'slack' | 'discord';

const rules: Record<FallbackPlatform, FallbackRule> = {
  telegram: {
    payload: [
      ['message', 'chat', 'id'],
      ['edited_message', 'chat', 'id'],
      ['channel_post', 'chat', 'id'],
      ['callback_query', 'message', 'chat', 'id'],
      ['chat', 'id'],
    ],
    metadata: ['telegramChatId', 'chatId', 'channelId'],
    prefix: 'telegram_chat:',
  },
  slack: {
    payload: [['event', 'channel'], ['channel', 'id'], ['channel']],
    metadata: ['slackChannelId', 'channelId'],
    prefix: 'slack_channel:',
  },
  discord: {
    payload: [['channel_id'], ['d', 'channel_id']],
    metadata: ['discordChannelId', 'channelId'],
    prefix: 'discord_channel:',
  },
};

/** Payload/metadata paths for every other channel (no prefix). */
const genericPayload: Path[] = [['externalSessionId'], ['sessionId']];

const MAX_LENGTH = 128;

function at(value: unknown, path: Path): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Numbers keep their sign; strings are lowercased with characters outside `[a-z0-9._:-]` replaced by `_`. */
function idText(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'bigint') return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  return trimmed.toLowerCase().replace(/[^a-z0-9._:-]/g, '_');
}

/** The whole id must still be a valid external id (first character alphanumeric, at most 128 characters). */
function finish(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const bounded = id.slice(0, MAX_LENGTH);
  return /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(bounded) ? bounded : undefined;
}

/** The platform whose rules apply to a channel: `telegram`, `telegram-support`, `slack.eu` … by the first word. */
export function platformOfChannel(channel: string): FallbackPlatform | undefined {
  const head = channel.split(/[._:-]/)[0];
  return head === 'telegram' || head === 'slack' || head === 'discord' ? head : undefined;
}

export interface FallbackResult {
  externalSessionId: string;
  /** Where it came from, e.g. `payload.message.chat.id` (shown in the ingest response). */
  source: string;
}

/** Resolves the fallback id, or undefined when no path holds a usable value. */
export function fallbackExternalSessionId(
  platform: FallbackPlatform | undefined,
  payload: unknown,
  metadata: Record<string, unknown> | undefined,
): FallbackResult | undefined {
  if (platform) {
    const rule = rules[platform];
    for (const path of rule.payload) {
      const text = idText(at(payload, path));
      const id = finish(text === undefined ? undefined : rule.prefix + text);
      if (id) return { externalSessionId: id, source: `payload.${path.join('.')}` };
    }
    for (const key of rule.metadata) {
      const text = idText(metadata?.[key]);
      const id = finish(text === undefined ? undefined : rule.prefix + text);
      if (id) return { externalSessionId: id, source: `metadata.${key}` };
    }
    return undefined;
  }
  const metaId = finish(idText(metadata?.externalSessionId));
  if (metaId) return { externalSessionId: metaId, source: 'metadata.externalSessionId' };
  for (const path of genericPayload) {
    const id = finish(idText(at(payload, path)));
    if (id) return { externalSessionId: id, source: `payload.${path.join('.')}` };
  }
  return undefined;
}
