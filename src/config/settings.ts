import { availableParallelism } from 'node:os';
import { type AdminTokenDefinition, parseAdminTokenList } from './admin-tokens.js';
import { type GatewayApiKeyDefinition, parseGatewayApiKeys } from './gateway-api-keys.js';
import {
  parseAllowedConnectors,
  parseChannelConnectors,
  parseConnectorPolicies,
  parseConnectorProfiles,
  parseConnectorSecrets,
  parseSecretList,
} from './ingest-settings.js';
import { boolean, csv, integer, json, oneOf, type Parser, text, url } from './parsers.js';

/** Provider ids in chains: trimmed, lowercased, `^[a-z0-9][a-z0-9._-]{0,63}$`. */
const providerId: Parser<string> = (raw) => {
  const value = raw.trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(value)) throw new Error(`has an invalid provider id "${value}"`);
  return value;
};

/** `auto` (one per CPU this process may use) or 1..64. */
const workerCount: Parser<number> = (raw) => {
  if (raw.trim().toLowerCase() === 'auto') return Math.min(64, availableParallelism());
  return integer({ min: 1, max: 64 })(raw);
};

/** One setting: where it comes from, its default, how it is checked, what it means. */
export interface Setting<T> {
  env: string;
  group: string;
  description: string;
  parse: Parser<T>;
  /** Value when the variable is unset or empty; `undefined` means "not set". */
  default?: T;
  /** How the default reads in docs when it is not a literal value. */
  defaultText?: string;
  /** Secrets are never echoed back in error messages or docs. */
  secret?: boolean;
}

function setting<T>(definition: Setting<T> & { default: T }): Setting<T> & { default: T };
function setting<T>(definition: Setting<T>): Setting<T>;
function setting<T>(definition: Setting<T>): Setting<T> {
  return definition;
}

/**
 * Every setting the gateway reads, in one place. `docs/configuration.md` is generated from this table
 * (`npm run docs:generate`) and a test fails when the two differ.
 */
export const settings = {
  host: setting({
    env: 'HOST',
    group: 'Process',
    description: 'Interface to listen on.',
    parse: text(),
    default: '127.0.0.1',
  }),
  port: setting({
    env: 'PORT',
    group: 'Process',
    description: 'TCP port to listen on (0 picks a free port).',
    parse: integer({ min: 0, max: 65535 }),
    default: 8080,
  }),
  dataDir: setting({
    env: 'AGW_DATA_DIR',
    group: 'Process',
    description: 'Directory for the embedded PostgreSQL (PGlite) data and the generated admin token.',
    parse: text(),
    default: './.data',
  }),
  databaseUrl: setting({
    env: 'DATABASE_URL',
    group: 'Process',
    description: 'PostgreSQL connection URL. When set, the embedded store is not used.',
    parse: url(['postgres:', 'postgresql:']),
    secret: true,
  }),
  databasePoolMax: setting({
    env: 'DATABASE_POOL_MAX',
    group: 'Process',
    description: 'Maximum connections in the PostgreSQL pool of this replica.',
    parse: integer({ min: 1, max: 200 }),
    default: 10,
  }),
  redisUrl: setting({
    env: 'REDIS_URL',
    group: 'Process',
    description: 'Redis URL for state shared between replicas (circuits, rate limits). Optional.',
    parse: url(['redis:', 'rediss:']),
    secret: true,
  }),
  otelEndpoint: setting({
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    group: 'Process',
    description:
      'OTLP/HTTP collector base URL (spans go to `<url>/v1/traces`). Unset: no tracing at all (no spans are created).',
    parse: url(['http:', 'https:']),
  }),
  logLevel: setting({
    env: 'LOG_LEVEL',
    group: 'Process',
    description: 'pino log level.',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
  }),
  bodyLimitBytes: setting({
    env: 'AGW_BODY_LIMIT_BYTES',
    group: 'Process',
    description: 'Largest accepted request body for the admin API, in bytes.',
    parse: integer({ min: 1024, max: 64 * 1024 * 1024 }),
    default: 1024 * 1024,
  }),
  workers: setting({
    env: 'AGW_WORKERS',
    group: 'Process',
    description:
      'HTTP worker processes on this host, sharing the port (node:cluster): a number or `auto` (one per CPU). The primary restarts a worker that dies, aggregates `/metrics` over all of them and forwards SIGTERM/SIGINT. More than 1 needs `DATABASE_URL` (the embedded store is single-process) and `REDIS_URL` (circuits, rate limits and signature bindings must be shared between workers).',
    parse: workerCount,
    default: 1,
  }),
  workerStartTimeoutMs: setting({
    env: 'AGW_WORKER_START_TIMEOUT_MS',
    group: 'Process',
    description:
      'With `AGW_WORKERS` > 1: how long a worker may take to start listening (open the store, wait for the migration lock, connect Redis). One that has not listened by then is killed and the primary stops with an error, as when a worker fails to start, instead of waiting on it forever. The time while a worker applies migrations does not count (for any worker: the others wait on its lock); waiting on a lock held by another process does — run `agw migrate` before starting a release whose migrations are long.',
    parse: integer({ min: 1000, max: 600000 }),
    default: 60000,
  }),
  shutdownTimeoutMs: setting({
    env: 'AGW_SHUTDOWN_TIMEOUT_MS',
    group: 'Process',
    description: 'How long a graceful shutdown waits for in-flight requests before closing them.',
    parse: integer({ min: 0, max: 600000 }),
    default: 10000,
  }),
  adminApiToken: setting({
    env: 'ADMIN_API_TOKEN',
    group: 'Admin API',
    description:
      'Admin token with every scope (id `default`), sent as `x-admin-token`. In embedded mode with no token configured, one is generated into the data directory.',
    parse: text({ maxLength: 512 }),
    secret: true,
  }),
  adminApiTokens: setting<AdminTokenDefinition[]>({
    env: 'ADMIN_API_TOKENS',
    group: 'Admin API',
    description:
      'JSON list of scoped admin tokens: `[{ "id": "ci", "token": "…" | "sha256": "<hex>", "scopes": ["read","operate","admin"] }]`.',
    parse: json(parseAdminTokenList),
    default: [],
    defaultText: '`[]`',
    secret: true,
  }),
  metricsToken: setting({
    env: 'METRICS_TOKEN',
    group: 'Admin API',
    description: 'When set, `GET /metrics` requires `Authorization: Bearer <token>`.',
    parse: text({ maxLength: 512 }),
    secret: true,
  }),
  gatewayApiKeys: setting<GatewayApiKeyDefinition[]>({
    env: 'GATEWAY_API_KEYS',
    group: 'OpenAI-compatible API',
    description:
      'Keys for `/v1/chat/completions` and `/v1/models` (`Authorization: Bearer <key>`): a comma list, or JSON `[{ "id": "app", "key": "…" | "sha256": "<hex>" }]`. Unset: `/v1` answers 503 `GATEWAY_API_KEYS_NOT_CONFIGURED`.',
    parse: parseGatewayApiKeys,
    default: [],
    defaultText: '(unset)',
    secret: true,
  }),
  staleMinutes: setting({
    env: 'AGENT_GATEWAY_STALE_MINUTES',
    group: 'Sessions',
    description: 'An active session with no event for this many minutes is reported as stale.',
    parse: integer({ min: 1, max: 10080 }),
    default: 15,
  }),
  autoCompactTrigger: setting({
    env: 'AGENT_GATEWAY_AUTO_COMPACT_TRIGGER',
    group: 'Sessions',
    description:
      'A session whose live timeline grows past this many events is compacted automatically (0 = never).',
    parse: integer({ min: 0, max: 1000000 }),
    default: 300,
  }),
  autoCompactKeepRecent: setting({
    env: 'AGENT_GATEWAY_AUTO_COMPACT_KEEP_RECENT',
    group: 'Sessions',
    description: 'How many recent events automatic compaction keeps in the live timeline.',
    parse: integer({ min: 1, max: 1000 }),
    default: 40,
  }),
  archiveRetentionDays: setting({
    env: 'AGENT_GATEWAY_ARCHIVE_RETENTION_DAYS',
    group: 'Sessions',
    description:
      'Archived (compacted-away) events older than this are purged by the sweeper (0 = keep forever).',
    parse: integer({ min: 0, max: 36500 }),
    default: 0,
  }),
  idleCloseMinutes: setting({
    env: 'AGENT_GATEWAY_IDLE_CLOSE_MINUTES',
    group: 'Sessions',
    description: 'The sweeper closes active sessions idle longer than this (0 = off).',
    parse: integer({ min: 0, max: 525600 }),
    default: 0,
  }),
  memoryCacheSize: setting({
    env: 'AGENT_GATEWAY_MEMORY_CACHE_SIZE',
    group: 'Sessions',
    description: 'How many recently touched sessions this replica keeps for `source=memory` reads.',
    parse: integer({ min: 0, max: 100000 }),
    default: 1000,
  }),
  replyTypes: setting({
    env: 'AGENT_GATEWAY_REPLY_TYPES',
    group: 'Sessions',
    description:
      'Event types that ask the addressed role (`toRole` = author/critic/maker/judge) for a reply; the reply is appended as `agent_reply`.',
    parse: csv(text({ pattern: /^[a-z0-9][a-z0-9._:-]{0,119}$/ })),
    default: ['observer_message'],
    defaultText: '`observer_message`',
  }),
  replyContextEvents: setting({
    env: 'AGENT_GATEWAY_REPLY_CONTEXT_EVENTS',
    group: 'Sessions',
    description: 'How many recent timeline events a reply job gives the answering role as context.',
    parse: integer({ min: 1, max: 200 }),
    default: 20,
  }),
  sweeperCron: setting({
    env: 'AGENT_GATEWAY_SWEEPER_CRON',
    group: 'Sessions',
    description:
      'Cron schedule of the sweeper (idle close, archive retention, re-queue of stalled runs); one replica acts per tick.',
    parse: text({ pattern: /^\S+( \S+){4,5}$/ }),
    default: '* * * * *',
  }),
  workerConcurrency: setting({
    env: 'AGENT_ORCHESTRATION_WORKER_CONCURRENCY',
    group: 'Orchestration',
    description: 'Draft-cycle and reply jobs this replica works on at once.',
    parse: integer({ min: 1, max: 1000 }),
    default: 50,
  }),
  runLeaseSeconds: setting({
    env: 'AGENT_ORCHESTRATION_RUN_LEASE_SECONDS',
    group: 'Orchestration',
    description:
      'A run executes in the replica that started it; if that replica shows no progress on it for this long (it died), the run\u2019s job resumes it on any replica.',
    parse: integer({ min: 5, max: 3600 }),
    default: 30,
  }),
  staleRunMinutes: setting({
    env: 'AGENT_ORCHESTRATION_STALE_RUN_MINUTES',
    group: 'Orchestration',
    description: 'A run with no progress for this long (its worker died) is re-queued by the sweeper.',
    parse: integer({ min: 1, max: 1440 }),
    default: 5,
  }),
  defaultWaitMs: setting({
    env: 'AGENT_ORCHESTRATION_DEFAULT_WAIT_MS',
    group: 'Orchestration',
    description: 'How long a synchronous orchestrate request waits for the cycle before answering 202.',
    parse: integer({ min: 0, max: 300000 }),
    default: 30000,
  }),
  orchestrationEnabled: setting({
    env: 'AGENT_ORCHESTRATION_ENABLED',
    group: 'Orchestration',
    description: 'Feature flag for `POST /api/admin/agent-gateway/orchestrate`; `false` answers 503.',
    parse: boolean(),
    default: true,
  }),
  aiProviderCooldownMs: setting({
    env: 'AI_PROVIDER_COOLDOWN_MS',
    group: 'AI runtime',
    description:
      'How long a failing (provider, auth profile) stays open before one probe is let through. Rate limits use Retry-After instead; auth errors stay open 10× longer; bad requests never open it.',
    parse: integer({ min: 0, max: 86_400_000 }),
    default: 30000,
  }),
  aiRuntimeHttpTimeoutMs: setting({
    env: 'AI_RUNTIME_HTTP_TIMEOUT_MS',
    group: 'AI runtime',
    description: 'Socket-level bound on waiting for an upstream answer (headers, and between body bytes).',
    parse: integer({ min: 100, max: 600000 }),
    default: 20000,
  }),
  aiRuntimeUpstreamConnections: setting({
    env: 'AI_RUNTIME_UPSTREAM_CONNECTIONS',
    group: 'AI runtime',
    description:
      'Most concurrent connections to one upstream origin; further calls to it wait for a free connection. A model call holds its connection for its whole answer, so this bounds how many calls to one provider run at once.',
    parse: integer({ min: 1, max: 100000 }),
    default: 1024,
  }),
  aiRuntimeAttemptTimeoutMs: setting({
    env: 'AI_RUNTIME_ATTEMPT_TIMEOUT_MS',
    group: 'AI runtime',
    description:
      'Timeout of one provider attempt; when it passes the request is aborted (the socket is closed).',
    parse: integer({ min: 1, max: 600000 }),
    default: 12000,
  }),
  aiRuntimeRunDeadlineMs: setting({
    env: 'AI_RUNTIME_RUN_DEADLINE_MS',
    group: 'AI runtime',
    description:
      'Deadline of a whole role run (all attempts, retries and waits); the run stops with what it has.',
    parse: integer({ min: 1, max: 3_600_000 }),
    default: 60000,
  }),
  aiRuntimeMaxRetriesPerProvider: setting({
    env: 'AI_RUNTIME_MAX_RETRIES_PER_PROVIDER',
    group: 'AI runtime',
    description:
      'Retries of a retryable failure on the same (provider, profile) before failing over. Timeouts and non-retryable 4xx are never retried on the same route.',
    parse: integer({ min: 0, max: 10 }),
    default: 1,
  }),
  aiRuntimeMaxRetryWaitMs: setting({
    env: 'AI_RUNTIME_MAX_RETRY_WAIT_MS',
    group: 'AI runtime',
    description:
      'Longest wait before a same-route retry (Retry-After or backoff). A longer Retry-After fails over instead.',
    parse: integer({ min: 0, max: 600000 }),
    default: 5000,
  }),
  aiRuntimeUseHttpAdapters: setting({
    env: 'AI_RUNTIME_USE_HTTP_ADAPTERS',
    group: 'AI runtime',
    description:
      'Enables network providers. When not `true`, every provider runs in deterministic mode and says so (`mode: "deterministic"`).',
    parse: boolean(),
    default: false,
  }),
  aiRuntimeConfig: setting({
    env: 'AI_RUNTIME_CONFIG',
    group: 'AI runtime',
    description:
      'Path of an optional JSON or YAML file with provider definitions and chains (see below); environment variables win over it.',
    parse: text(),
  }),
  aiRuntimeTtftTimeoutMs: setting({
    env: 'AI_RUNTIME_TTFT_TIMEOUT_MS',
    group: 'AI runtime',
    description:
      'Streaming `/v1/chat/completions`: longest wait for the first content token of an attempt (capped by the attempt timeout). Passing it is a timeout: the stream is aborted and the call fails over.',
    parse: integer({ min: 1, max: 600000 }),
    default: 10000,
  }),
  aiRuntimeStreamIdleTimeoutMs: setting({
    env: 'AI_RUNTIME_STREAM_IDLE_TIMEOUT_MS',
    group: 'AI runtime',
    description:
      'Streaming: longest silence (no bytes) from an upstream stream. Before the first token it fails over; after it the client gets an error event.',
    parse: integer({ min: 1, max: 600000 }),
    default: 20000,
  }),
  aiRuntimeDefaultUpstream: setting({
    env: 'AI_RUNTIME_DEFAULT_UPSTREAM',
    group: 'AI runtime',
    description:
      'OpenAI-compatible base URL (`…/v1`) that serves any `/v1` model name which is not a role or a provider id, with that model name (provider `default-upstream`, one circuit per model). Unset: such names are 404 `GATEWAY_MODEL_NOT_FOUND`.',
    parse: url(['http:', 'https:']),
  }),
  aiRuntimeDefaultUpstreamApiKey: setting({
    env: 'AI_RUNTIME_DEFAULT_UPSTREAM_API_KEY',
    group: 'AI runtime',
    description: 'Bearer key sent to `AI_RUNTIME_DEFAULT_UPSTREAM`.',
    parse: text({ maxLength: 1024 }),
    secret: true,
  }),
  aiAuthorModelChain: setting({
    env: 'AI_AUTHOR_MODEL_CHAIN',
    group: 'AI runtime',
    description:
      'Comma-separated provider ids tried in order for the `author` role (trimmed, lowercased, deduped).',
    parse: csv(providerId),
    defaultText: '`local-primary,local-fallback`',
  }),
  aiCriticModelChain: setting({
    env: 'AI_CRITIC_MODEL_CHAIN',
    group: 'AI runtime',
    description: 'Provider chain of the `critic` role.',
    parse: csv(providerId),
    defaultText: '`local-primary,local-fallback`',
  }),
  aiMakerModelChain: setting({
    env: 'AI_MAKER_MODEL_CHAIN',
    group: 'AI runtime',
    description: 'Provider chain of the `maker` role.',
    parse: csv(providerId),
    defaultText: '`local-primary,local-fallback`',
  }),
  aiJudgeModelChain: setting({
    env: 'AI_JUDGE_MODEL_CHAIN',
    group: 'AI runtime',
    description: 'Provider chain of the `judge` role.',
    parse: csv(providerId),
    defaultText: '`local-primary,local-fallback`',
  }),
  // --- Ingest (SPEC §7) ---
  webhookSecret: setting({
    env: 'AGENT_GATEWAY_WEBHOOK_SECRET',
    group: 'Ingest',
    description:
      'Global signing secret of `POST /api/agent-gateway/adapters/ingest` (HMAC-SHA256 over `<timestamp>.<raw body>`), used for connectors without their own secret. With no secret at all, ingest answers 503.',
    parse: text({ maxLength: 4096 }),
    secret: true,
  }),
  webhookSecretPrevious: setting({
    env: 'AGENT_GATEWAY_WEBHOOK_SECRET_PREVIOUS',
    group: 'Ingest',
    description: 'Comma-separated previous global secrets, still accepted while senders rotate.',
    parse: parseSecretList,
    default: [],
    defaultText: 'none',
    secret: true,
  }),
  ingestConnectorSecrets: setting({
    env: 'AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS',
    group: 'Ingest',
    description:
      'JSON: connector → `"secret"` | `["secret", …]` | `{ "keyId": "secret" }`. A connector with its own secrets accepts only those; `x-gateway-key-id` picks a keyed one.',
    parse: json(parseConnectorSecrets),
    default: {},
    defaultText: '`{}`',
    secret: true,
  }),
  ingestConnectorProfiles: setting({
    env: 'AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES',
    group: 'Ingest',
    description:
      'JSON: connector → `{ adapter?, channel?, fromRole?, toRole?, type? }` or a bare channel string; fills fields a request omits (explicit values win). See `docs/ops/examples/agent-gateway-ingest-connector-profiles.example.json`.',
    parse: json(parseConnectorProfiles),
    default: {},
    defaultText: '`{}`',
  }),
  ingestEnforceConnectorProfile: setting({
    env: 'AGENT_GATEWAY_INGEST_ENFORCE_CONNECTOR_PROFILE',
    group: 'Ingest',
    description:
      'Strict mode: a request whose explicit adapter/channel/fromRole/toRole/type differs from its connector profile is refused (409 `AGENT_GATEWAY_INGEST_CONNECTOR_PROFILE_CONFLICT`).',
    parse: boolean(),
    default: false,
  }),
  ingestConnectorPolicies: setting({
    env: 'AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES',
    group: 'Ingest',
    description:
      'JSON: connector → `{ riskLevel: restricted|standard|trusted, rateLimitMax?, requireConnectorSecret?, maxPayloadKeys?, maxMetadataKeys?, maxPayloadBytes? }`. Policies only tighten the defaults; `restricted` also requires a connector secret.',
    parse: json(parseConnectorPolicies),
    default: {},
    defaultText: '`{}`',
  }),
  ingestAllowedConnectors: setting({
    env: 'AGENT_GATEWAY_INGEST_ALLOWED_CONNECTORS',
    group: 'Ingest',
    description: 'Comma-separated allow-list of connector ids; when set, any other connector gets 403.',
    parse: parseAllowedConnectors,
    default: [],
    defaultText: 'any connector',
  }),
  ingestRequireConnectorSecret: setting({
    env: 'AGENT_GATEWAY_INGEST_REQUIRE_CONNECTOR_SECRET',
    group: 'Ingest',
    description:
      'When true, every connector needs its own secret (the global secret alone is refused with 403).',
    parse: boolean(),
    default: false,
  }),
  ingestMaxTimestampSkewSec: setting({
    env: 'AGENT_GATEWAY_INGEST_MAX_TIMESTAMP_SKEW_SEC',
    group: 'Ingest',
    description: "Largest accepted difference between `x-gateway-timestamp` and this server's clock.",
    parse: integer({ min: 1, max: 86400 }),
    default: 300,
  }),
  ingestMaxBodyBytes: setting({
    env: 'AGENT_GATEWAY_INGEST_MAX_BODY_BYTES',
    group: 'Ingest',
    description:
      'Size cap of an ingest or platform webhook request body, checked before anything else (413).',
    parse: integer({ min: 1024, max: 64 * 1024 * 1024 }),
    default: 1024 * 1024,
  }),
  ingestMaxPayloadBytes: setting({
    env: 'AGENT_GATEWAY_INGEST_MAX_PAYLOAD_BYTES',
    group: 'Ingest',
    description: 'Default budget of one event `payload` (JSON bytes); connector policies may lower it.',
    parse: integer({ min: 64, max: 64 * 1024 * 1024 }),
    default: 256 * 1024,
  }),
  ingestMaxPayloadKeys: setting({
    env: 'AGENT_GATEWAY_INGEST_MAX_PAYLOAD_KEYS',
    group: 'Ingest',
    description: 'Default budget of top-level keys in an event `payload` object.',
    parse: integer({ min: 1, max: 10000 }),
    default: 200,
  }),
  ingestMaxMetadataKeys: setting({
    env: 'AGENT_GATEWAY_INGEST_MAX_METADATA_KEYS',
    group: 'Ingest',
    description: 'Default budget of keys in `metadata`.',
    parse: integer({ min: 1, max: 10000 }),
    default: 64,
  }),
  ingestRateLimitMax: setting({
    env: 'AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_MAX',
    group: 'Ingest',
    description:
      'Requests one connector may send per window (429 with Retry-After past it); shared across replicas through Redis when `REDIS_URL` is set.',
    parse: integer({ min: 1, max: 10_000_000 }),
    default: 120,
  }),
  ingestRateLimitWindowSec: setting({
    env: 'AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_WINDOW_SEC',
    group: 'Ingest',
    description: 'Length of the per-connector rate-limit window.',
    parse: integer({ min: 1, max: 86400 }),
    default: 60,
  }),
  channelConnectors: setting({
    env: 'AGENT_GATEWAY_CHANNEL_CONNECTORS',
    group: 'Ingest',
    description:
      'JSON: connector → `{ platform: telegram|slack|discord, secret (Telegram secret_token / Slack signing secret) | publicKey (Discord), botToken?, apiBaseUrl? }` for `POST /api/agent-gateway/channels/<platform>/<connectorId>` and replies back to the channel (only with a botToken).',
    parse: json(parseChannelConnectors),
    default: {},
    defaultText: '`{}`',
    secret: true,
  }),
  outboxMaxAttempts: setting({
    env: 'AGENT_GATEWAY_OUTBOX_MAX_ATTEMPTS',
    group: 'Ingest',
    description:
      "Delivery attempts of one reply to its platform before `reply_delivery_failed` (429 waits for the platform's retry_after).",
    parse: integer({ min: 1, max: 50 }),
    default: 6,
  }),
  // --- end Ingest ---
} as const;

export type Settings = typeof settings;
export type SettingKey = keyof Settings;
type ValueOf<S> = S extends Setting<infer T> ? T : never;
type HasDefault<S> = S extends { default: infer D } ? (undefined extends D ? false : true) : false;

/** The typed, frozen configuration object. Settings without a default may be undefined. */
export type Config = {
  readonly [K in SettingKey]: HasDefault<Settings[K]> extends true
    ? ValueOf<Settings[K]>
    : ValueOf<Settings[K]> | undefined;
} & {
  /**
   * Per-provider variables (`AI_RUNTIME_<PROVIDER>_KIND|ENDPOINT|API_KEY|MODEL|AUTH_PROFILES[__<PROFILE>]`): their
   * names depend on the provider ids, so they cannot be rows of the table. Collected here raw (values are secrets)
   * and validated by `src/runtime/runtime-config.ts`.
   */
  readonly aiRuntimeEnv: Readonly<Record<string, string>>;
};

/** Every non-empty `AI_RUNTIME_*` variable that is not a row of the settings table. */
export function collectAiRuntimeEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const known = new Set(Object.values(settings).map((definition: Setting<unknown>) => definition.env));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('AI_RUNTIME_') && !known.has(name) && value !== undefined && value.trim() !== '') {
      out[name] = value;
    }
  }
  return out;
}
