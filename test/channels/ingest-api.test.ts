import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestCountsSince } from '../../src/channels/ingest-store.js';
import { INGEST_PATH, signedHeaders, signedIngest } from '../helpers/ingest-client.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const GLOBAL = 'global-secret-0123456789abcdef';
const PREVIOUS = 'previous-secret-0123456789abcdef';
const OWN = 'own-connector-secret-0123456789';
const K1 = 'keyed-secret-one-0123456789abcdef';
const K2 = 'keyed-secret-two-0123456789abcdef';
const REMOVED = 'removed-secret-0123456789abcdef';

const exampleProfiles = readFileSync(
  new URL('../../docs/ops/examples/agent-gateway-ingest-connector-profiles.example.json', import.meta.url),
  'utf8',
);

const S = '/api/admin/agent-gateway/sessions';
let seq = 0;
const eventId = () => `evt-${Date.now()}-${++seq}`;

describe('signed ingest endpoint', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      env: {
        AGENT_GATEWAY_WEBHOOK_SECRET: GLOBAL,
        AGENT_GATEWAY_WEBHOOK_SECRET_PREVIOUS: PREVIOUS,
        AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS: JSON.stringify({ own: OWN, keyed: { k1: K1, k2: K2 } }),
        AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES: JSON.stringify({
          tight: { maxPayloadKeys: 2, maxPayloadBytes: 300, maxMetadataKeys: 1 },
          limited: { rateLimitMax: 3 },
          locked: { riskLevel: 'restricted' },
        }),
        AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: exampleProfiles,
        AGENT_GATEWAY_INGEST_MAX_BODY_BYTES: '8192',
      },
    });
  });
  afterAll(async () => t?.close());

  it('applies a signed event (201), stores the text byte-exact, and answers a replay with 200 deduplicated', async () => {
    const text = 'it\'s <b>bold</b> & "quoted" — 🚀 ünïcødé \\ / \u2028';
    const raw = `{"connectorId":"web_chat","eventId":"msg-1","channel":"web-chat","externalSessionId":"Room-42","fromRole":"observer","type":"note","payload":{"text":${JSON.stringify(text)},"n":1}}`;
    const first = await signedIngest(t, raw, { secret: GLOBAL });
    expect(first.statusCode, first.body).toBe(201);
    const applied = first.json();
    expect(applied).toMatchObject({
      applied: true,
      deduplicated: false,
      adapter: 'external_webhook',
      channel: 'web-chat',
      connectorId: 'web_chat',
      eventId: 'msg-1',
      externalSessionId: 'Room-42',
    });
    expect(applied.sessionId).toMatch(/^ags-[0-9a-f]{24}$/);
    expect(applied.event).toMatchObject({
      seq: 1,
      fromRole: 'observer',
      type: 'note',
      connectorId: 'web_chat',
    });
    expect(applied.event.payload.text).toBe(text);

    const replay = await signedIngest(t, raw, { secret: GLOBAL });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({
      applied: false,
      deduplicated: true,
      sessionId: applied.sessionId,
      event: { id: applied.event.id, seq: 1 },
    });
    const events = (await adminRequest(t, 'GET', `${S}/${applied.sessionId}/events`)).json();
    expect(events.total).toBe(1);
    expect(events.events[0].payload.text).toBe(text);
    const session = (await adminRequest(t, 'GET', `${S}/${applied.sessionId}`)).json().session;
    expect(session).toMatchObject({
      channel: 'web-chat',
      externalSessionId: 'Room-42',
      connectorId: 'web_chat',
    });
  });

  it('refuses bad signatures: wrong secret, tampered body, missing headers (401 SIGNATURE_INVALID), old timestamp (401 SIGNATURE_EXPIRED)', async () => {
    const body = { connectorId: 'web_chat', eventId: eventId(), channel: 'web-chat', payload: { text: 'x' } };
    const raw = JSON.stringify(body);
    const wrong = await signedIngest(t, raw, { secret: REMOVED });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');
    const tampered = await signedIngest(t, raw, { secret: GLOBAL, signBody: raw.replace('"x"', '"y"') });
    expect(tampered.json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');
    // A re-serialised body (what a framework's JSON parser would give back) is not what was signed.
    const reserialised = await signedIngest(t, JSON.stringify(body, null, 1), {
      secret: GLOBAL,
      signBody: raw,
    });
    expect(reserialised.json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');
    const missing = await t.gateway.app.inject({
      method: 'POST',
      url: INGEST_PATH,
      headers: { 'content-type': 'application/json' },
      payload: raw,
    });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');
    const old = await signedIngest(t, raw, {
      secret: GLOBAL,
      timestamp: Math.floor(Date.now() / 1000) - 301,
    });
    expect(old.statusCode).toBe(401);
    expect(old.json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_EXPIRED');
    const future = await signedIngest(t, raw, {
      secret: GLOBAL,
      timestamp: Math.floor(Date.now() / 1000) + 400,
    });
    expect(future.json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_EXPIRED');
  });

  it('rotates secrets: previous global and every connector key are accepted, a removed secret is refused', async () => {
    const send = (connectorId: string, secret: string, keyId?: string) =>
      signedIngest(t, { connectorId, eventId: eventId(), channel: 'web-chat' }, { secret, keyId });
    expect((await send('web_chat', PREVIOUS)).statusCode).toBe(201);
    expect((await send('web_chat', REMOVED)).statusCode).toBe(401);
    expect((await send('keyed', K1)).statusCode).toBe(201);
    expect((await send('keyed', K2)).statusCode).toBe(201);
    expect((await send('keyed', K2, 'k2')).statusCode).toBe(201);
    expect((await send('keyed', K2, 'k1')).statusCode).toBe(401);
    expect((await send('keyed', K1, 'k9')).statusCode).toBe(401);
    // A connector with its own secret no longer accepts the global one.
    expect((await send('keyed', GLOBAL)).json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');
    expect((await send('own', OWN)).statusCode).toBe(201);
    expect((await send('own', GLOBAL)).statusCode).toBe(401);
    // Restricted risk level: the connector must have its own secret.
    const locked = await send('locked', GLOBAL);
    expect(locked.statusCode).toBe(403);
    expect(locked.json().error).toBe('AGENT_GATEWAY_INGEST_CONNECTOR_SECRET_REQUIRED');
  });

  it('a rotation across restarts: the old secret works while listed and is refused once removed; connector secrets can be required', async () => {
    const NEW = 'rotated-global-secret-0123456789';
    const K3 = 'keyed-secret-three-0123456789abc';
    const restart = (env: Record<string, string>) => startTestGateway({ db: t.db, env });
    const send = (g: TestGateway, connectorId: string, secret: string) =>
      signedIngest(g, { connectorId, eventId: eventId(), channel: 'web-chat' }, { secret });
    // Step 1: the new secret deployed next to the old one (old global moved to PREVIOUS, a new connector key added).
    const during = await restart({
      AGENT_GATEWAY_WEBHOOK_SECRET: NEW,
      AGENT_GATEWAY_WEBHOOK_SECRET_PREVIOUS: GLOBAL,
      AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS: JSON.stringify({ keyed: { k2: K2, k3: K3 } }),
    });
    try {
      expect((await send(during, 'web_chat', GLOBAL)).statusCode).toBe(201);
      expect((await send(during, 'web_chat', NEW)).statusCode).toBe(201);
      expect((await send(during, 'keyed', K2)).statusCode).toBe(201);
      expect((await send(during, 'keyed', K3)).statusCode).toBe(201);
      expect((await send(during, 'keyed', K1)).statusCode).toBe(401);
    } finally {
      await during.close();
    }
    // Step 2: senders moved; the old secrets are removed. A policy and the global switch require connector secrets.
    const after = await restart({
      AGENT_GATEWAY_WEBHOOK_SECRET: NEW,
      AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS: JSON.stringify({ keyed: { k3: K3 }, own: OWN }),
      AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES: JSON.stringify({
        strict_one: { requireConnectorSecret: true },
      }),
    });
    try {
      const old = await send(after, 'web_chat', GLOBAL);
      expect(old.statusCode).toBe(401);
      expect(old.json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');
      expect((await send(after, 'keyed', K2)).statusCode).toBe(401);
      expect((await send(after, 'keyed', K3)).statusCode).toBe(201);
      expect((await send(after, 'web_chat', NEW)).statusCode).toBe(201);
      const policyRequired = await send(after, 'strict_one', NEW);
      expect(policyRequired.statusCode).toBe(403);
      expect(policyRequired.json().error).toBe('AGENT_GATEWAY_INGEST_CONNECTOR_SECRET_REQUIRED');
    } finally {
      await after.close();
    }
    const required = await restart({
      AGENT_GATEWAY_WEBHOOK_SECRET: NEW,
      AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS: JSON.stringify({ own: OWN }),
      AGENT_GATEWAY_INGEST_REQUIRE_CONNECTOR_SECRET: 'true',
    });
    try {
      const globalOnly = await send(required, 'web_chat', NEW);
      expect(globalOnly.statusCode).toBe(403);
      expect(globalOnly.json().error).toBe('AGENT_GATEWAY_INGEST_CONNECTOR_SECRET_REQUIRED');
      expect((await send(required, 'own', OWN)).statusCode).toBe(201);
    } finally {
      await required.close();
    }
  });

  it('names the field in every validation error', async () => {
    const cases: [unknown, string, string][] = [
      [
        { connectorId: 'web_chat', eventId: 'a', channel: 'Bad Channel!' },
        'AGENT_GATEWAY_INGEST_INVALID_INPUT',
        'channel',
      ],
      [{ connectorId: 'web_chat', channel: 'web-chat' }, 'AGENT_GATEWAY_INGEST_INVALID_INPUT', 'eventId'],
      [
        { connectorId: 'web_chat', eventId: 'a', channel: 'web-chat', adapter: 'fax' },
        'AGENT_GATEWAY_INGEST_INVALID_INPUT',
        'adapter',
      ],
      [
        { connectorId: 'web_chat', eventId: 'a', channel: 'web-chat', fromRole: 'system' },
        'AGENT_GATEWAY_INGEST_INVALID_INPUT',
        'fromRole',
      ],
      [
        { connectorId: 'web_chat', eventId: 'a', channel: 'web-chat', type: 'session_closed' },
        'AGENT_GATEWAY_INGEST_INVALID_INPUT',
        'type',
      ],
      [
        { connectorId: 'web_chat', eventId: 'a', channel: 'web-chat', draftId: 'nope' },
        'AGENT_GATEWAY_INGEST_INVALID_INPUT',
        'draftId',
      ],
      [
        { connectorId: 'web_chat', eventId: 'a', channel: 'web-chat', roles: ['ok', 'NOT OK'] },
        'AGENT_GATEWAY_INGEST_INVALID_INPUT',
        'roles.1',
      ],
      [
        { connectorId: 'web_chat', eventId: 'a', channel: 'web-chat', metadata: [1] },
        'AGENT_GATEWAY_INGEST_INVALID_INPUT',
        'metadata',
      ],
      [
        { connectorId: 'web_chat', eventId: 'a', channel: 'web-chat', externalSessionId: '-x' },
        'AGENT_GATEWAY_INGEST_INVALID_INPUT',
        'externalSessionId',
      ],
      [{ connectorId: 'web_chat', eventId: 'a' }, 'AGENT_GATEWAY_INGEST_INVALID_INPUT', 'channel'],
      [
        { connectorId: 'web_chat', eventId: 'a', channel: 'web-chat', colour: 'red' },
        'AGENT_GATEWAY_INGEST_INVALID_FIELDS',
        'colour',
      ],
      [[1, 2], 'AGENT_GATEWAY_INGEST_INVALID_FIELDS', 'body'],
    ];
    for (const [body, code, field] of cases) {
      const res = await signedIngest(t, body, {
        secret: GLOBAL,
        headers: Array.isArray(body) ? { 'x-gateway-connector-id': 'web_chat' } : {},
      });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error, JSON.stringify(body)).toBe(code);
      expect(res.json().message).toContain(field);
    }
    const noConnector = await signedIngest(t, { eventId: 'a', channel: 'web-chat' }, { secret: GLOBAL });
    expect(noConnector.json()).toMatchObject({ error: 'AGENT_GATEWAY_INGEST_INVALID_INPUT' });
    expect(noConnector.json().message).toContain('connectorId');
    const headerMismatch = await signedIngest(
      t,
      { connectorId: 'web_chat', eventId: 'a', channel: 'web-chat' },
      { secret: GLOBAL, headers: { 'x-gateway-connector-id': 'other' } },
    );
    expect(headerMismatch.json().message).toContain('connectorId');
    const keyMismatch = await signedIngest(
      t,
      { connectorId: 'web_chat', eventId: 'a', channel: 'web-chat' },
      { secret: GLOBAL, headers: { 'x-idempotency-key': 'b' } },
    );
    expect(keyMismatch.json().message).toContain('eventId');
    const query = await signedIngest(
      t,
      { connectorId: 'web_chat', eventId: 'a', channel: 'web-chat' },
      { secret: GLOBAL, query: '?debug=1' },
    );
    expect(query.statusCode).toBe(400);
    expect(query.json().error).toBe('AGENT_GATEWAY_INGEST_INVALID_QUERY_FIELDS');
    expect(query.json().message).toContain('debug');
    const badJson = await signedIngest(t, '{"connectorId":', { secret: GLOBAL });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error).toBe('INVALID_JSON');
    const big = await signedIngest(
      t,
      { connectorId: 'web_chat', eventId: 'big', channel: 'web-chat', payload: { text: 'x'.repeat(9000) } },
      { secret: GLOBAL },
    );
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toBe('PAYLOAD_TOO_LARGE');
  });

  it('takes connector id and event id from the headers when the body omits them', async () => {
    const key = eventId();
    const res = await signedIngest(
      t,
      { channel: 'web-chat', payload: { text: 'headers' } },
      { secret: GLOBAL, headers: { 'x-gateway-connector-id': 'web_chat', 'x-idempotency-key': key } },
    );
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ connectorId: 'web_chat', eventId: key });
  });

  it('header ids are not signed: the same signed bytes with other header ids are refused, a plain retry is a replay', async () => {
    const key = eventId();
    const body = { channel: 'web-chat', payload: { text: 'captured' } };
    const timestamp = Math.floor(Date.now() / 1000);
    const send = (headers: Record<string, string>) =>
      signedIngest(t, body, { secret: GLOBAL, timestamp, headers });
    const first = await send({ 'x-gateway-connector-id': 'web_chat', 'x-idempotency-key': key });
    expect(first.statusCode, first.body).toBe(201);
    // The sender's own retry (same bytes, same ids) is the usual replay.
    const retry = await send({ 'x-gateway-connector-id': 'web_chat', 'x-idempotency-key': key });
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toMatchObject({ deduplicated: true, eventId: key });
    // Someone re-sending the captured request as a new event, or under another connector on the global secret.
    for (const headers of [
      { 'x-gateway-connector-id': 'web_chat', 'x-idempotency-key': `${key}-again` },
      { 'x-gateway-connector-id': 'other_chat', 'x-idempotency-key': key },
    ]) {
      const forged = await send(headers);
      expect(forged.statusCode, JSON.stringify(headers)).toBe(401);
      expect(forged.json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');
      expect(forged.json().message).toContain('x-idempotency-key');
    }
    const events = await adminRequest(
      t,
      'GET',
      `/api/admin/agent-gateway/sessions/${first.json().sessionId}/events`,
    );
    expect(events.json().total).toBe(1);
    // Newly signed bytes carry their own ids.
    const fresh = await signedIngest(t, body, {
      secret: GLOBAL,
      timestamp: timestamp + 1,
      headers: { 'x-gateway-connector-id': 'web_chat', 'x-idempotency-key': `${key}-again` },
    });
    expect(fresh.statusCode, fresh.body).toBe(201);
  });

  it('enforces connector policy budgets (413 naming the limit) and the per-connector rate limit (429 + Retry-After)', async () => {
    const base = { connectorId: 'tight', channel: 'web-chat' };
    const keys = await signedIngest(
      t,
      { ...base, eventId: eventId(), payload: { a: 1, b: 2, c: 3 } },
      { secret: GLOBAL },
    );
    expect(keys.statusCode).toBe(413);
    expect(keys.json()).toMatchObject({
      error: 'AGENT_GATEWAY_INGEST_POLICY_REJECTED',
      details: { limit: 2 },
    });
    expect(keys.json().message).toContain('payload');
    const bytes = await signedIngest(
      t,
      { ...base, eventId: eventId(), payload: { a: 'x'.repeat(400) } },
      { secret: GLOBAL },
    );
    expect(bytes.json().error).toBe('AGENT_GATEWAY_INGEST_POLICY_REJECTED');
    const meta = await signedIngest(
      t,
      { ...base, eventId: eventId(), metadata: { a: 1, b: 2 } },
      { secret: GLOBAL },
    );
    expect(meta.json().message).toContain('metadata');
    expect(
      (await signedIngest(t, { ...base, eventId: eventId(), payload: { a: 1 } }, { secret: GLOBAL }))
        .statusCode,
    ).toBe(201);

    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof signedIngest>> | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await signedIngest(
        t,
        { connectorId: 'limited', channel: 'web-chat', eventId: eventId() },
        { secret: GLOBAL },
      );
      statuses.push(res.statusCode);
      if (res.statusCode === 429) limited = res;
    }
    // The window may roll over between requests; what matters is that past 3 in one window the 4th is refused.
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(4);
    expect(limited?.json().error).toBe('AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMITED');
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('fills omitted fields from the connector profile; explicit values win when strict mode is off', async () => {
    const res = await signedIngest(
      t,
      {
        connectorId: 'telegram_main',
        eventId: eventId(),
        payload: { message: { chat: { id: -100123 }, text: 'hi' } },
      },
      { secret: GLOBAL },
    );
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      adapter: 'external_webhook',
      channel: 'telegram',
      externalSessionId: 'telegram_chat:-100123',
      externalSessionIdSource: 'payload.message.chat.id',
      event: { fromRole: 'observer', toRole: 'author', type: 'observer_message' },
    });
    const explicit = await signedIngest(
      t,
      {
        connectorId: 'telegram_main',
        eventId: eventId(),
        channel: 'telegram-ops',
        fromRole: 'moderator',
        payload: { chat: { id: 5 } },
      },
      { secret: GLOBAL },
    );
    expect(explicit.statusCode).toBe(201);
    expect(explicit.json()).toMatchObject({
      channel: 'telegram-ops',
      externalSessionId: 'telegram_chat:5',
      event: { fromRole: 'moderator', toRole: 'author' },
    });
  });

  it('a closed session refuses new ingest with 409 and nothing is deduplicated', async () => {
    const body = { connectorId: 'web_chat', channel: 'web-chat', externalSessionId: 'closing-room' };
    const first = await signedIngest(t, { ...body, eventId: eventId() }, { secret: GLOBAL });
    expect(first.statusCode).toBe(201);
    await adminRequest(t, 'POST', `${S}/${first.json().sessionId}/close`);
    const id = eventId();
    const closed = await signedIngest(t, { ...body, eventId: id }, { secret: GLOBAL });
    expect(closed.statusCode).toBe(409);
    expect(closed.json().error).toBe('AGENT_GATEWAY_SESSION_CLOSED');
    // The dedup claim rolled back with the event: the same id is still refused for the same reason, not replayed.
    expect((await signedIngest(t, { ...body, eventId: id }, { secret: GLOBAL })).statusCode).toBe(409);
  });

  it('counts accepted, replayed and rejected requests per connector and code; unknown senders share one key', async () => {
    await t.gateway.ingest.flushCounters();
    const before = await ingestCountsSince(t.db.database.orm, 1);
    const id = eventId();
    await signedIngest(t, { connectorId: 'own', eventId: id, channel: 'web-chat' }, { secret: OWN });
    await signedIngest(t, { connectorId: 'own', eventId: id, channel: 'web-chat' }, { secret: OWN });
    for (let i = 0; i < 3; i++)
      await signedIngest(
        t,
        { connectorId: `random-${i}`, eventId: 'x', channel: 'web-chat' },
        { secret: REMOVED },
      );
    await signedIngest(t, { connectorId: 'own', eventId: 'x', channel: 'web-chat' }, { secret: GLOBAL });
    await t.gateway.ingest.flushCounters();
    const after = await ingestCountsSince(t.db.database.orm, 1);
    const delta = (connectorId: string, outcome: string, code: string) => {
      const sum = (rows: typeof after) =>
        rows
          .filter((r) => r.connectorId === connectorId && r.outcome === outcome && r.code === code)
          .reduce((n, r) => n + r.count, 0);
      return sum(after) - sum(before);
    };
    expect(delta('own', 'accepted', 'APPLIED')).toBe(1);
    expect(delta('own', 'replayed', 'DEDUPLICATED')).toBe(1);
    expect(delta('own', 'rejected', 'AGENT_GATEWAY_INGEST_SIGNATURE_INVALID')).toBe(1);
    expect(delta('_unknown', 'rejected', 'AGENT_GATEWAY_INGEST_SIGNATURE_INVALID')).toBe(3);
    expect(after.some((r) => r.connectorId.startsWith('random-'))).toBe(false);

    // The size cap refuses before the pipeline runs; the refusal is still counted.
    await signedIngest(
      t,
      { connectorId: 'own', eventId: 'huge', payload: { text: 'x'.repeat(9000) } },
      { secret: OWN },
    );
    await t.gateway.ingest.flushCounters();
    const capped = await ingestCountsSince(t.db.database.orm, 1);
    const tooLarge = (rows: typeof after) =>
      rows.filter((r) => r.code === 'PAYLOAD_TOO_LARGE').reduce((n, r) => n + r.count, 0);
    expect(tooLarge(capped) - tooLarge(after)).toBe(1);
  });

  it('an unauthenticated request writes nothing but the counter', async () => {
    const tables = async () =>
      (await t.db.database.orm.execute(
        'select (select count(*) from sessions)::int as s, (select count(*) from session_events)::int as e, (select count(*) from ingest_dedup)::int as d' as never,
      )) as unknown as { rows: { s: number; e: number; d: number }[] };
    const before = (await tables()).rows[0];
    const raw = JSON.stringify({
      connectorId: 'web_chat',
      eventId: eventId(),
      channel: 'web-chat',
      externalSessionId: 'never',
    });
    const res = await t.gateway.app.inject({
      method: 'POST',
      url: INGEST_PATH,
      headers: signedHeaders(raw, { secret: REMOVED }),
      payload: raw,
    });
    expect(res.statusCode).toBe(401);
    expect((await tables()).rows[0]).toEqual(before);
  });
});

describe('strict connector profiles (runbook Notes) and the allow-list', () => {
  let strict: TestGateway;
  let allowList: TestGateway;
  beforeAll(async () => {
    // One at a time: two gateways starting at once on a loaded 2-core machine can exceed Fastify's plugin timeout.
    strict = await startTestGateway({
      env: {
        AGENT_GATEWAY_WEBHOOK_SECRET: GLOBAL,
        AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: exampleProfiles,
        AGENT_GATEWAY_INGEST_ENFORCE_CONNECTOR_PROFILE: 'true',
      },
    });
    allowList = await startTestGateway({
      env: {
        AGENT_GATEWAY_INGEST_ALLOWED_CONNECTORS: 'slack_main, discord_main',
        AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS: JSON.stringify({ slack_main: OWN }),
      },
    });
  });
  afterAll(async () => {
    await Promise.all([strict?.close(), allowList?.close()]);
  });

  it('strict mode: matching or omitted fields pass, conflicting ones are a 409 listing each field', async () => {
    const ok = await signedIngest(
      strict,
      {
        connectorId: 'slack_main',
        eventId: eventId(),
        channel: 'slack',
        payload: { event: { channel: 'C024BE91L' } },
      },
      { secret: GLOBAL },
    );
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().externalSessionId).toBe('slack_channel:c024be91l');
    const conflict = await signedIngest(
      strict,
      {
        connectorId: 'slack_main',
        eventId: eventId(),
        channel: 'slack-eu',
        toRole: 'judge',
        type: 'observer_message',
      },
      { secret: GLOBAL },
    );
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error).toBe('AGENT_GATEWAY_INGEST_CONNECTOR_PROFILE_CONFLICT');
    expect(conflict.json().details.fields).toEqual(['channel', 'toRole']);
    expect(conflict.json().details.conflicts[0]).toEqual({
      field: 'channel',
      profile: 'slack',
      received: 'slack-eu',
    });
    // Connectors without a profile are not constrained.
    const free = await signedIngest(
      strict,
      { connectorId: 'other', eventId: eventId(), channel: 'anything' },
      { secret: GLOBAL },
    );
    expect(free.statusCode).toBe(201);
  });

  it('allow-list: other connectors get 403; an allowed connector with no secret anywhere gets 503', async () => {
    const forbidden = await signedIngest(
      allowList,
      { connectorId: 'telegram_main', eventId: 'a', channel: 'telegram' },
      { secret: OWN },
    );
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error).toBe('AGENT_GATEWAY_INGEST_CONNECTOR_FORBIDDEN');
    const allowed = await signedIngest(
      allowList,
      { connectorId: 'slack_main', eventId: 'a', channel: 'slack' },
      { secret: OWN },
    );
    expect(allowed.statusCode).toBe(201);
    const unavailable = await signedIngest(
      allowList,
      { connectorId: 'discord_main', eventId: 'a', channel: 'discord' },
      { secret: OWN },
    );
    expect(unavailable.statusCode).toBe(503);
    expect(unavailable.json().error).toBe('AGENT_GATEWAY_INGEST_UNAVAILABLE');
  });
});
