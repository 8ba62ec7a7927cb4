import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePlatforms } from '../helpers/fake-platforms.js';
import { eventually } from '../helpers/ingest-client.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const TELEGRAM_SECRET = 'tg-secret_token-0123456789';
const SLACK_SECRET = 'slack-signing-secret-0123456789';
const S = '/api/admin/agent-gateway/sessions';

interface TimelineEvent {
  seq: number;
  type: string;
  fromRole: string;
  toRole: string | null;
  payload: Record<string, unknown>;
}

async function timeline(t: TestGateway, sessionId: string): Promise<TimelineEvent[]> {
  const res = await adminRequest(t, 'GET', `${S}/${sessionId}/events?limit=100`);
  return (res.json().events as TimelineEvent[]).slice().reverse();
}

/** Waits for the reply to be delivered (or to fail) and returns the whole timeline. */
async function deliveredTimeline(t: TestGateway, sessionId: string): Promise<TimelineEvent[]> {
  return eventually(async () => {
    const events = await timeline(t, sessionId);
    return events.some((e) => e.type === 'reply_delivered' || e.type === 'reply_delivery_failed')
      ? events
      : undefined;
  }, 40_000);
}

describe('native platform webhooks and replies back to the channel', () => {
  let t: TestGateway;
  const fake = new FakePlatforms();
  let discordKey: KeyObject;

  beforeAll(async () => {
    await fake.start();
    const pair = generateKeyPairSync('ed25519');
    discordKey = pair.privateKey;
    const publicKeyHex = pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
    const profile = (channel: string) => ({
      channel,
      fromRole: 'observer',
      toRole: 'author',
      type: 'observer_message',
    });
    t = await startTestGateway({
      env: {
        AGENT_GATEWAY_CHANNEL_CONNECTORS: JSON.stringify({
          tg: {
            platform: 'telegram',
            secret: TELEGRAM_SECRET,
            botToken: '123456:test-bot-token',
            apiBaseUrl: fake.url,
          },
          sl: { platform: 'slack', secret: SLACK_SECRET, botToken: 'xoxb-test-token', apiBaseUrl: fake.url },
          dc: {
            platform: 'discord',
            publicKey: publicKeyHex,
            botToken: 'discord-bot-token',
            apiBaseUrl: fake.url,
          },
          quiet: { platform: 'telegram', secret: 'quiet-secret-token' },
        }),
        AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: JSON.stringify({
          tg: profile('telegram'),
          sl: profile('slack'),
          dc: profile('discord'),
        }),
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await fake.stop();
  });

  const telegram = (connector: string, update: unknown, secret?: string) =>
    t.gateway.app.inject({
      method: 'POST',
      url: `/api/agent-gateway/channels/telegram/${connector}`,
      headers: {
        'content-type': 'application/json',
        ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}),
      },
      payload: JSON.stringify(update),
    });

  const slack = (body: unknown, options: { secret?: string; timestamp?: number; retry?: string } = {}) => {
    const raw = JSON.stringify(body);
    const ts = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const sig = `v0=${createHmac('sha256', options.secret ?? SLACK_SECRET)
      .update(`v0:${ts}:${raw}`)
      .digest('hex')}`;
    return t.gateway.app.inject({
      method: 'POST',
      url: '/api/agent-gateway/channels/slack/sl',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': sig,
        ...(options.retry
          ? { 'x-slack-retry-num': options.retry, 'x-slack-retry-reason': 'http_timeout' }
          : {}),
      },
      payload: raw,
    });
  };

  const discord = (body: unknown, key: KeyObject = discordKey) => {
    const raw = JSON.stringify(body);
    const ts = String(Math.floor(Date.now() / 1000));
    return t.gateway.app.inject({
      method: 'POST',
      url: '/api/agent-gateway/channels/discord/dc',
      headers: {
        'content-type': 'application/json',
        'x-signature-timestamp': ts,
        'x-signature-ed25519': sign(null, Buffer.from(ts + raw), key).toString('hex'),
      },
      payload: raw,
    });
  };

  it('telegram: wrong or missing secret token → 401; a message is ingested once per update_id and answered in the chat', async () => {
    const update = {
      update_id: 700001,
      message: {
        message_id: 5,
        chat: { id: -100555, type: 'supergroup' },
        from: { id: 1 },
        text: "what's the plan? <b>&",
      },
    };
    const wrong = await telegram('tg', update, 'not-the-secret');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');
    expect((await telegram('tg', update)).statusCode).toBe(401);
    expect((await telegram('nope', update, TELEGRAM_SECRET)).json().error).toBe(
      'AGENT_GATEWAY_INGEST_CONNECTOR_NOT_FOUND',
    );

    const res = await telegram('tg', update, TELEGRAM_SECRET);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ applied: true, externalSessionId: 'telegram_chat:-100555' });
    const replay = await telegram('tg', update, TELEGRAM_SECRET);
    expect(replay.json()).toMatchObject({
      applied: false,
      deduplicated: true,
      sessionId: res.json().sessionId,
    });

    const events = await deliveredTimeline(t, res.json().sessionId);
    expect(events.map((e) => e.type)).toEqual(['observer_message', 'agent_reply', 'reply_delivered']);
    expect(events[0]!.payload.text).toBe("what's the plan? <b>&");
    const call = fake.calls.find((c) => c.path === '/bot123456:test-bot-token/sendMessage');
    // A supergroup: the reply quotes the message it answers.
    expect(call?.body).toMatchObject({
      chat_id: -100555,
      text: events[1]!.payload.text,
      reply_parameters: { message_id: 5, allow_sending_without_reply: true },
    });
    expect(call?.body).not.toHaveProperty('message_thread_id');
    expect(events[2]!.payload).toMatchObject({
      replySeq: 2,
      platform: 'telegram',
      attempts: 1,
      messageId: expect.any(String),
    });
  });

  it('telegram: an update without a chat to answer (my_chat_member …) is acknowledged, not stored', async () => {
    const sessionsBefore = (await adminRequest(t, 'GET', `${S}?channel=telegram&limit=100`)).json().total;
    const calls = fake.calls.length;
    const res = await telegram(
      'tg',
      {
        update_id: 700050,
        my_chat_member: {
          chat: { id: -100999, type: 'supergroup' },
          from: { id: 1 },
          date: 1700000000,
          old_chat_member: { status: 'left', user: { id: 2 } },
          new_chat_member: { status: 'member', user: { id: 2 } },
        },
      },
      TELEGRAM_SECRET,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, ignored: 'update type my_chat_member' });
    expect((await adminRequest(t, 'GET', `${S}?channel=telegram&limit=100`)).json().total).toBe(
      sessionsBefore,
    );
    expect(fake.calls.length).toBe(calls);
    // Still authenticated first, and update_id still required.
    expect((await telegram('tg', { update_id: 700051, poll: {} }, 'wrong')).statusCode).toBe(401);
    expect((await telegram('tg', { poll: {} }, TELEGRAM_SECRET)).statusCode).toBe(400);
  });

  it('a platform 429 is retried after its retry_after, then delivered', async () => {
    fake.script({
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 1',
        parameters: { retry_after: 1 },
      },
    });
    const before = fake.calls.length;
    const res = await telegram(
      'tg',
      { update_id: 700002, message: { message_id: 6, chat: { id: 4242, type: 'private' }, text: 'again' } },
      TELEGRAM_SECRET,
    );
    expect(res.statusCode).toBe(200);
    const events = await deliveredTimeline(t, res.json().sessionId);
    expect(events.at(-1)).toMatchObject({ type: 'reply_delivered', payload: { attempts: 2 } });
    const calls = fake.calls.slice(before).filter((c) => c.path.endsWith('/sendMessage'));
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.body.chat_id === 4242)).toBe(true);
    // The second attempt waited for the platform's retry_after (1 s), not a fixed backoff of our own choosing.
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('a final platform error is recorded as reply_delivery_failed', async () => {
    fake.script({
      status: 400,
      body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' },
    });
    const res = await telegram(
      'tg',
      { update_id: 700003, message: { chat: { id: 77 }, text: 'x' } },
      TELEGRAM_SECRET,
    );
    const events = await deliveredTimeline(t, res.json().sessionId);
    expect(events.at(-1)).toMatchObject({
      type: 'reply_delivery_failed',
      fromRole: 'system',
      payload: { status: 400, error: 'Bad Request: chat not found', attempts: 1 },
    });
  });

  it('slack: url_verification, signature and window, retries are replays, the reply goes to chat.postMessage', async () => {
    const challenge = await slack({ type: 'url_verification', token: 'x', challenge: 'c-3qGq3zV9' });
    expect(challenge.statusCode).toBe(200);
    expect(challenge.json()).toEqual({ challenge: 'c-3qGq3zV9' });
    const unsigned = await slack(
      { type: 'url_verification', challenge: 'x' },
      { secret: 'wrong-signing-secret' },
    );
    expect(unsigned.statusCode).toBe(401);
    const stale = await slack(
      { type: 'url_verification', challenge: 'x' },
      { timestamp: Math.floor(Date.now() / 1000) - 301 },
    );
    expect(stale.json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_EXPIRED');

    const envelope = {
      token: 'verification-token',
      team_id: 'T0001',
      api_app_id: 'A0001',
      type: 'event_callback',
      event_id: 'Ev08MFMKH6',
      event_time: 1700000000,
      event: {
        type: 'message',
        channel: 'C0SLACK1',
        user: 'U0001',
        text: 'status of the launch?',
        ts: '1700000000.000100',
      },
    };
    const first = await slack(envelope);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ applied: true, externalSessionId: 'slack_channel:c0slack1' });
    const retry = await slack(envelope, { retry: '1' });
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toMatchObject({ applied: false, deduplicated: true });
    const bot = await slack({
      ...envelope,
      event_id: 'Ev-bot',
      event: { ...envelope.event, bot_id: 'B01', text: 'our reply' },
    });
    expect(bot.json()).toMatchObject({ ok: true, ignored: expect.any(String) });

    const events = await deliveredTimeline(t, first.json().sessionId);
    expect(events.map((e) => e.type)).toEqual(['observer_message', 'agent_reply', 'reply_delivered']);
    // The envelope is kept as sent, except the app's verification token (a credential).
    expect(events[0]!.payload).toMatchObject({ event_id: 'Ev08MFMKH6', team_id: 'T0001' });
    expect(events[0]!.payload).not.toHaveProperty('token');
    const call = fake.calls.find((c) => c.path === '/chat.postMessage');
    expect(call?.headers.authorization).toBe('Bearer xoxb-test-token');
    expect(call?.body).toMatchObject({ channel: 'C0SLACK1', text: events[1]!.payload.text });
    expect(call?.body).not.toHaveProperty('thread_ts');

    // A message in a thread is answered in that thread.
    const threaded = await slack({
      ...envelope,
      event_id: 'Ev-threaded',
      event: {
        ...envelope.event,
        text: 'and in the thread?',
        ts: '1700000005.000300',
        thread_ts: envelope.event.ts,
      },
    });
    expect(threaded.json()).toMatchObject({ applied: true, sessionId: first.json().sessionId });
    const inThread = await eventually(
      async () => fake.calls.find((c) => c.path === '/chat.postMessage' && c.body.thread_ts !== undefined),
      40_000,
    );
    expect(inThread.body).toMatchObject({ channel: 'C0SLACK1', thread_ts: '1700000000.000100' });
  });

  it('telegram forum topic: the reply stays in the topic and quotes the message', async () => {
    const res = await telegram(
      'tg',
      {
        update_id: 700010,
        message: {
          message_id: 77,
          message_thread_id: 12,
          is_topic_message: true,
          chat: { id: -100777, type: 'supergroup', is_forum: true },
          from: { id: 2 },
          text: 'question in a topic',
        },
      },
      TELEGRAM_SECRET,
    );
    expect(res.json()).toMatchObject({ applied: true });
    await deliveredTimeline(t, res.json().sessionId);
    const call = fake.calls.find((c) => c.path.endsWith('/sendMessage') && c.body.chat_id === -100777);
    expect(call?.body).toMatchObject({
      message_thread_id: 12,
      reply_parameters: { message_id: 77, allow_sending_without_reply: true },
    });
  });

  it('discord: Ed25519 checked (401 otherwise), PING → PONG, a command is answered with a channel message', async () => {
    expect((await discord({ type: 1 })).json()).toEqual({ type: 1 });
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const forged = await discord({ type: 1 }, stranger);
    expect(forged.statusCode).toBe(401);
    expect(forged.json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');

    const interaction = {
      id: '1180000000000000001',
      application_id: '1170000000000000000',
      type: 2,
      token: 'interaction-token',
      channel_id: '1160000000000000042',
      data: { name: 'ask', options: [{ name: 'question', type: 3, value: 'is the gateway up?' }] },
    };
    const res = await discord(interaction);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ type: 4, data: { flags: 64 } });
    const sessions = (await adminRequest(t, 'GET', `${S}?channel=discord&limit=5`)).json().sessions as {
      id: string;
      externalSessionId: string;
    }[];
    const session = sessions.find((s) => s.externalSessionId === 'discord_channel:1160000000000000042');
    expect(session).toBeDefined();
    const events = await deliveredTimeline(t, session!.id);
    expect(events[0]!.payload.text).toBe('is the gateway up?');
    // The interaction's own token (a 15-minute credential) is not stored.
    expect(events[0]!.payload).toMatchObject({ id: interaction.id, channel_id: interaction.channel_id });
    expect(events[0]!.payload).not.toHaveProperty('token');
    expect(events.map((e) => e.type)).toEqual(['observer_message', 'agent_reply', 'reply_delivered']);
    const call = fake.calls.find((c) => c.path === '/channels/1160000000000000042/messages');
    expect(call?.headers.authorization).toBe('Bot discord-bot-token');
    expect(call?.body).toMatchObject({ content: events[1]!.payload.text });
  });

  it('discord: an attempt whose answer was lost is re-sent with the same nonce, and the channel shows one message', async () => {
    // Discord creates the message, but the answer never reaches us (a 502 from a proxy on the way back).
    fake.script({ status: 502, body: { message: 'Bad Gateway' }, afterPosting: true });
    const channelPath = '/channels/1160000000000000077/messages';
    const res = await discord({
      id: '1180000000000000077',
      application_id: '1170000000000000000',
      type: 2,
      token: 'interaction-token',
      channel_id: '1160000000000000077',
      data: { name: 'ask', options: [{ name: 'question', type: 3, value: 'once, please' }] },
    });
    expect(res.statusCode).toBe(200);
    const sessions = (await adminRequest(t, 'GET', `${S}?channel=discord&limit=10`)).json().sessions as {
      id: string;
      externalSessionId: string;
    }[];
    const session = sessions.find((s) => s.externalSessionId === 'discord_channel:1160000000000000077');
    const events = await deliveredTimeline(t, session!.id);
    const calls = fake.calls.filter((c) => c.path === channelPath);
    expect(calls).toHaveLength(2);
    const nonce = calls[0]!.body.nonce;
    expect(typeof nonce === 'string' && nonce.length > 0 && nonce.length <= 25).toBe(true);
    expect(calls.map((c) => [c.body.nonce, c.body.enforce_nonce])).toEqual([
      [nonce, true],
      [nonce, true],
    ]);
    expect(fake.posted.filter((c) => c.path === channelPath)).toHaveLength(1);
    // The delivery names the message the first attempt created (the one the channel shows).
    const delivered = events.at(-1)!;
    expect(delivered).toMatchObject({ type: 'reply_delivered', payload: { attempts: 2 } });
    const firstId = String(900000000000000000n + BigInt(fake.calls.indexOf(calls[0]!) + 1));
    expect(delivered.payload.messageId).toBe(firstId);
  });

  it("slack's Retry-After header and discord's retry_after body: a 429 is retried after the platform's wait", async () => {
    const before = fake.calls.length;
    fake.script({ status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '1' } });
    const slackRes = await slack({
      type: 'event_callback',
      event_id: 'Ev-ratelimited',
      event: {
        type: 'message',
        channel: 'C0SLACK429',
        user: 'U0001',
        text: 'slow down?',
        ts: '1700000100.000100',
      },
    });
    expect(slackRes.statusCode).toBe(200);
    const slackEvents = await deliveredTimeline(t, slackRes.json().sessionId);
    expect(slackEvents.at(-1)).toMatchObject({ type: 'reply_delivered', payload: { attempts: 2 } });
    const slackCalls = fake.calls.slice(before).filter((c) => c.body.channel === 'C0SLACK429');
    expect(slackCalls).toHaveLength(2);
    expect(slackCalls[1]!.at - slackCalls[0]!.at).toBeGreaterThanOrEqual(950);

    // Discord sends fractional seconds in the body; the outbox waits at least a whole second.
    fake.script({
      status: 429,
      body: { message: 'You are being rate limited.', retry_after: 0.8, global: false },
    });
    const channelPath = '/channels/1160000000000000429/messages';
    await discord({
      id: '1180000000000000429',
      application_id: '1170000000000000000',
      type: 2,
      token: 'interaction-token',
      channel_id: '1160000000000000429',
      data: { name: 'ask', options: [{ name: 'question', type: 3, value: 'rate limited?' }] },
    });
    const discordCalls = await eventually(async () => {
      const calls = fake.calls.filter((c) => c.path === channelPath);
      return calls.length === 2 ? calls : undefined;
    }, 40_000);
    expect(discordCalls[1]!.at - discordCalls[0]!.at).toBeGreaterThanOrEqual(950);
    expect(fake.posted.filter((c) => c.path === channelPath)).toHaveLength(1);
  });

  it('a connector without a bot token receives but never calls out', async () => {
    const before = fake.calls.length;
    const res = await telegram(
      'quiet',
      { update_id: 1, message: { chat: { id: 1 }, text: 'hello' } },
      'quiet-secret-token',
    );
    expect(res.statusCode).toBe(200);
    // The profile-less connector has no toRole: the message is stored, nobody is asked to answer.
    const events = await timeline(t, res.json().sessionId);
    expect(events.map((e) => e.type)).toEqual(['observer_message']);
    expect(fake.calls.length).toBe(before);
  });

  it('never logs a platform secret or bot token', () => {
    const logs = t.logs.join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [
      TELEGRAM_SECRET,
      SLACK_SECRET,
      '123456:test-bot-token',
      'xoxb-test-token',
      'discord-bot-token',
    ])
      expect(logs).not.toContain(secret);
  });
});
