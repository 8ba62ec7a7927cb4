/**
 * Every error code the gateway can return, with its HTTP status and a one-line summary.
 * `docs/errors.md` is generated from this table and a test keeps the two in sync.
 */
export interface ErrorDefinition {
  status: number;
  summary: string;
  /** True when a client may retry the same request later and expect a different outcome. */
  retryable?: boolean;
}

export const errorCatalogue = {
  // Generic request errors
  INVALID_JSON: {
    status: 400,
    summary:
      'The request body is not valid JSON, or a string in it holds a NUL character (\\u0000), which PostgreSQL cannot store.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    summary: 'The request body has a content type the endpoint does not accept.',
  },
  PAYLOAD_TOO_LARGE: { status: 413, summary: 'The request body is larger than the endpoint allows.' },
  NOT_FOUND: { status: 404, summary: 'No route matches the method and path.' },
  INVALID_URL: {
    status: 400,
    summary: 'The URL path has a malformed percent-escape or a segment longer than 200 characters.',
  },
  METHOD_NOT_ALLOWED: { status: 405, summary: 'The path exists but not for this HTTP method.' },
  INTERNAL_ERROR: {
    status: 500,
    summary: 'An unexpected server fault; the request id finds it in the logs.',
    retryable: true,
  },
  DATABASE_UNAVAILABLE: {
    status: 503,
    summary: 'The database could not be reached; nothing was written. Retry later.',
    retryable: true,
  },
  SERVICE_SHUTTING_DOWN: {
    status: 503,
    summary: 'This replica is shutting down; retry on another.',
    retryable: true,
  },

  // Admin API
  ADMIN_TOKEN_INVALID: {
    status: 401,
    summary: 'The x-admin-token header is missing or does not match a configured token.',
  },
  ADMIN_TOKEN_SCOPE_DENIED: {
    status: 403,
    summary: 'The admin token is valid but lacks the scope this endpoint needs.',
  },
  ADMIN_TOKEN_NOT_CONFIGURED: {
    status: 503,
    summary: 'No admin token is configured, so the admin API is closed.',
  },
  ADMIN_INVALID_QUERY: { status: 400, summary: 'A query parameter is unknown, malformed or out of bounds.' },
  ADMIN_INVALID_BODY: {
    status: 400,
    summary: 'A body field is unknown, missing, malformed or out of bounds.',
  },
  ADMIN_INVALID_SESSION_ID: {
    status: 400,
    summary: 'The session id in the path does not match ^ags-[a-z0-9][a-z0-9-]{7,95}$.',
  },
  ADMIN_CONSOLE_NOT_BUILT: {
    status: 503,
    summary: 'The admin console assets are missing from this install; run `npm run build`.',
  },
  METRICS_TOKEN_INVALID: {
    status: 401,
    summary: 'The metrics endpoint needs the configured METRICS_TOKEN as a bearer token.',
  },
  METRICS_UNAVAILABLE: {
    status: 503,
    summary:
      "With AGW_WORKERS > 1, the workers' metrics could not be gathered in time (a worker is restarting or busy); scrape again.",
  },

  // Sessions and events
  AGENT_GATEWAY_SESSION_NOT_FOUND: { status: 404, summary: 'No session has this id.' },
  AGENT_GATEWAY_SESSION_CLOSED: {
    status: 409,
    summary: 'The session is closed; nothing more can be appended to it.',
  },
  AGENT_GATEWAY_EVENT_TYPE_RESERVED: {
    status: 400,
    summary:
      'The event type is written only by the gateway itself (session_closed, session_compacted, draft_cycle_*, …).',
  },
  AGENT_GATEWAY_ROLE_RESERVED: {
    status: 400,
    summary: 'The role `system` is written only by the gateway itself.',
  },

  // Drafts and orchestration
  DRAFT_NOT_FOUND: { status: 404, summary: 'No draft has this id.' },
  AGENT_ORCHESTRATION_DISABLED: {
    status: 503,
    summary: 'Orchestration is switched off (AGENT_ORCHESTRATION_ENABLED=false); nothing was started.',
  },
  ORCHESTRATION_RUN_NOT_FOUND: { status: 404, summary: 'No orchestration run has this id.' },

  // Ingest (SPEC §7)
  AGENT_GATEWAY_INGEST_SIGNATURE_INVALID: {
    status: 401,
    summary:
      'The ingest signature (x-gateway-signature v1 HMAC over `<timestamp>.<raw body>`), Telegram secret token, Slack or Discord signature is missing or wrong.',
  },
  AGENT_GATEWAY_INGEST_SIGNATURE_EXPIRED: {
    status: 401,
    summary: 'The signed timestamp is outside the allowed skew window; sign the request again.',
  },
  AGENT_GATEWAY_INGEST_CONNECTOR_SECRET_REQUIRED: {
    status: 403,
    summary: 'This connector must sign with its own secret (policy or setting), and it has none configured.',
  },
  AGENT_GATEWAY_INGEST_CONNECTOR_FORBIDDEN: {
    status: 403,
    summary: 'The connector is not in AGENT_GATEWAY_INGEST_ALLOWED_CONNECTORS.',
  },
  AGENT_GATEWAY_INGEST_UNAVAILABLE: {
    status: 503,
    summary: 'Ingest has no signing secret configured for this connector, so nothing can be verified.',
  },
  AGENT_GATEWAY_INGEST_CONNECTOR_NOT_FOUND: {
    status: 404,
    summary:
      'No native channel connector with this id and platform is configured (AGENT_GATEWAY_CHANNEL_CONNECTORS).',
  },
  AGENT_GATEWAY_INGEST_INVALID_FIELDS: {
    status: 400,
    summary:
      'The ingest body is not a JSON object or has fields the endpoint does not know (named in the message).',
  },
  AGENT_GATEWAY_INGEST_INVALID_QUERY_FIELDS: {
    status: 400,
    summary: 'The ingest endpoint takes no query parameters (the unknown ones are named).',
  },
  AGENT_GATEWAY_INGEST_INVALID_INPUT: {
    status: 400,
    summary: 'An ingest field is missing, malformed or contradicts its header; the message names the field.',
  },
  AGENT_GATEWAY_INGEST_CONNECTOR_PROFILE_CONFLICT: {
    status: 409,
    summary:
      'Strict mode: explicit fields differ from the connector profile; details.conflicts lists field, profile value and received value.',
  },
  AGENT_GATEWAY_INGEST_POLICY_REJECTED: {
    status: 413,
    summary:
      'The payload or metadata exceeds the connector policy budget (keys or bytes); the message names the limit.',
  },
  AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMITED: {
    status: 429,
    summary:
      'The connector sent more requests than its rate limit allows in the window; Retry-After says when to retry.',
    retryable: true,
  },

  // AI runtime: dry-run input
  AI_RUNTIME_INVALID_ROLE: {
    status: 400,
    summary: 'The role is missing or not one of author, critic, maker, judge.',
  },
  AI_RUNTIME_INVALID_PROMPT: {
    status: 400,
    summary: 'The prompt is missing, not a string, empty after trimming, or longer than 4000 characters.',
  },
  AI_RUNTIME_INVALID_TIMEOUT: { status: 400, summary: 'timeoutMs must be an integer from 1 to 120000.' },
  AI_RUNTIME_INVALID_INPUT: {
    status: 400,
    summary:
      'A dry-run field is malformed: unknown provider id, too many providersOverride/simulateFailures entries, bad correlation ids.',
  },
  AI_RUNTIME_DRY_RUN_INVALID_FIELDS: {
    status: 400,
    summary: 'The dry-run body is not a JSON object or has fields the endpoint does not know.',
  },

  // OpenAI-compatible API (/v1)
  GATEWAY_API_KEY_INVALID: {
    status: 401,
    summary: 'The Authorization: Bearer key is missing or does not match a key in GATEWAY_API_KEYS.',
  },
  GATEWAY_API_KEYS_NOT_CONFIGURED: {
    status: 503,
    summary: 'No GATEWAY_API_KEYS are configured, so the /v1 API is closed.',
  },
  GATEWAY_INVALID_REQUEST: {
    status: 400,
    summary: 'A /v1 request parameter is unknown, missing or malformed; `param` names it.',
  },
  GATEWAY_MODEL_NOT_FOUND: {
    status: 404,
    summary:
      'The model is not a role, role:<role> or provider id, and no AI_RUNTIME_DEFAULT_UPSTREAM serves other names.',
  },

  // AI providers: attempt failures (also returned by /v1 when every provider failed)
  AI_PROVIDER_TIMEOUT: {
    status: 504,
    summary:
      'The provider did not answer (or its stream stalled) within the attempt timeout; the request was aborted.',
    retryable: true,
  },
  AI_PROVIDER_HTTP_ERROR: {
    status: 502,
    summary: 'The provider answered with a non-2xx status; the attempt keeps the upstream status.',
    retryable: true,
  },
  AI_PROVIDER_UNAVAILABLE: {
    status: 503,
    summary: 'The provider could not be reached (refused, reset, 503/529, simulated outage).',
    retryable: true,
  },
  AI_PROVIDER_RATE_LIMITED: {
    status: 429,
    summary: 'The provider rate limited the request (429); Retry-After is honoured.',
    retryable: true,
  },
  AI_PROVIDER_AUTH_ERROR: {
    status: 502,
    summary: 'The provider rejected the configured credentials (401/403); the profile cools down for long.',
  },
  AI_PROVIDER_BAD_REQUEST: {
    status: 400,
    summary:
      'The provider rejected the request (other 4xx, context_length_exceeded, content policy); not retried on the same provider.',
  },
  AI_PROVIDER_BAD_RESPONSE: {
    status: 502,
    summary: 'The provider answered with a malformed or empty body; never passed on as a success.',
    retryable: true,
  },
  AI_PROVIDER_ERROR: { status: 502, summary: 'The provider call failed in an unclassified way.' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof errorCatalogue;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorCatalogue, value);
}
