import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { startTestGateway, TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';

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
    });
    expect(entries.find((e) => e.action === 'sessions.create')).toMatchObject({
      tokenId: 'operator',
      statusCode: 201,
    });
  });

  it('logs written during the suite contain no token value', () => {
    const all = t.logs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const token of Object.values(TEST_TOKENS)) expect(all).not.toContain(token);
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
