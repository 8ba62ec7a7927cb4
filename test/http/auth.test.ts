import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { type AuthMode, authHeaders, FUZZ_SECRETS, fuzzGatewayEnv } from '../fuzz/fuzz-support.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { adminRequest, startTestGateway, TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';

interface RouteInfo {
  method: string;
  url: string;
  scope: string;
}

describe('admin authentication on every admin route', () => {
  let t: TestGateway;
  const seen: RouteInfo[] = [];
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => t?.close());

  it('enumerates the admin routes', () => {
    for (const route of t.gateway.routes) if (route.scope) seen.push(route as RouteInfo);
    expect(seen.length).toBeGreaterThanOrEqual(10);
    expect(seen.some((r) => r.url === '/api/admin/agent-gateway/sessions' && r.method === 'GET')).toBe(true);
  });

  it('no token → 401, wrong token → 401, read-only token on a mutation → 403', async () => {
    const sample = 'ags-00000000-0000-0000-0000-000000000000';
    for (const route of seen) {
      const url = route.url.replace(':id', sample);
      const variants: [Record<string, string>, number, string][] = [
        [{}, 401, 'ADMIN_TOKEN_INVALID'],
        [{ 'x-admin-token': 'wrong-token-wrong-token' }, 401, 'ADMIN_TOKEN_INVALID'],
        [{ 'x-admin-token': `${TEST_TOKENS.admin}x` }, 401, 'ADMIN_TOKEN_INVALID'],
      ];
      if (route.scope !== 'read')
        variants.push([{ 'x-admin-token': TEST_TOKENS.read }, 403, 'ADMIN_TOKEN_SCOPE_DENIED']);
      if (route.scope === 'admin')
        variants.push([{ 'x-admin-token': TEST_TOKENS.operate }, 403, 'ADMIN_TOKEN_SCOPE_DENIED']);
      for (const [headers, status, code] of variants) {
        const res = await t.gateway.app.inject({
          method: route.method as 'GET',
          url,
          headers: { ...headers, 'content-type': 'application/json' },
          payload: route.method === 'GET' ? undefined : '{}',
        });
        expect(res.statusCode, `${route.method} ${route.url} ${JSON.stringify(headers)}`).toBe(status);
        expect(res.json().error).toBe(code);
      }
    }
  });

  it('scopes nest: operate can read, read cannot operate, admin-only routes need admin', async () => {
    const list = await t.gateway.app.inject({
      method: 'GET',
      url: '/api/admin/agent-gateway/sessions',
      headers: { 'x-admin-token': TEST_TOKENS.operate },
    });
    expect(
      list.statusCode,
      list.body +
        t.logs
          .filter((l) => l.includes('"level":50'))
          .join('')
          .slice(0, 1500),
    ).toBe(200);
    const audit = await t.gateway.app.inject({
      method: 'GET',
      url: '/api/admin/audit',
      headers: { 'x-admin-token': TEST_TOKENS.admin },
    });
    expect(
      audit.statusCode,
      audit.body +
        t.logs
          .filter((l) => l.includes('"level":50'))
          .join('')
          .slice(0, 1500),
    ).toBe(200);
  });

  it('whoami names the token and every scope it grants (the console hides what a token cannot do)', async () => {
    expect(seen.some((r) => r.url === '/api/admin/whoami' && r.scope === 'read')).toBe(true);
    const cases: [string, string, string[], string[]][] = [
      [TEST_TOKENS.admin, 'default', ['read', 'operate', 'admin'], ['read', 'operate', 'admin']],
      [TEST_TOKENS.operate, 'operator', ['operate'], ['read', 'operate']],
      [TEST_TOKENS.read, 'reader', ['read'], ['read']],
    ];
    for (const [token, tokenId, scopes, effectiveScopes] of cases) {
      const res = await t.gateway.app.inject({
        method: 'GET',
        url: '/api/admin/whoami',
        headers: { 'x-admin-token': token },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ tokenId, scopes, effectiveScopes });
      expect(res.body).not.toContain(token);
    }
    const extra = await t.gateway.app.inject({
      method: 'GET',
      url: '/api/admin/whoami?x=1',
      headers: { 'x-admin-token': TEST_TOKENS.read },
    });
    expect(extra.json().error).toBe('ADMIN_INVALID_QUERY');
  });

  it('records an audit row for every admin mutation with the token id', async () => {
    const created = await t.gateway.app.inject({
      method: 'POST',
      url: '/api/admin/agent-gateway/sessions',
      headers: { 'x-admin-token': TEST_TOKENS.operate, 'content-type': 'application/json' },
      payload: JSON.stringify({ channel: 'audit-check' }),
    });
    const id = created.json().session.id;
    await t.gateway.app.inject({
      method: 'POST',
      url: `/api/admin/agent-gateway/sessions/${id}/close`,
      headers: { 'x-admin-token': TEST_TOKENS.admin },
    });
    const audit = await t.gateway.app.inject({
      method: 'GET',
      url: '/api/admin/audit?limit=50',
      headers: { 'x-admin-token': TEST_TOKENS.admin },
    });
    const entries = audit.json().entries as {
      tokenId: string;
      action: string;
      target: string | null;
      statusCode: number;
    }[];
    expect(entries.find((e) => e.action === 'sessions.close' && e.target === id)).toMatchObject({
      tokenId: 'default',
      statusCode: 200,
      method: 'POST',
      path: '/api/admin/agent-gateway/sessions/:id/close',
    });
    expect(entries.find((e) => e.action === 'sessions.create')).toMatchObject({
      tokenId: 'operator',
      statusCode: 201,
    });
  });

  it('audits a denied mutation even when its path id is not storable text (NUL byte; found by fuzzing)', async () => {
    const res = await t.gateway.app.inject({
      method: 'POST',
      url: '/api/admin/agent-gateway/sessions/%00/close',
      headers: { 'x-admin-token': TEST_TOKENS.read },
    });
    expect(res.statusCode).toBe(403);
    const audit = await t.gateway.app.inject({
      method: 'GET',
      url: '/api/admin/audit?limit=5',
      headers: { 'x-admin-token': TEST_TOKENS.admin },
    });
    expect(audit.json().entries[0]).toMatchObject({
      tokenId: 'reader',
      action: 'sessions.close',
      target: '\ufffd',
      statusCode: 403,
    });
    expect(t.logs.filter((l) => l.includes('audit record failed'))).toEqual([]);
  });

  it('logs written during the suite contain no token value', () => {
    const all = t.logs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const token of Object.values(TEST_TOKENS)) expect(all).not.toContain(token);
  });
});

describe('every other door: /v1 keys, the metrics token, ingest and platform signatures', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ env: fuzzGatewayEnv() });
  });
  afterAll(async () => t?.close());

  /** How each route without an admin scope authenticates; a new route must be added here (or get a scope). */
  const doorOf = (url: string): string => {
    if (url.startsWith('/v1/')) return 'gateway-key';
    if (url === '/metrics') return 'metrics-token';
    if (url.startsWith('/api/agent-gateway/')) return 'signature';
    return 'public';
  };

  it('the only routes open to anyone are health, readiness, the OpenAPI docs and the console shell', () => {
    const open = t.gateway.routes.filter((r) => !r.scope && doorOf(r.url) === 'public').map((r) => r.url);
    expect(open.length).toBeGreaterThan(0);
    for (const url of open) expect(url, url).toMatch(/^\/(health|ready|docs(\/.*)?|admin(\/assets\/\*)?)$/);
  });

  it("no credential, a wrong one, or a stale signature → 401 with the door's code", async () => {
    const routes = t.gateway.routes.filter((r) => !r.scope && doorOf(r.url) !== 'public');
    expect(routes.map((r) => r.url)).toEqual(
      expect.arrayContaining([
        '/metrics',
        '/v1/models',
        '/v1/chat/completions',
        '/api/agent-gateway/adapters/ingest',
        '/api/agent-gateway/channels/telegram/:connectorId',
        '/api/agent-gateway/channels/slack/:connectorId',
        '/api/agent-gateway/channels/discord/:connectorId',
      ]),
    );
    const connectorFor = (url: string) =>
      url.includes('/telegram/')
        ? 'tg'
        : url.includes('/slack/')
          ? 'sl'
          : url.includes('/discord/')
            ? 'dc'
            : 'conn-a';
    for (const route of routes) {
      const door = doorOf(route.url);
      const connectorId = connectorFor(route.url);
      const url = route.url.replace(':connectorId', connectorId);
      const payload =
        route.method === 'GET'
          ? undefined
          : JSON.stringify(
              route.url.endsWith('/ingest')
                ? { connectorId, eventId: 'auth-1', channel: 'auth', fromRole: 'observer', type: 'note' }
                : route.url.includes('/slack/')
                  ? {
                      type: 'event_callback',
                      event_id: 'Ev1',
                      event: { type: 'message', channel: 'C1', text: 'x' },
                    }
                  : route.url.includes('/discord/')
                    ? { type: 1 }
                    : route.url.includes('/telegram/')
                      ? { update_id: 7, message: { chat: { id: 5 }, text: 'x' } }
                      : { model: 'critic', messages: [{ role: 'user', content: 'x' }] },
            );
      const code =
        door === 'gateway-key'
          ? 'GATEWAY_API_KEY_INVALID'
          : door === 'metrics-token'
            ? 'METRICS_TOKEN_INVALID'
            : 'AGENT_GATEWAY_INGEST_SIGNATURE_INVALID';
      const modes: [AuthMode, string][] = [
        ['missing', code],
        ['garbage', code],
      ];
      // Signed doors: a correct signature over a timestamp an hour old is refused too (replay window).
      if (route.url.endsWith('/ingest')) modes.push(['low-scope', 'AGENT_GATEWAY_INGEST_SIGNATURE_EXPIRED']);
      if (route.url.includes('/slack/')) modes.push(['low-scope', 'AGENT_GATEWAY_INGEST_SIGNATURE_EXPIRED']);
      for (const [mode, expected] of modes) {
        const res = await t.gateway.app.inject({
          method: route.method as 'GET',
          url,
          headers: { 'content-type': 'application/json', ...authHeaders(route, connectorId, payload, mode) },
          ...(payload !== undefined ? { payload } : {}),
        });
        const body = res.json() as { error: string | { code: string } };
        const got = typeof body.error === 'string' ? body.error : body.error.code;
        expect([res.statusCode, got], `${route.method} ${url} ${mode}`).toEqual([401, expected]);
      }
      // The same request with valid credentials gets through (so the 401s above are about the credential).
      const ok = await t.gateway.app.inject({
        method: route.method as 'GET',
        url,
        headers: { 'content-type': 'application/json', ...authHeaders(route, connectorId, payload, 'valid') },
        ...(payload !== undefined ? { payload } : {}),
      });
      expect(ok.statusCode, `${route.method} ${url} valid: ${ok.body.slice(0, 300)}`).toBeLessThan(300);
    }
  });

  it('a connector with its own secret refuses the global one', async () => {
    const body = JSON.stringify({
      connectorId: 'conn-a',
      eventId: 'scope-1',
      channel: 'auth',
      fromRole: 'observer',
      type: 'note',
    });
    const ts = Math.floor(Date.now() / 1000);
    const send = (secret: string) =>
      t.gateway.app.inject({
        method: 'POST',
        url: '/api/agent-gateway/adapters/ingest',
        headers: {
          'content-type': 'application/json',
          'x-gateway-timestamp': String(ts),
          'x-gateway-signature': `v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`,
        },
        payload: body,
      });
    const global = await send(FUZZ_SECRETS.webhook);
    expect([global.statusCode, global.json().error]).toEqual([401, 'AGENT_GATEWAY_INGEST_SIGNATURE_INVALID']);
    expect((await send(FUZZ_SECRETS.connector)).statusCode).toBe(201);
  });

  it('refused ingest and webhook requests write no session or event', async () => {
    const before = (await adminRequest(t, 'GET', '/api/admin/agent-gateway/sessions?limit=200')).json()
      .sessions.length;
    for (const mode of ['missing', 'garbage', 'low-scope'] as AuthMode[]) {
      for (const [url, connectorId] of [
        ['/api/agent-gateway/adapters/ingest', 'conn-a'],
        ['/api/agent-gateway/channels/telegram/tg', 'tg'],
        ['/api/agent-gateway/channels/slack/sl', 'sl'],
      ] as const) {
        // Telegram signs nothing with a timestamp: its "stale" variant would be a valid request.
        if (mode === 'low-scope' && connectorId === 'tg') continue;
        const payload = JSON.stringify({
          connectorId,
          eventId: `refused-${mode}`,
          channel: 'refused',
          externalSessionId: `refused-${mode}`,
          fromRole: 'observer',
          type: 'note',
          update_id: 99,
          message: { chat: { id: 99 }, text: 'x' },
        });
        const route = { method: 'POST', url: url.replace(/\/(tg|sl)$/, '/:connectorId') };
        const res = await t.gateway.app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json', ...authHeaders(route, connectorId, payload, mode) },
          payload,
        });
        expect(res.statusCode, `${url} ${mode}`).toBeGreaterThanOrEqual(400);
      }
    }
    const after = (await adminRequest(t, 'GET', '/api/admin/agent-gateway/sessions?limit=200')).json()
      .sessions.length;
    expect(after).toBe(before);
  });
});

describe('admin API with no token configured', () => {
  it('answers 503 ADMIN_TOKEN_NOT_CONFIGURED (the admin API is never open)', async () => {
    const db = await createTestDatabase();
    const gateway = await createGateway({
      config: loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: 'postgres://unused@127.0.0.1:1/x' }),
      database: db.database,
    });
    try {
      const res = await gateway.app.inject({ method: 'GET', url: '/api/admin/agent-gateway/sessions' });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toBe('ADMIN_TOKEN_NOT_CONFIGURED');
    } finally {
      await gateway.close();
      await db.cleanup();
    }
  });
});
