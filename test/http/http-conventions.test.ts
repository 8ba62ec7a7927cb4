import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRequest, startTestGateway, TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';

const S = '/api/admin/agent-gateway/sessions';

describe('HTTP conventions', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ env: { AGW_BODY_LIMIT_BYTES: '2048' }, redis: true });
  });
  afterAll(async () => t?.close());

  const send = (payload: string, contentType = 'application/json') =>
    t.gateway.app.inject({
      method: 'POST',
      url: S,
      headers: { 'x-admin-token': TEST_TOKENS.admin, 'content-type': contentType },
      payload,
    });

  it('malformed JSON → 400 INVALID_JSON with a request id', async () => {
    for (const body of ['{bad', '{"channel":', '[1,2', 'nul']) {
      const res = await send(body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'INVALID_JSON' });
      expect(res.json().requestId).toBe(res.headers['x-request-id']);
    }
  });

  it('a string PostgreSQL cannot store (NUL, unpaired surrogate escape) → 400 INVALID_JSON; a paired escape is kept', async () => {
    for (const body of [
      '{"channel":"web","metadata":{"x":"a\\u0000b"}}',
      '{"channel":"web","metadata":{"x":"\\ud800"}}',
      '{"channel":"web","metadata":{"x":"tail \\uDFFF"}}',
      '{"channel":"web","metadata":{"\\udbff\\u0041":1}}',
    ]) {
      const res = await send(body);
      expect(res.statusCode, body).toBe(400);
      expect(res.json(), body).toMatchObject({ error: 'INVALID_JSON' });
    }
    const emoji = await send('{"channel":"web","metadata":{"x":"\\ud83d\\ude00"}}');
    expect(emoji.statusCode).toBe(201);
    const shown = await t.gateway.app.inject({
      method: 'GET',
      url: `${S}/${emoji.json().session.id}`,
      headers: { 'x-admin-token': TEST_TOKENS.admin },
    });
    expect(shown.json().session.metadata.x).toBe('😀');
  });

  it('logs one access line per request, with its request id, method, url, status and time', async () => {
    const res = await t.gateway.app.inject({
      method: 'GET',
      url: `${S}?limit=1`,
      headers: { 'x-admin-token': TEST_TOKENS.admin, 'x-request-id': 'access-log-1' },
    });
    expect(res.statusCode).toBe(200);
    const lines = t.logs.map((line) => JSON.parse(line)).filter((line) => line.reqId === 'access-log-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'request completed',
      req: { method: 'GET', url: `${S}?limit=1` },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    });
  });

  it('wrong content type → 415, oversized body → 413, never 500', async () => {
    const plain = await send('channel=web', 'text/plain');
    expect(plain.statusCode).toBe(415);
    expect(plain.json().error).toBe('UNSUPPORTED_MEDIA_TYPE');
    const form = await send('channel=web', 'application/x-www-form-urlencoded');
    expect(form.statusCode).toBe(415);
    const big = await send(JSON.stringify({ channel: 'web', metadata: { x: 'y'.repeat(5000) } }));
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toBe('PAYLOAD_TOO_LARGE');
  });

  it('JSON bodies that are not objects are 400 ADMIN_INVALID_BODY', async () => {
    for (const body of ['[]', '"text"', '42', 'null', 'true']) {
      const res = await send(body);
      expect(res.statusCode, body).toBe(400);
      expect(res.json().error).toBe('ADMIN_INVALID_BODY');
    }
  });

  it('unknown routes are 404 NOT_FOUND in the error shape', async () => {
    const res = await t.gateway.app.inject({ method: 'GET', url: '/api/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'NOT_FOUND' });
  });

  it('a malformed escape or an over-long segment in the path is 400 INVALID_URL in the error shape (found by fuzzing)', async () => {
    for (const url of [
      `${S}/%zz`,
      `${S}/${'x'.repeat(300)}`,
      `/api/agent-gateway/channels/telegram/%E0%A4%A`,
    ]) {
      const res = await t.gateway.app.inject({
        method: 'GET',
        url,
        headers: { 'x-admin-token': TEST_TOKENS.admin, 'x-request-id': 'bad-url-1' },
      });
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toMatchObject({ error: 'INVALID_URL', requestId: 'bad-url-1' });
      expect(res.headers['x-request-id']).toBe('bad-url-1');
      expect(res.body).not.toContain('x'.repeat(300));
    }
  });

  it('propagates a valid x-request-id and replaces an unsafe one', async () => {
    const ok = await t.gateway.app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'trace-123.abc' },
    });
    expect(ok.headers['x-request-id']).toBe('trace-123.abc');
    const unsafe = await t.gateway.app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'bad id\u0001' },
    });
    expect(unsafe.headers['x-request-id']).not.toBe('bad id\u0001');
    expect(String(unsafe.headers['x-request-id'])).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('health and ready report version and dependencies', async () => {
    const health = await t.gateway.app.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toMatchObject({
      status: 'ok',
      version: expect.any(String),
      uptimeSec: expect.any(Number),
    });
    const ready = await t.gateway.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ok',
      db: 'ok',
      redis: process.env.REDIS_URL ? 'ok' : 'disabled',
      migrations: 'ok',
    });
  });

  it('serves the OpenAPI document generated from route schemas', async () => {
    const res = await t.gateway.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/api/admin/agent-gateway/sessions/{id}/compact');
    const ui = await t.gateway.app.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(ui.statusCode);
  });

  it('runs the runbook session sequence on real PostgreSQL engines through inject', async () => {
    const created = await adminRequest(t, 'POST', S, { channel: 'runbook' });
    expect(created.statusCode).toBe(201);
  });
});
