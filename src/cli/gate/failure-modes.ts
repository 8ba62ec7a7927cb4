/**
 * External-channel failure modes of the launch gate (SPEC §11) and the runbook's routing table for them. This table is
 * the single source: `agw gate` prints a row for every failed channel, and `npm run docs:generate` renders it into
 * `docs/ops/agent-gateway-ai-runtime-runbook.md` (a test keeps the two identical).
 */

export const failureModes = [
  'ingest_http_error',
  'ingest_not_applied',
  'sessions_lookup_error',
  'fallback_session_mismatch',
  'telemetry_http_error',
  'telemetry_no_connector_events',
  'telemetry_zero_accepted',
  'unknown',
] as const;

export type FailureMode = (typeof failureModes)[number];

export interface RoutingRow {
  failureMode: FailureMode;
  typicalSignal: string;
  firstActions: string;
  escalateTo: string;
}

/** One row per failure mode, in classification order. */
export const failureModeRouting: readonly RoutingRow[] = [
  {
    failureMode: 'ingest_http_error',
    typicalSignal:
      'Ingest probe gets no answer or a non-`201` that is not a policy decision (401 signature, 403 secret required, 404, 5xx)',
    firstActions:
      'Check `RELEASE_AGENT_GATEWAY_WEBHOOK_SECRET`, API URL, and `/api/agent-gateway/adapters/ingest` route health; inspect API response body/status in workflow logs.',
    escalateTo: 'Backend/API on-call',
  },
  {
    failureMode: 'ingest_not_applied',
    typicalSignal:
      '`ingestApplied=false`: a `2xx` without `applied: true` (replay), or a policy decision (409 profile conflict or closed session, 413 policy, 403 allow-list, 429 rate limit)',
    firstActions:
      'Check ingest response payload for policy rejects/conflicts; validate connector profile strictness (`AGENT_GATEWAY_INGEST_ENFORCE_CONNECTOR_PROFILE`) and channel profile fields.',
    escalateTo: 'Backend/API on-call',
  },
  {
    failureMode: 'sessions_lookup_error',
    typicalSignal: 'Admin sessions lookup non-`200`',
    firstActions:
      'Verify `RELEASE_ADMIN_API_TOKEN` and `/api/admin/agent-gateway/sessions` health; check DB readiness and admin-token scope.',
    escalateTo: 'Backend/API + Platform',
  },
  {
    failureMode: 'fallback_session_mismatch',
    typicalSignal: 'Resolved external session differs from expected fallback id',
    firstActions:
      'Compare channel payload shape vs connector extractor expectations (`telegram` chat id, `slack` channel id, `discord` channel id); validate connector profile `channel` value.',
    escalateTo: 'Backend/API on-call',
  },
  {
    failureMode: 'telemetry_http_error',
    typicalSignal: 'Admin telemetry endpoint non-`200`',
    firstActions:
      'Verify `/api/admin/agent-gateway/telemetry` availability and admin token; check API deploy health and recent errors.',
    escalateTo: 'Backend/API + Platform',
  },
  {
    failureMode: 'telemetry_no_connector_events',
    typicalSignal: 'Telemetry total remains `0` for channel/connector',
    firstActions:
      'Confirm telemetry query window/filters; verify connector id and channel labels in profile map; inspect ingest logs for dropped events.',
    escalateTo: 'Backend/API on-call',
  },
  {
    failureMode: 'telemetry_zero_accepted',
    typicalSignal: 'Telemetry has events but accepted count is `0` (did not grow with the probe)',
    firstActions:
      'Inspect rejection reasons in ingest telemetry; validate webhook secret and profile constraints, and check payload schema drift.',
    escalateTo: 'Backend/API on-call',
  },
  {
    failureMode: 'unknown',
    typicalSignal: 'None of known predicates matched',
    firstActions:
      'Download `production-external-channel-traces` + launch summary, attach raw check payloads, and open incident with run URL + commit SHA.',
    escalateTo: 'Release commander',
  },
];

/** Error codes with which the gateway refuses to apply an authenticated event by policy (not a transport failure). */
export const notAppliedCodes: ReadonlySet<string> = new Set([
  'AGENT_GATEWAY_INGEST_CONNECTOR_PROFILE_CONFLICT',
  'AGENT_GATEWAY_INGEST_POLICY_REJECTED',
  'AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMITED',
  'AGENT_GATEWAY_INGEST_CONNECTOR_FORBIDDEN',
  'AGENT_GATEWAY_SESSION_CLOSED',
]);

/** What a channel probe observed; `null` status means no HTTP answer (network error or timeout). */
export interface ChannelObservation {
  ingest: { httpStatus: number | null; errorCode: string | null; applied: boolean | null };
  sessionLookup: { httpStatus: number | null } | null;
  expectedExternalSessionId: string;
  resolvedExternalSessionId: string | null;
  telemetry: {
    httpStatus: number | null;
    connectorFound: boolean;
    total: number;
    acceptedBefore: number;
    acceptedAfter: number;
  } | null;
  /** Anything else that went wrong (unexpected response shape, probe crash); ends in `unknown`. */
  probeError: string | null;
}

const ok = (status: number | null | undefined, expected: number) => status === expected;

/**
 * Classifies a failed channel: the first predicate that matches, in SPEC order. Returns null when the channel passed
 * (every step answered as expected and telemetry counted the probe).
 */
export function classifyChannel(o: ChannelObservation): FailureMode | null {
  const ingestStatus = o.ingest.httpStatus;
  const policyDecision = o.ingest.errorCode !== null && notAppliedCodes.has(o.ingest.errorCode);
  if (ingestStatus === null || (ingestStatus !== 201 && ingestStatus !== 200 && !policyDecision))
    return 'ingest_http_error';
  if (o.ingest.applied !== true) return 'ingest_not_applied';
  if (!o.sessionLookup || !ok(o.sessionLookup.httpStatus, 200)) return 'sessions_lookup_error';
  if (o.resolvedExternalSessionId !== o.expectedExternalSessionId) return 'fallback_session_mismatch';
  if (!o.telemetry || !ok(o.telemetry.httpStatus, 200)) return 'telemetry_http_error';
  if (!o.telemetry.connectorFound || o.telemetry.total === 0) return 'telemetry_no_connector_events';
  if (o.telemetry.acceptedAfter <= o.telemetry.acceptedBefore) return 'telemetry_zero_accepted';
  if (ingestStatus !== 201 || o.probeError !== null) return 'unknown';
  return null;
}

export function routingRow(mode: FailureMode): RoutingRow {
  return failureModeRouting.find((row) => row.failureMode === mode)!;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The routing table as the markdown the runbook carries. */
export function renderRoutingTable(): string {
  return [
    '| failureMode | Typical signal | First operator actions | Escalate to |',
    '| --- | --- | --- | --- |',
    ...failureModeRouting.map(
      (r) =>
        `| \`${r.failureMode}\` | ${cell(r.typicalSignal)} | ${cell(r.firstActions)} | ${cell(r.escalateTo)} |`,
    ),
  ].join('\n');
}

export const ROUTING_START =
  '<!-- failure-mode-routing:start (generated from src/cli/gate/failure-modes.ts) -->';
export const ROUTING_END = '<!-- failure-mode-routing:end -->';

/** Replaces the generated block of the runbook with the current table. */
export function withRoutingTable(doc: string): string {
  const start = doc.indexOf(ROUTING_START);
  const end = doc.indexOf(ROUTING_END);
  if (start < 0 || end < start) throw new Error('runbook has no failure-mode routing markers');
  return `${doc.slice(0, start + ROUTING_START.length)}\n${renderRoutingTable()}\n${doc.slice(end)}`;
}
