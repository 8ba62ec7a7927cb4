import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateHttp } from './gate-http.js';

/** A real local server whose answers per path are scripted: a list of statuses, the last one repeating. */
describe('GateHttp retries transient failures with bounded backoff', () => {
  let server: Server;
  let base = '';
  const script: Record<string, number[]> = {
    '/flaky': [503, 502, 200],
    '/down': [504],
    '/missing': [404],
    '/slow': [200],
  };
  const seen: Record<string, { count: number; headers: Record<string, unknown>[] }> = {};
  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '/';
      seen[path] ??= { count: 0, headers: [] };
      const entry = seen[path];
      entry.count += 1;
      entry.headers.push(req.headers);
      const statuses = script[path] ?? [500];
      const status = statuses[Math.min(entry.count - 1, statuses.length - 1)]!;
      if (path === '/slow' && entry.count === 1) return; // never answers the first time
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { ok: true } : { error: `E${status}`, message: 'scripted' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  // Only the /slow test waits out a timeout; elsewhere it is long enough that a loaded machine never retries an answer.
  const client = (sleeps: number[], timeoutMs = 2000) =>
    new GateHttp({
      baseUrl: base,
      adminToken: 'gate-http-admin-token-0123456789',
      timeoutMs,
      requestIdPrefix: 'rg-test',
      backoffMs: 100,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });

  it('503 then 502 then 200: answered on the third attempt, after growing waits', async () => {
    const sleeps: number[] = [];
    const res = await client(sleeps).admin('GET', '/flaky');
    expect(res).toMatchObject({ status: 200, attempts: 3, error: null, body: { ok: true } });
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(100);
    expect(sleeps[0]).toBeLessThan(150);
    expect(sleeps[1]).toBeGreaterThanOrEqual(200);
    expect(sleeps[1]).toBeLessThan(300);
    const headers = seen['/flaky']!.headers;
    expect(headers.map((h) => h['x-request-id'])).toEqual(['rg-test-1', 'rg-test-2', 'rg-test-3']);
    expect(headers[0]!['x-admin-token']).toBe('gate-http-admin-token-0123456789');
  });

  it('a 504 that never clears stops after three attempts with the last answer', async () => {
    const res = await client([]).admin('GET', '/down');
    expect(res).toMatchObject({ status: 504, attempts: 3, body: { error: 'E504' } });
    expect(seen['/down']!.count).toBe(3);
  });

  it('a 404 is an answer, not retried', async () => {
    const res = await client([]).admin('GET', '/missing');
    expect(res).toMatchObject({ status: 404, attempts: 1 });
  });

  it('a timeout is retried; the error names the wait, never the token', async () => {
    const res = await client([], 1000).open('/slow');
    expect(res).toMatchObject({ status: 200, attempts: 2 });
    const unreachable = new GateHttp({
      baseUrl: 'http://127.0.0.1:1',
      adminToken: 'gate-http-admin-token-0123456789',
      timeoutMs: 300,
      requestIdPrefix: 'rg-test',
      maxAttempts: 2,
      sleep: async () => undefined,
    });
    const down = await unreachable.admin('GET', '/x');
    expect(down).toMatchObject({ status: null, attempts: 2 });
    expect(down.error).not.toContain('gate-http-admin-token');
  });
});
