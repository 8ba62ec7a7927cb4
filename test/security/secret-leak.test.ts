import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settings } from '../../src/config/settings.js';
import { type MockProvider, startMockProvider } from '../../src/mock-provider/mock-provider.js';
import { FakePlatforms } from '../helpers/fake-platforms.js';
import { eventually, INGEST_PATH, ingestSignature } from '../helpers/ingest-client.js';
import { startTestGateway, TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';

/** Every secret the scenario configures; each is long and unique so a substring hit is a real leak. */
const SECRETS = {
  adminFull: TEST_TOKENS.admin,
  adminRead: TEST_TOKENS.read,
  adminOperate: TEST_TOKENS.operate,
  metrics: 'leak-metrics-token-5f1c2a9e7b',
  gatewayKeyA: 'sk-leak-gateway-a-91c3e7d0f2',
  gatewayKeyB: 'sk-leak-gateway-b-04ad8e6b1c',
  defaultUpstreamKey: 'sk-leak-upstream-7e2b90c4aa',
  webhook: 'leak-webhook-secret-3d8f0a6c21',
  webhookPrevious: 'leak-webhook-previous-b7e41d9c05',
  connector: 'leak-connector-secret-6a0c3f8e92',
  connectorKeyed: 'leak-connector-keyed-e19b7d4c60',
  telegramSecret: 'leak-telegram-secret-token-2c7f',
  telegramBot: '987654:leak-telegram-bot-token-8e3a',
  slackSigning: 'leak-slack-signing-secret-5b9d01',
  slackBot: 'xoxb-leak-slack-bot-token-1f6c7e',
  discordBot: 'leak-discord-bot-token-a04e9b37',
  providerGood: 'sk-leak-provider-good-c81f2e5d7a',
  providerBackup: 'sk-leak-provider-backup-39be06a1',
  providerWrong: 'sk-leak-provider-wrong-7d2c5e0b18',
  providerGemini: 'leak-gemini-key-AIzaSyB0e6f3c9',
  providerAnthropic: 'sk-ant-leak-provider-4a7f1c0d93',
} as const;

const discord = generateKeyPairSync('ed25519');
const discordPublicKey = discord.publicKey
  .export({ format: 'der', type: 'spki' })
  .subarray(12)
  .toString('hex');

/**
 * SPEC §2: tokens and keys never appear in logs, errors, telemetry or API responses. A full scenario — admin calls
 * with every scope, /v1 with gateway keys and a default upstream, signed ingest (current, previous and per-connector
 * secrets), native webhooks with outbound replies through bot tokens (one delivery failing first), role runs over
 * HTTP providers with a wrong key, a refused connection and auth-profile failover — then every captured log line and
 * every response (body and headers) is scanned for every configured secret.
 */
describe('no configured secret appears in any log line or response', () => {
  let t: TestGateway;
  let mock: MockProvider;
  let upstream: MockProvider;
  const fake = new FakePlatforms();
  const responses: string[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    await fake.start();
    mock = await startMockProvider({ script: { requireApiKey: SECRETS.providerGood } });
    upstream = await startMockProvider({ script: { requireApiKey: SECRETS.defaultUpstreamKey } });
    const provider = (id: string, kind: string, endpoint: string, key: string, model: string) => ({
      [`AI_RUNTIME_${id}_KIND`]: kind,
      [`AI_RUNTIME_${id}_ENDPOINT`]: endpoint,
      [`AI_RUNTIME_${id}_API_KEY`]: key,
      [`AI_RUNTIME_${id}_MODEL`]: model,
    });
    env = {
      METRICS_TOKEN: SECRETS.metrics,
      GATEWAY_API_KEYS: JSON.stringify([
        { id: 'app-a', key: SECRETS.gatewayKeyA },
        { id: 'app-b', key: SECRETS.gatewayKeyB },
      ]),
      AI_RUNTIME_DEFAULT_UPSTREAM: `${upstream.url}/v1`,
      AI_RUNTIME_DEFAULT_UPSTREAM_API_KEY: SECRETS.defaultUpstreamKey,
      AGENT_GATEWAY_WEBHOOK_SECRET: SECRETS.webhook,
      AGENT_GATEWAY_WEBHOOK_SECRET_PREVIOUS: SECRETS.webhookPrevious,
      AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS: JSON.stringify({
        'own-secret': SECRETS.connector,
        keyed: { k1: SECRETS.connectorKeyed },
      }),
      AGENT_GATEWAY_CHANNEL_CONNECTORS: JSON.stringify({
        tg: {
          platform: 'telegram',
          secret: SECRETS.telegramSecret,
          botToken: SECRETS.telegramBot,
          apiBaseUrl: fake.url,
        },
        sl: {
          platform: 'slack',
          secret: SECRETS.slackSigning,
          botToken: SECRETS.slackBot,
          apiBaseUrl: fake.url,
        },
        dc: {
          platform: 'discord',
          publicKey: discordPublicKey,
          botToken: SECRETS.discordBot,
          apiBaseUrl: fake.url,
        },
      }),
      AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: JSON.stringify({
        tg: { channel: 'telegram', fromRole: 'observer', toRole: 'author', type: 'observer_message' },
        sl: { channel: 'slack', fromRole: 'observer', toRole: 'author', type: 'observer_message' },
      }),
      AGENT_GATEWAY_OUTBOX_MAX_ATTEMPTS: '3',
      AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
      ...provider('WRONG', 'openai', `${mock.url}/v1`, SECRETS.providerWrong, 'mock-a'),
      ...provider('DOWN', 'gemini', 'http://127.0.0.1:1', SECRETS.providerGemini, 'mock-g'),
      ...provider('CLAUDE', 'anthropic', mock.url, SECRETS.providerAnthropic, 'mock-c'),
      ...provider('GOOD', 'openai', `${mock.url}/v1`, SECRETS.providerBackup, 'mock-good'),
      // The default profile's key is wrong for the mock; the `main` profile carries the good one (rotation).
      AI_RUNTIME_GOOD_AUTH_PROFILES: 'backup,main',
      AI_RUNTIME_GOOD_API_KEY__MAIN: SECRETS.providerGood,
      AI_AUTHOR_MODEL_CHAIN: 'good',
      AI_CRITIC_MODEL_CHAIN: 'wrong,down,good',
      AI_MAKER_MODEL_CHAIN: 'claude,good',
      AI_JUDGE_MODEL_CHAIN: 'down,good',
    };
    t = await startTestGateway({ env });
  });
  afterAll(async () => {
    await t?.close();
    await mock?.close();
    await upstream?.close();
    await fake.stop();
  });

  /** An inject call whose response (status, headers, body) joins the scanned corpus. */
  async function call(
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string> = {},
    payload?: string,
  ): Promise<LightMyRequestResponse> {
    const res = await t.gateway.app.inject({
      method,
      url,
      headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(payload === undefined ? {} : { payload }),
    });
    responses.push(`${method} ${url} ${res.statusCode} ${JSON.stringify(res.headers)}\n${res.body}`);
    return res;
  }
  const admin = (method: 'GET' | 'POST', url: string, body?: unknown, token: string = SECRETS.adminFull) =>
    call(method, url, { 'x-admin-token': token }, body === undefined ? undefined : JSON.stringify(body));

  it('covers every setting the catalogue marks secret (a new one must join this scenario)', () => {
    const secretEnv = Object.values(settings)
      .filter((s) => (s as { secret?: boolean }).secret)
      .map((s) => s.env)
      // Test databases and Redis have no password; the URLs carry no secret here.
      .filter((name) => name !== 'DATABASE_URL' && name !== 'REDIS_URL');
    const configured = new Set([...Object.keys(env), 'ADMIN_API_TOKEN', 'ADMIN_API_TOKENS']);
    expect(secretEnv.filter((name) => !configured.has(name))).toEqual([]);
  });

  it('runs the scenario and finds no secret anywhere', { timeout: 120_000 }, async () => {
    // Admin API with every scope, including denied and wrong tokens.
    for (const token of [SECRETS.adminFull, SECRETS.adminRead, SECRETS.adminOperate]) {
      await admin('GET', '/api/admin/whoami', undefined, token);
      await admin('GET', '/api/admin/ai-runtime/profiles', undefined, token);
      await admin('POST', '/api/admin/agent-gateway/sessions', { channel: 'leak' }, token);
    }
    await admin('GET', '/api/admin/whoami', undefined, `${SECRETS.adminFull}x`);
    await call('GET', '/api/admin/whoami', { 'x-admin-token': SECRETS.gatewayKeyA });

    // Role runs over HTTP providers: a wrong key (401), a refused connection, profile rotation, a live dry-run.
    const dry = await admin('POST', '/api/admin/ai-runtime/dry-run', {
      role: 'critic',
      prompt: 'p',
      live: true,
    });
    expect(dry.statusCode).toBe(200);
    const attempts = dry.json().result.attempts as { provider: string; errorCode: string | null }[];
    expect(attempts.map((a) => [a.provider, a.errorCode])).toEqual(
      expect.arrayContaining([
        ['wrong', 'AI_PROVIDER_AUTH_ERROR'],
        ['down', 'AI_PROVIDER_UNAVAILABLE'],
      ]),
    );
    expect(dry.json().result.failed).toBe(false);
    const draft = (await admin('POST', '/api/admin/drafts', { title: 'leak', body: 'b' })).json().draft;
    const run = await admin('POST', '/api/admin/agent-gateway/orchestrate', { draftId: draft.id });
    expect(run.json()).toMatchObject({ completed: true });
    await admin('GET', `/api/admin/agent-gateway/sessions/${run.json().sessionId}`);
    await admin('GET', `/api/admin/agent-gateway/sessions/${run.json().sessionId}/summary`);
    await admin('GET', '/api/admin/ai-runtime/health');
    await admin('GET', '/api/admin/audit?limit=200');

    // /v1: both keys, a wrong one, a role, the default upstream, streaming.
    const chat = (key: string, body: unknown) =>
      call('POST', '/v1/chat/completions', { authorization: `Bearer ${key}` }, JSON.stringify(body));
    const messages = [{ role: 'user', content: 'hello' }];
    expect((await chat(SECRETS.gatewayKeyA, { model: 'critic', messages })).statusCode).toBe(200);
    expect((await chat(SECRETS.gatewayKeyB, { model: 'some-upstream-model', messages })).statusCode).toBe(
      200,
    );
    expect((await chat(SECRETS.gatewayKeyB, { model: 'maker', messages, stream: true })).statusCode).toBe(
      200,
    );
    expect((await chat(`${SECRETS.gatewayKeyA}0`, { model: 'critic', messages })).statusCode).toBe(401);
    await call('GET', '/v1/models', { authorization: `Bearer ${SECRETS.gatewayKeyA}` });

    // Signed ingest: global, previous and per-connector secrets (with a key id), a wrong signature.
    const ingest = (body: Record<string, unknown>, secret: string, keyId?: string) => {
      const raw = JSON.stringify(body);
      const ts = Math.floor(Date.now() / 1000);
      return call(
        'POST',
        INGEST_PATH,
        {
          'x-gateway-timestamp': String(ts),
          'x-gateway-signature': ingestSignature(secret, ts, raw),
          ...(keyId ? { 'x-gateway-key-id': keyId } : {}),
        },
        raw,
      );
    };
    const event = (connectorId: string, eventId: string) => ({
      connectorId,
      eventId,
      channel: 'leak_ingest',
      externalSessionId: 'room-1',
      fromRole: 'observer',
      type: 'note',
      payload: { text: 'hi' },
    });
    expect((await ingest(event('web', 'e1'), SECRETS.webhook)).statusCode).toBe(201);
    expect((await ingest(event('web', 'e2'), SECRETS.webhookPrevious)).statusCode).toBe(201);
    expect((await ingest(event('own-secret', 'e3'), SECRETS.connector)).statusCode).toBe(201);
    expect((await ingest(event('keyed', 'e4'), SECRETS.connectorKeyed, 'k1')).statusCode).toBe(201);
    expect((await ingest(event('own-secret', 'e5'), SECRETS.webhook)).statusCode).toBe(401);

    // Native webhooks whose replies go out with bot tokens; the first Telegram delivery fails (a 500 to log).
    fake.script({ status: 500, body: { ok: false, description: 'Internal Server Error' } });
    const tgBody = JSON.stringify({
      update_id: 4242,
      message: { message_id: 1, chat: { id: 777 }, text: 'hello' },
    });
    const tg = await call(
      'POST',
      '/api/agent-gateway/channels/telegram/tg',
      { 'x-telegram-bot-api-secret-token': SECRETS.telegramSecret },
      tgBody,
    );
    expect(tg.statusCode).toBeLessThan(300);
    await call(
      'POST',
      '/api/agent-gateway/channels/telegram/tg',
      { 'x-telegram-bot-api-secret-token': `${SECRETS.telegramSecret}x` },
      tgBody,
    );
    // The scripted 500 answers whichever platform call comes first, so Telegram's two attempts land before
    // the Slack event is sent.
    await eventually(
      async () => (fake.calls.filter((c) => c.path.includes('/sendMessage')).length >= 2 ? true : undefined),
      60_000,
    );
    const ts = String(Math.floor(Date.now() / 1000));
    const slBody = JSON.stringify({
      type: 'event_callback',
      event_id: 'EvLeak1',
      event: { type: 'message', channel: 'CLEAK', user: 'U1', text: 'hi' },
    });
    const slSig = `v0=${createHmac('sha256', SECRETS.slackSigning).update(`v0:${ts}:${slBody}`).digest('hex')}`;
    expect(
      (
        await call(
          'POST',
          '/api/agent-gateway/channels/slack/sl',
          { 'x-slack-request-timestamp': ts, 'x-slack-signature': slSig },
          slBody,
        )
      ).statusCode,
    ).toBeLessThan(300);
    const dcBody = JSON.stringify({ type: 1 });
    const dcSig = sign(null, Buffer.from(ts + dcBody), discord.privateKey).toString('hex');
    await call(
      'POST',
      '/api/agent-gateway/channels/discord/dc',
      { 'x-signature-ed25519': dcSig, 'x-signature-timestamp': ts },
      dcBody,
    );
    // Both replies are delivered (Telegram after its failed first attempt) with the bot tokens on the wire.
    await eventually(
      async () => (fake.calls.some((c) => c.path === '/chat.postMessage') ? true : undefined),
      60_000,
    );
    expect(fake.calls.some((c) => c.path.includes(SECRETS.telegramBot))).toBe(true);

    // Operator snapshots, metrics (with and without the token), the OpenAPI document, health.
    await admin('GET', '/api/admin/agent-gateway/sessions?limit=200');
    await admin('GET', '/api/admin/agent-gateway/telemetry');
    await admin('GET', '/api/admin/agent-gateway/adapters');
    expect((await call('GET', '/metrics', { authorization: `Bearer ${SECRETS.metrics}` })).statusCode).toBe(
      200,
    );
    expect((await call('GET', '/metrics')).statusCode).toBe(401);
    await call('GET', '/docs/json');
    await call('GET', '/health');
    await call('GET', '/ready');
    // Every session timeline (events carry attempts, provider errors and delivery results).
    const sessions = (await admin('GET', '/api/admin/agent-gateway/sessions?limit=200')).json().sessions as {
      id: string;
    }[];
    for (const session of sessions)
      await admin('GET', `/api/admin/agent-gateway/sessions/${session.id}?limit=1000`);

    // Give the outbox and ingest counters a moment to log what they log, then scan.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(responses.length).toBeGreaterThan(40);
    expect(t.logs.length).toBeGreaterThan(20);
    const corpus = [
      ...t.logs.map((line, i) => ({ where: `log line ${i}`, text: line })),
      ...responses.map((text, i) => ({ where: `response ${i}`, text })),
    ];
    const hits: string[] = [];
    for (const [name, secret] of Object.entries(SECRETS)) {
      for (const { where, text } of corpus) {
        const at = text.indexOf(secret);
        if (at >= 0) hits.push(`${name} in ${where}: …${text.slice(Math.max(0, at - 120), at + 40)}…`);
      }
    }
    expect(hits).toEqual([]);
  });
});
