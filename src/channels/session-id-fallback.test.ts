import { describe, expect, it } from 'vitest';
import { fallbackExternalSessionId, platformOfChannel } from './session-id-fallback.js';

const id = (channel: string, payload: unknown, metadata?: Record<string, unknown>) =>
  fallbackExternalSessionId(platformOfChannel(channel), payload, metadata);

describe('externalSessionId fallback (SPEC §7)', () => {
  it('telegram: every update shape, numbers keep their sign, then metadata', () => {
    expect(id('telegram', { update_id: 1, message: { chat: { id: -1001234567890 } } })).toEqual({
      externalSessionId: 'telegram_chat:-1001234567890',
      source: 'payload.message.chat.id',
    });
    expect(id('telegram', { edited_message: { chat: { id: 42 } } })?.externalSessionId).toBe(
      'telegram_chat:42',
    );
    expect(id('telegram', { channel_post: { chat: { id: -7 } } })?.externalSessionId).toBe(
      'telegram_chat:-7',
    );
    expect(id('telegram', { callback_query: { message: { chat: { id: 9 } } } })?.source).toBe(
      'payload.callback_query.message.chat.id',
    );
    expect(id('telegram', { chat: { id: 'SupportGroup' } })?.externalSessionId).toBe(
      'telegram_chat:supportgroup',
    );
    expect(id('telegram', {}, { telegramChatId: 5, chatId: 6 })).toEqual({
      externalSessionId: 'telegram_chat:5',
      source: 'metadata.telegramChatId',
    });
    expect(id('telegram', {}, { chatId: '@My Channel' })?.externalSessionId).toBe(
      'telegram_chat:_my_channel',
    );
    expect(id('telegram', {}, { channelId: 11 })?.externalSessionId).toBe('telegram_chat:11');
    // message wins over later paths
    expect(id('telegram', { message: { chat: { id: 1 } }, chat: { id: 2 } })?.externalSessionId).toBe(
      'telegram_chat:1',
    );
  });

  it('slack: event.channel, channel.id, channel; ids lowercased; then metadata', () => {
    expect(id('slack', { event: { channel: 'C024BE91L' } })).toEqual({
      externalSessionId: 'slack_channel:c024be91l',
      source: 'payload.event.channel',
    });
    expect(id('slack', { channel: { id: 'G0ABC' } })?.externalSessionId).toBe('slack_channel:g0abc');
    expect(id('slack', { channel: 'D0XYZ' })?.externalSessionId).toBe('slack_channel:d0xyz');
    expect(id('slack', {}, { slackChannelId: 'C1' })?.externalSessionId).toBe('slack_channel:c1');
    expect(id('slack', {}, { channelId: 'C2' })?.externalSessionId).toBe('slack_channel:c2');
  });

  it('discord: channel_id, nested d.channel_id, then metadata', () => {
    expect(id('discord', { channel_id: '1100223344556677889' })?.externalSessionId).toBe(
      'discord_channel:1100223344556677889',
    );
    expect(id('discord', { op: 0, d: { channel_id: '998877' } })).toEqual({
      externalSessionId: 'discord_channel:998877',
      source: 'payload.d.channel_id',
    });
    expect(id('discord', {}, { discordChannelId: 55 })?.externalSessionId).toBe('discord_channel:55');
  });

  it('other channels: metadata/payload externalSessionId, then payload sessionId', () => {
    expect(id('web-chat', { sessionId: 'ABC def' })?.externalSessionId).toBe('abc_def');
    expect(
      id('web-chat', { externalSessionId: 'P-1' }, { externalSessionId: 'M-1' })?.externalSessionId,
    ).toBe('m-1');
    expect(id('web-chat', { externalSessionId: 'P-1' })?.externalSessionId).toBe('p-1');
    expect(id('web-chat', { text: 'no id' })).toBeUndefined();
    // A value that cannot become a valid id (leading separator) is skipped.
    expect(id('web-chat', { sessionId: '--' })).toBeUndefined();
  });

  it('caps ids at 128 characters and picks the platform by the channel’s first word', () => {
    const long = id('slack', { channel: 'C'.repeat(300) })!.externalSessionId;
    expect(long).toHaveLength(128);
    expect(platformOfChannel('telegram-support')).toBe('telegram');
    expect(platformOfChannel('slack.eu')).toBe('slack');
    expect(platformOfChannel('discordia')).toBeUndefined();
  });
});
