import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditStore } from '../../src/audit/audit-store.js';
import { AdminAuth } from '../../src/http/admin-auth.js';
import { ConsoleAssets } from '../../src/http/console-assets.js';
import { registerConsoleRoutes } from '../../src/http/routes/console-routes.js';
import { createServer } from '../../src/http/server.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

describe('GET /admin serves the built console', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => t?.close());

  const get = (url: string, headers: Record<string, string> = {}) =>
    t.gateway.app.inject({ method: 'GET', url, headers });

  it('answers /admin and /admin/ with the page, no token needed, locked down by CSP', async () => {
    for (const url of ['/admin', '/admin/']) {
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('<script type="module" src="/admin/assets/main.js">');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(t.gateway.consoleAvailable).toBe(true);
  });

  it('references only its own assets (no CDN), each served with its content type', async () => {
    const page = (await get('/admin')).body;
    const refs = [...page.matchAll(/(?:src|href)="([^"]+)"/g)]
      .map((m) => m[1] as string)
      .filter((ref) => !ref.startsWith('#'));
    expect(refs.length).toBeGreaterThanOrEqual(3);
    for (const ref of refs) {
      expect(ref.startsWith('/admin/assets/'), ref).toBe(true);
      const res = await get(ref);
      expect(res.statusCode, ref).toBe(200);
    }
    expect((await get('/admin/assets/main.js')).headers['content-type']).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await get('/admin/assets/pages/runtime-page.js')).statusCode).toBe(200);
    expect((await get('/admin/assets/console.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('gzips when asked, revalidates with ETag (304)', async () => {
    const plain = await get('/admin/assets/main.js');
    const zipped = await get('/admin/assets/main.js', { 'accept-encoding': 'gzip, br' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.rawPayload).toString('utf8')).toBe(plain.body);
    const again = await get('/admin/assets/main.js', { 'if-none-match': String(plain.headers.etag) });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('serves nothing outside the built files', async () => {
    for (const url of [
      '/admin/assets/nope.js',
      '/admin/assets/../../package.json',
      '/admin/assets/%2e%2e/%2e%2e/package.json',
      '/admin/assets/..%2f..%2fpackage.json',
      '/admin/index.html',
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error).toBe('NOT_FOUND');
    }
  });
});

describe('GET /admin when the console was not built', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agw-console-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers 503 ADMIN_CONSOLE_NOT_BUILT saying how to build it', async () => {
    const app = await createServer({
      version: 'test',
      bodyLimitBytes: 1024,
      logLevel: 'silent',
      auth: new AdminAuth([]),
      audit: new AuditStore(undefined as never),
    });
    const assets = new ConsoleAssets(dir);
    registerConsoleRoutes(app, assets);
    try {
      for (const url of ['/admin', '/admin/assets/main.js']) {
        const res = await app.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(503);
        expect(res.json()).toMatchObject({ error: 'ADMIN_CONSOLE_NOT_BUILT' });
        expect(res.json().message).toContain('npm run build');
      }
      expect(assets.available).toBe(false);
    } finally {
      await app.close();
    }
  });
});
