import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { RouteSummary } from '../../src/http/server.js';
import { repoRoot } from '../helpers/processes.js';
import { TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';

/** Every error code documented in docs/errors.md (the catalogue is checked against it by the docs test). */
export function documentedErrorCodes(): Set<string> {
  const text = readFileSync(`${repoRoot}docs/errors.md`, 'utf8');
  return new Set([...text.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
}

/** The secrets a fuzzed gateway is configured with (the generators sign with them so bodies reach the parsers). */
export const FUZZ_SECRETS = {
  webhook: 'fuzz-webhook-secret-0123456789abcdef',
  connector: 'fuzz-connector-secret-0123456789abcdef',
  telegram: 'fuzz-telegram-secret-0123456789',
  slack: 'fuzz-slack-signing-secret-0123456789',
  apiKey: 'sk-fuzz-gateway-key-0123456789abcdef',
  metrics: 'fuzz-metrics-token-0123456789abcdef',
} as const;

const discordKeys = generateKeyPairSync('ed25519');
export const DISCORD_PUBLIC_KEY_HEX = discordKeys.publicKey
  .export({ format: 'der', type: 'spki' })
  .subarray(12)
  .toString('hex');

/** Gateway settings for the fuzz run: every inbound door configured, limits high enough not to hide deeper code. */
export function fuzzGatewayEnv(): Record<string, string> {
  return {
    AGENT_GATEWAY_WEBHOOK_SECRET: FUZZ_SECRETS.webhook,
    AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS: JSON.stringify({ 'conn-a': FUZZ_SECRETS.connector }),
    AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: JSON.stringify({
      tg: { channel: 'telegram', fromRole: 'observer', toRole: 'author', type: 'observer_message' },
      sl: { channel: 'slack', fromRole: 'observer' },
      dc: 'discord',
    }),
    AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_MAX: '1000000',
    AGENT_GATEWAY_CHANNEL_CONNECTORS: JSON.stringify({
      tg: { platform: 'telegram', secret: FUZZ_SECRETS.telegram },
      sl: { platform: 'slack', secret: FUZZ_SECRETS.slack },
      dc: { platform: 'discord', publicKey: DISCORD_PUBLIC_KEY_HEX },
    }),
    GATEWAY_API_KEYS: FUZZ_SECRETS.apiKey,
    METRICS_TOKEN: FUZZ_SECRETS.metrics,
    // A sync orchestration waits at most this long; fuzzed `waitMs` values are bounded by the route itself.
    AGENT_ORCHESTRATION_DEFAULT_WAIT_MS: '5000',
  };
}

export interface FuzzRoute extends RouteSummary {
  /** Field names the route's OpenAPI schema declares for its body and query (hints; unknown keys are fuzzed too). */
  bodyKeys: string[];
  queryKeys: string[];
}

/**
 * Field names of routes that parse their body themselves (no OpenAPI body schema): ingest, platform payloads,
 * dry-run and /v1 chat completions.
 */
const selfParsedKeys = [
  'role',
  'prompt',
  'timeoutMs',
  'providersOverride',
  'simulateFailures',
  'provider',
  'code',
  'latencyMs',
  'correlationId',
  'live',
  'model',
  'messages',
  'content',
  'stream',
  'stream_options',
  'include_usage',
  'fallbacks',
  'max_tokens',
  'temperature',
  'connectorId',
  'eventId',
  'adapter',
  'channel',
  'externalSessionId',
  'draftId',
  'roles',
  'metadata',
  'fromRole',
  'toRole',
  'type',
  'payload',
  'update_id',
  'message',
  'chat',
  'id',
  'text',
  'challenge',
  'token',
  'event_id',
  'event',
  'team_id',
  'channel_id',
  'user',
  'data',
  'member',
  'd',
];

interface OpenApiOperation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

/**
 * The routes the gateway registered (its onRoute list, so a new route is fuzzed without editing this file), each with
 * the body and query field names its OpenAPI document declares.
 */
export async function fuzzRoutes(t: TestGateway): Promise<FuzzRoute[]> {
  const doc = (await t.gateway.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
    paths: Record<string, Record<string, OpenApiOperation>>;
  };
  const seen = new Set<string>();
  const routes: FuzzRoute[] = [];
  for (const route of t.gateway.routes) {
    const key = `${route.method} ${route.url}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const openApiPath = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const operation = doc.paths[openApiPath]?.[route.method.toLowerCase()];
    const bodySchema = Object.values(operation?.requestBody?.content ?? {})[0]?.schema;
    const declaredBody = Object.keys(bodySchema?.properties ?? {});
    routes.push({
      ...route,
      bodyKeys: declaredBody.length > 0 ? declaredBody : route.method === 'GET' ? [] : selfParsedKeys,
      queryKeys: (operation?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
    });
  }
  return routes;
}

/** Strings that stress validators: control and non-BMP characters, numbers, huge and negative values, traps. */
const nastyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-1',
    '1e309',
    '9007199254740993',
    '99999999999999999999999',
    'NaN',
    'null',
    'true',
    '__proto__',
    'constructor',
    '../../etc/passwd',
    'critic',
    'judge',
    'role:maker',
    'user',
    'observer',
    'telegram',
    'url_verification',
    'event_callback',
    "'; drop table sessions; --",
    '\u0000',
    '\ud800',
    '%',
    '%zz',
    'ags-00000000',
    'x'.repeat(5000),
  ),
);

/** Arbitrary JSON values, biased towards the shapes validators meet: objects with the route's own field names. */
export function jsonBody(keys: string[]): fc.Arbitrary<unknown> {
  const scalar = fc.oneof(
    nastyString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1.5, 4000, 4001, 120000, 120001),
  );
  const key =
    keys.length > 0 ? fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 12 })) : fc.string();
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 6 }),
    ),
  }));
  return fc.oneof(fc.dictionary(key, value, { maxKeys: 8 }), value, fc.jsonValue());
}

/**
 * Valid bodies per route (SPEC examples), which the fuzzer mutates — a field dropped, replaced by an arbitrary value
 * or an unknown one added — so most inputs get past the first validation error into the service code.
 */
export function validExamples(ids: { draftId: string }): Record<string, unknown[]> {
  return {
    'POST /api/admin/agent-gateway/sessions': [
      {
        channel: 'fuzz',
        externalSessionId: 'Ext-1',
        roles: ['author'],
        metadata: { a: 1 },
        draftId: ids.draftId,
      },
    ],
    'POST /api/admin/agent-gateway/sessions/:id/events': [
      { fromRole: 'author', toRole: 'critic', type: 'note', payload: { text: 'x' } },
      { fromRole: 'observer', toRole: 'author', type: 'observer_message', payload: { text: 'reply please' } },
    ],
    'POST /api/admin/agent-gateway/sessions/:id/compact': [{ keepRecent: 1 }],
    'POST /api/admin/ai-runtime/dry-run': [
      {
        role: 'critic',
        prompt: 'p',
        timeoutMs: 1000,
        simulateFailures: ['x@y', { provider: 'p', code: 'AI_PROVIDER_TIMEOUT', latencyMs: 1 }],
      },
    ],
    'POST /api/admin/drafts': [{ title: 't', body: 'b', context: 'c' }],
    'POST /api/admin/agent-gateway/orchestrate': [
      { draftId: ids.draftId, async: true, channel: 'fuzz_cycle', promptSeed: 's', metadata: {} },
      { draftId: ids.draftId, waitMs: 1, externalSessionId: 'ext-2' },
    ],
    'POST /v1/chat/completions': [
      { model: 'critic', messages: [{ role: 'user', content: 'hi' }] },
      {
        model: 'role:judge',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'x' }],
      },
    ],
    'POST /api/agent-gateway/adapters/ingest': [
      {
        connectorId: 'conn-a',
        eventId: 'e-1',
        channel: 'telegram',
        fromRole: 'observer',
        toRole: 'author',
        type: 'observer_message',
        payload: { message: { chat: { id: -5 } } },
      },
      {
        connectorId: 'other',
        eventId: 'e-2',
        channel: 'slack',
        fromRole: 'observer',
        type: 'note',
        payload: { event: { channel: 'C1' } },
      },
    ],
    'POST /api/agent-gateway/channels/telegram/:connectorId': [
      {
        update_id: 1,
        message: { message_id: 1, chat: { id: 5, type: 'private' }, from: { id: 1 }, text: 'hi' },
      },
    ],
    'POST /api/agent-gateway/channels/slack/:connectorId': [
      { type: 'url_verification', challenge: 'c' },
      {
        type: 'event_callback',
        event_id: 'Ev1',
        team_id: 'T1',
        event: { type: 'message', channel: 'C1', user: 'U1', text: 'hi' },
      },
    ],
    'POST /api/agent-gateway/channels/discord/:connectorId': [
      { type: 1 },
      { type: 2, id: '1', channel_id: '5', data: { name: 'ask', options: [{ name: 'text', value: 'hi' }] } },
    ],
  };
}

/** A valid example with a few top-level fields dropped, replaced by arbitrary values, or unknown ones added. */
export function mutatedExample(examples: unknown[], keys: string[]): fc.Arbitrary<unknown> {
  const edit = fc.record({
    op: fc.constantFrom('drop', 'set', 'set', 'add'),
    index: fc.nat(),
    key: fc.string({ maxLength: 10 }),
    value: jsonBody(keys),
  });
  return fc.tuple(fc.constantFrom(...examples), fc.array(edit, { maxLength: 2 })).map(([example, edits]) => {
    const body = structuredClone(example) as Record<string, unknown>;
    for (const { op, index, key, value } of edits) {
      const existing = Object.keys(body);
      const target = existing.length > 0 ? existing[index % existing.length]! : key;
      if (op === 'drop') delete body[target];
      else if (op === 'set') body[target] = value;
      else body[key] = value;
    }
    return body;
  });
}

export interface RawBody {
  /** Exact bytes to send (undefined: no body). */
  payload: string | undefined;
  contentType: string | undefined;
}

/** Bodies: mostly JSON of the route's shape, sometimes malformed JSON, other media types, or nothing at all. */
export function rawBody(keys: string[], examples: unknown[] = []): fc.Arbitrary<RawBody> {
  const arbitraryJson = jsonBody(keys);
  const json = (
    examples.length > 0
      ? fc.oneof(mutatedExample(examples, keys), mutatedExample(examples, keys), arbitraryJson)
      : arbitraryJson
  ).map((value) => JSON.stringify(value) ?? 'null');
  return fc.oneof(
    { arbitrary: json.map((payload) => ({ payload, contentType: 'application/json' })), weight: 6 },
    {
      arbitrary: fc.record({
        payload: fc.oneof(
          fc.string(),
          json.map((s) => s.slice(0, -1)),
          fc.constantFrom('{', '[', '{"a":}'),
        ),
        contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
      }),
      weight: 2,
    },
    {
      arbitrary: fc.record({
        payload: fc.oneof(json, fc.string()),
        contentType: fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/vnd.api+json',
          'multipart/form-data; boundary=x',
          'application/json; charset=latin1',
          '',
        ),
      }),
      weight: 1,
    },
    { arbitrary: fc.constant({ payload: undefined, contentType: undefined }), weight: 1 },
  );
}

/** Percent-encodes any string (a lone surrogate, which has no UTF-8 form, becomes U+FFFD as a browser sends it). */
function encode(value: string): string {
  return encodeURIComponent(
    value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );
}

/** A query string with the route's declared keys and unknown ones, repeated keys, malformed escapes. */
export function queryString(keys: string[]): fc.Arbitrary<string> {
  const key =
    keys.length > 0 ? fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 10 })) : fc.string();
  const value = fc.oneof(
    nastyString,
    fc.integer().map(String),
    fc.constantFrom('db', 'memory', 'active', 'closed', '1', '0', '200', '201', '1000', '1001', '720'),
  );
  const pairs = fc
    .array(fc.tuple(key, value), { maxLength: 5 })
    .map((entries) => entries.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&'));
  return fc.oneof(
    { arbitrary: fc.constant(''), weight: keys.length > 0 ? 2 : 20 },
    { arbitrary: pairs.map((q) => (q ? `?${q}` : '')), weight: 6 },
    { arbitrary: fc.constantFrom('?%', '?a=%zz', '?&&&', '?=', '?limit=1&limit=2', '?a[b]=1'), weight: 1 },
  );
}

/** Path segments: known ids (existing sessions, drafts, runs, connectors), id-shaped strings, anything encoded. */
export function pathSegment(known: string[], knownWeight = 8): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...known), weight: knownWeight },
    { arbitrary: fc.stringMatching(/^ags-[a-z0-9][a-z0-9-]{7,30}$/), weight: 2 },
    { arbitrary: fc.uuid(), weight: 1 },
    { arbitrary: nastyString.map((s) => encode(s) || 'x'), weight: 3 },
    { arbitrary: fc.constant('x'.repeat(300)), weight: 1 },
  );
}

/** Values for the headers the gateway reads; auth headers are mostly valid so the request reaches validation. */
const headerValue = fc.oneof(
  fc.string({ minLength: 0, maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  fc.integer().map(String),
  fc.constantFrom('', '0', '-1', '99999999999', 'v1=', 'v0=zz', 'Bearer ', 'bearer x'),
);

export type AuthMode = 'valid' | 'missing' | 'garbage' | 'low-scope';

export const authMode = fc.constantFrom<AuthMode>(
  'valid',
  'valid',
  'valid',
  'valid',
  'missing',
  'garbage',
  'low-scope',
);

const someHeaders = fc.dictionary(
  fc.constantFrom(
    'x-request-id',
    'last-event-id',
    'x-gateway-timestamp',
    'x-gateway-key-id',
    'x-gateway-connector-id',
    'x-idempotency-key',
    'x-slack-request-timestamp',
    'x-slack-retry-num',
    'x-slack-retry-reason',
    'x-signature-timestamp',
    'accept',
    'accept-encoding',
    'content-encoding',
    'x-forwarded-for',
  ),
  headerValue,
  { maxKeys: 4 },
);

export const extraHeaders = fc.oneof(
  { arbitrary: fc.constant({} as Record<string, string>), weight: 2 },
  { arbitrary: someHeaders, weight: 1 },
);

/**
 * The credentials a request to `url` presents: admin token, gateway key, metrics token, ingest HMAC or a platform
 * signature, computed over the exact body so that `valid` requests get past authentication into the parsers.
 */
export function authHeaders(
  route: RouteSummary,
  connectorId: string,
  body: string | undefined,
  mode: AuthMode,
): Record<string, string> {
  if (mode === 'missing') return {};
  const raw = body ?? '';
  const now = Math.floor(Date.now() / 1000);
  const garbage = mode === 'garbage';
  if (route.scope) {
    if (garbage) return { 'x-admin-token': `${TEST_TOKENS.admin.slice(0, 20)}nope` };
    return { 'x-admin-token': mode === 'low-scope' ? TEST_TOKENS.read : TEST_TOKENS.admin };
  }
  if (route.url.startsWith('/v1/'))
    return { authorization: `Bearer ${garbage ? 'sk-wrong' : FUZZ_SECRETS.apiKey}` };
  if (route.url === '/metrics')
    return { authorization: `Bearer ${garbage ? 'wrong' : FUZZ_SECRETS.metrics}` };
  if (route.url === '/api/agent-gateway/adapters/ingest') {
    const secret = connectorId === 'conn-a' ? FUZZ_SECRETS.connector : FUZZ_SECRETS.webhook;
    const ts = mode === 'low-scope' ? now - 3600 : now;
    const mac = createHmac('sha256', garbage ? 'wrong' : secret)
      .update(`${ts}.${raw}`)
      .digest('hex');
    return { 'x-gateway-timestamp': String(ts), 'x-gateway-signature': `v1=${mac}` };
  }
  if (route.url.includes('/channels/telegram/'))
    return { 'x-telegram-bot-api-secret-token': garbage ? 'wrong' : FUZZ_SECRETS.telegram };
  if (route.url.includes('/channels/slack/')) {
    const ts = mode === 'low-scope' ? now - 3600 : now;
    const mac = createHmac('sha256', garbage ? 'wrong' : FUZZ_SECRETS.slack)
      .update(`v0:${ts}:${raw}`)
      .digest('hex');
    return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': `v0=${mac}` };
  }
  if (route.url.includes('/channels/discord/')) {
    const ts = String(now);
    const signature = garbage
      ? '00'.repeat(64)
      : sign(null, Buffer.from(ts + raw), discordKeys.privateKey).toString('hex');
    return { 'x-signature-ed25519': signature, 'x-signature-timestamp': ts };
  }
  return {};
}
