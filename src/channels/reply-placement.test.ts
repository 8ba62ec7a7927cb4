import { describe, expect, it } from 'vitest';
import { replyPlacement } from './reply-placement.js';

describe('replyPlacement', () => {
  it('slack: a message in a thread is answered in that thread; a top-level one in the channel', () => {
    const threaded = {
      type: 'event_callback',
      event: { ts: '1700000001.000200', thread_ts: '1700000000.000100' },
    };
    expect(replyPlacement('slack', threaded)).toEqual({ slackThreadTs: '1700000000.000100' });
    expect(replyPlacement('slack', { event: { ts: '1700000001.000200' } })).toEqual({});
    expect(replyPlacement('slack', { event: { thread_ts: 'not a ts' } })).toEqual({});
    expect(replyPlacement('slack', { event: { thread_ts: 1700000000.0001 } })).toEqual({});
  });

  it('telegram: groups quote the message, forum topics keep the topic, private chats neither', () => {
    const topic = {
      update_id: 1,
      message: {
        message_id: 41,
        message_thread_id: 7,
        is_topic_message: true,
        chat: { id: -1001, type: 'supergroup' },
      },
    };
    expect(replyPlacement('telegram', topic)).toEqual({ telegramReplyTo: 41, telegramThreadId: 7 });
    expect(
      replyPlacement('telegram', { message: { message_id: 3, chat: { id: -5, type: 'group' } } }),
    ).toEqual({
      telegramReplyTo: 3,
    });
    // A reply inside a plain group carries message_thread_id without being a topic message: no topic.
    expect(
      replyPlacement('telegram', {
        message: { message_id: 9, message_thread_id: 4, chat: { id: -5, type: 'group' } },
      }),
    ).toEqual({ telegramReplyTo: 9 });
    expect(
      replyPlacement('telegram', { message: { message_id: 3, chat: { id: 5, type: 'private' } } }),
    ).toEqual({});
    expect(
      replyPlacement('telegram', {
        callback_query: { message: { message_id: 8, chat: { id: -9, type: 'supergroup' } } },
      }),
    ).toEqual({ telegramReplyTo: 8 });
    expect(replyPlacement('telegram', { message: { message_id: -1, chat: { type: 'group' } } })).toEqual({});
  });

  it('anything else places the reply in the chat', () => {
    for (const payload of [null, 'text', [1], {}, { message: 'x' }, { event: null }])
      for (const platform of ['telegram', 'slack', 'discord'] as const)
        expect(replyPlacement(platform, payload)).toEqual({});
  });
});
