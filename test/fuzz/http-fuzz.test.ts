import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import {
  authHeaders,
  authMode,
  documentedErrorCodes,
  extraHeaders,
  type FuzzRoute,
  fuzzGatewayEnv,
  fuzzRoutes,
  pathSegment,
  queryString,
  rawBody,
  validExamples,
} from './fuzz-support.js';

/**
 * Property: whatever a client sends to any route — arbitrary JSON, malformed bodies, odd media types, unknown and
 * repeated query keys, broken escapes, odd headers, arbitrary path ids, valid or invalid credentials — the gateway
 * answers below 500, raises no unhandled rejection, and every error body carries a code from docs/errors.md.
 * FUZZ_RUNS (default 100) runs per route; FUZZ_SEED replays a failure that fast-check reported; FUZZ_CODES=1 reports
 * the error codes each route answered instead of the statuses (to see how deep the generators get).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

describe('HTTP fuzz: every route, arbitrary input', () => {
  let t: TestGateway;
  let routes: FuzzRoute[];
  const ownConnector = { telegram: 'tg', slack: 'sl', discord: 'dc' } as const;
  const known: string[] = [];
  let examples: Record<string, unknown[]> = {};
  /** Ids whose live stream would stay open (an active session): never used as a stream path. */
  const liveSessions = new Set<string>();
  const codes = documentedErrorCodes();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    t = await startTestGateway({ env: fuzzGatewayEnv() });
    routes = await fuzzRoutes(t);
    const draft = (await adminRequest(t, 'POST', '/api/admin/drafts', { title: 'fuzz', body: 'b' })).json()
      .draft as { id: string };
    const active = (
      await adminRequest(t, 'POST', '/api/admin/agent-gateway/sessions', {
        channel: 'fuzz',
        roles: ['author'],
      })
    ).json().session as { id: string };
    await adminRequest(t, 'POST', `/api/admin/agent-gateway/sessions/${active.id}/events`, {
      fromRole: 'author',
      type: 'note',
      payload: { text: 'hello' },
    });
    const run = (
      await adminRequest(t, 'POST', '/api/admin/agent-gateway/orchestrate', { draftId: draft.id })
    ).json() as { sessionId: string; runId: string };
    known.push(draft.id, active.id, run.sessionId, run.runId);
    examples = validExamples({ draftId: draft.id });
    liveSessions.add(active.id);
  }, 120_000);

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    await t?.close();
  });

  it('enumerates every route, the webhooks included', () => {
    const urls = routes.map((r) => `${r.method} ${r.url}`);
    for (const expected of [
      'POST /api/agent-gateway/adapters/ingest',
      'POST /api/agent-gateway/channels/telegram/:connectorId',
      'POST /api/agent-gateway/channels/slack/:connectorId',
      'POST /api/agent-gateway/channels/discord/:connectorId',
      'POST /v1/chat/completions',
      'POST /api/admin/agent-gateway/sessions/:id/events',
      'GET /api/admin/agent-gateway/telemetry',
    ])
      expect(urls).toContain(expected);
    expect(routes.length).toBeGreaterThanOrEqual(35);
    // The OpenAPI document gives the fuzzer each route's field names.
    expect(routes.find((r) => r.url === '/api/admin/ai-runtime/dry-run')?.bodyKeys).toContain('prompt');
    expect(
      routes.find((r) => r.url === '/api/admin/agent-gateway/sessions' && r.method === 'GET')?.queryKeys,
    ).toContain('staleMinutes');
  });

  it('answers every fuzzed request below 500 with a documented error code', {
    timeout: 240_000,
  }, async () => {
    const report: string[] = [];
    for (const route of routes) {
      const statuses = new Map<number, number>();
      const routeStarted = performance.now();
      const codesSeen = new Map<string, number>();
      // A platform route mostly gets its own connector (so the body is verified and parsed), sometimes another's.
      const platform = /channels\/(telegram|slack|discord)\//.exec(
        route.url,
      )?.[1] as keyof typeof ownConnector;
      const segments = route.url.includes(':connectorId')
        ? [...Array<string>(8).fill(ownConnector[platform]), 'tg', 'unknown-connector']
        : known.filter((id) => !(route.url.endsWith('/stream') && liveSessions.has(id)));
      const input = fc.record({
        segment: pathSegment(segments, route.url.includes(':connectorId') ? 20 : 8),
        query: queryString(route.queryKeys),
        body: rawBody(route.bodyKeys, examples[`${route.method} ${route.url}`]),
        auth: authMode,
        headers: extraHeaders,
      });
      const outcome = await fc.check(
        fc.asyncProperty(input, async ({ segment, query, body, auth, headers }) => {
          const url = route.url.replace(/:[A-Za-z]+|\*/g, segment) + query;
          const connectorId = route.url.includes(':connectorId') ? segment : 'conn-a';
          const payload = route.method === 'GET' ? undefined : body.payload;
          const res = await t.gateway.app.inject({
            method: route.method as 'GET' | 'POST',
            url,
            headers: {
              ...headers,
              ...(body.contentType !== undefined && payload !== undefined
                ? { 'content-type': body.contentType }
                : {}),
              ...authHeaders(route, connectorId, payload, auth),
            },
            ...(payload !== undefined ? { payload } : {}),
          });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (process.env.FUZZ_CODES) {
            const key = `${res.statusCode} ${errorCode(res.body) ?? ''}`.trim();
            codesSeen.set(key, (codesSeen.get(key) ?? 0) + 1);
          }
          const where = `${route.method} ${url} → ${res.statusCode} ${res.body.slice(0, 300)}`;
          if (res.statusCode >= 500) throw new Error(`server error: ${where}`);
          if (res.statusCode >= 400) {
            const code = errorCode(res.body);
            if (!code || !codes.has(code)) throw new Error(`undocumented error code: ${where}`);
          }
          if (unhandled.length > 0)
            throw new Error(`unhandled rejection after ${where}: ${String(unhandled[0])}`);
        }),
        { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
      );
      if (outcome.failed)
        throw new Error(
          `${route.method} ${route.url}: ${String(outcome.errorInstance)}\n${fc.defaultReportMessage(outcome) ?? ''}`,
        );
      report.push(
        `${route.method} ${route.url} ${JSON.stringify(Object.fromEntries(process.env.FUZZ_CODES ? codesSeen : statuses))} ${(performance.now() - routeStarted).toFixed(0)} ms`,
      );
      // Some generated requests got past authentication (the generators sign and authorise most of them).
      const reached = [...statuses].filter(([s]) => s !== 401 && s !== 403).reduce((n, [, c]) => n + c, 0);
      expect(reached, `${route.method} ${route.url} was never reached past auth`).toBeGreaterThan(0);
    }
    console.log(`fuzz: ${RUNS} runs per route\n${report.join('\n')}`);
    // Give any rejection left floating by a handler a chance to surface.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(unhandled).toEqual([]);
    const faults = t.logs.filter((line) => /"level":(50|60)/.test(line));
    expect(faults.slice(0, 3)).toEqual([]);
  });
});

/** `error` for gateway errors, `error.code` for OpenAI-shaped /v1 errors. */
function errorCode(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as { error?: unknown };
    if (typeof json.error === 'string') return json.error;
    if (json.error && typeof json.error === 'object') return (json.error as { code?: string }).code;
  } catch {
    return undefined;
  }
  return undefined;
}
