import { type CheckOutcome, type GateContext, SkipCheck } from './gate-check.js';
import { describeFailure, errorCode, obj } from './gate-http.js';

type Json = Record<string, unknown>;

const SESSIONS = '/api/admin/agent-gateway/sessions';
/** The runbook's stale threshold: active sessions without a new event for 15 minutes. */
const STALE_MINUTES = 15;
/** How many active sessions the lookup check reads back by id. */
const ACTIVE_SAMPLE = 5;

/**
 * "No abnormal growth of stale active sessions" (runbook, release window): more than double the previous run's count
 * and at least 10 more. Small numbers move too much to mean anything.
 */
export function abnormalGrowth(previous: number, now: number): boolean {
  return now > previous * 2 && now - previous >= 10;
}

/** Sessions lookup from the database, and the stale active count the release window watches. */
export async function sessionsLookupCheck(ctx: GateContext): Promise<CheckOutcome> {
  const list = await ctx.http.admin('GET', `${SESSIONS}?source=db&limit=20`);
  const errors: string[] = [];
  if (list.status !== 200) errors.push(describeFailure(list, '200'));
  const stale = await ctx.http.admin(
    'GET',
    `${SESSIONS}?source=db&status=active&staleMinutes=${STALE_MINUTES}&limit=200`,
  );
  if (stale.status !== 200) errors.push(`stale sessions: ${describeFailure(stale, '200')}`);
  const staleSessions = Array.isArray(obj(stale.body).sessions)
    ? (obj(stale.body).sessions as unknown[])
    : [];
  const staleCount = stale.status === 200 ? staleSessions.length : null;
  if (staleCount !== null && ctx.staleBaseline !== null && abnormalGrowth(ctx.staleBaseline, staleCount))
    errors.push(
      `stale active sessions grew abnormally: ${staleCount} now, ${ctx.staleBaseline} at the previous run (--history)`,
    );
  // The release window watches for AGENT_GATEWAY_SESSION_NOT_FOUND on active ids: every listed active session
  // must also be found by id (a replica on another database, or a lagging read path, fails this).
  const active = await ctx.http.admin('GET', `${SESSIONS}?source=db&status=active&limit=${ACTIVE_SAMPLE}`);
  const activeIds = Array.isArray(obj(active.body).sessions)
    ? (obj(active.body).sessions as unknown[]).map((s) => String(obj(s).id))
    : [];
  const notFound: string[] = [];
  for (const id of activeIds) {
    const one = await ctx.http.admin('GET', `${SESSIONS}/${encodeURIComponent(id)}?limit=1`);
    if (one.status !== 200) {
      notFound.push(id);
      errors.push(`active session ${id} listed but not found by id: ${describeFailure(one, '200')}`);
    }
  }
  return {
    details: {
      httpStatus: list.status,
      attempts: list.attempts,
      sessionsReturned: Array.isArray(obj(list.body).sessions)
        ? (obj(list.body).sessions as unknown[]).length
        : null,
      staleMinutes: STALE_MINUTES,
      staleActiveSessions: staleCount,
      staleActiveSessionsPreviousRun: ctx.staleBaseline,
      staleActiveSessionsCapped: staleSessions.length >= 200,
      staleSessionIds: ctx.limit(staleSessions.map((s) => String(obj(s).id))),
      activeSessionsLookedUp: activeIds.length,
      activeSessionsNotFound: ctx.limit(notFound),
    },
    errors,
  };
}

/** Telemetry snapshot answers; in strict mode a `critical` health level fails. */
export async function telemetryCheck(ctx: GateContext): Promise<CheckOutcome> {
  const res = await ctx.http.admin('GET', '/api/admin/agent-gateway/telemetry?hours=24&limit=200');
  if (res.status === 404 && errorCode(res) === null)
    throw new SkipCheck('unavailable', 'the telemetry snapshot is not available on this gateway (HTTP 404)');
  if (res.status !== 200)
    return { details: { httpStatus: res.status }, errors: [describeFailure(res, '200')] };
  const body = obj(res.body);
  const health = obj(body.health);
  const ingest = obj(body.ingestConnectors);
  const errors: string[] = [];
  if (ctx.options.strict && health.level === 'critical')
    errors.push(`telemetry health is critical (${JSON.stringify(health)})`);
  return {
    details: {
      httpStatus: 200,
      windowHours: body.windowHours ?? null,
      health,
      sessions: obj(body.sessions),
      attempts: obj(body.attempts),
      ingest: {
        accepted: ingest.accepted ?? null,
        replayed: ingest.replayed ?? null,
        rejected: ingest.rejected ?? null,
      },
    },
    errors,
  };
}

export interface ConnectorProfileView {
  connectorId: string;
  channel: string | null;
  adapter: string | null;
  fromRole: string | null;
  toRole: string | null;
  type: string | null;
}

export interface ProfileSnapshot {
  enforced: boolean;
  profiles: ConnectorProfileView[];
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);

/** Reads `connectorProfiles` of a telemetry or adapters body. */
export function profileSnapshot(body: unknown): ProfileSnapshot | null {
  const section = obj(obj(body).connectorProfiles);
  if (!Array.isArray(section.profiles)) return null;
  return {
    enforced: section.enforced === true,
    profiles: section.profiles.map((p) => {
      const o = obj(p);
      return {
        connectorId: String(o.connectorId),
        channel: str(o.channel),
        adapter: str(o.adapter),
        fromRole: str(o.fromRole),
        toRole: str(o.toRole),
        type: str(o.type),
      };
    }),
  };
}

/** Adapters snapshot answers (it also lists the connector profiles the channel probes use). */
export async function adaptersCheck(
  ctx: GateContext,
  onProfiles: (profiles: ProfileSnapshot | null) => void,
): Promise<CheckOutcome> {
  const res = await ctx.http.admin('GET', '/api/admin/agent-gateway/adapters?hours=24');
  if (res.status === 404 && errorCode(res) === null) {
    onProfiles(null);
    throw new SkipCheck('unavailable', 'the adapters snapshot is not available on this gateway (HTTP 404)');
  }
  if (res.status !== 200) {
    onProfiles(null);
    return { details: { httpStatus: res.status }, errors: [describeFailure(res, '200')] };
  }
  const body = obj(res.body);
  const adapters = obj(body.adapters);
  const profiles = profileSnapshot(body);
  onProfiles(profiles);
  const errors: string[] = [];
  if (ctx.options.strict && adapters.level === 'critical')
    errors.push(`adapter error rate is critical (${String(adapters.errorRate)})`);
  return {
    details: {
      httpStatus: 200,
      total: adapters.total ?? null,
      failed: adapters.failed ?? null,
      errorRate: adapters.errorRate ?? null,
      level: adapters.level ?? null,
      registry: Array.isArray(adapters.registry) ? adapters.registry : null,
      connectorProfiles: profiles
        ? {
            total: profiles.profiles.length,
            enforced: profiles.enforced,
            connectors: ctx.limit(profiles.profiles.map((p) => p.connectorId)),
          }
        : null,
    },
    errors,
  };
}

/** Body fields a probe may send: under an enforced profile, only those the profile leaves open. */
export function probeFields(
  profile: ConnectorProfileView | undefined,
  enforced: boolean,
  wanted: Partial<Record<'adapter' | 'channel' | 'fromRole' | 'type', string>>,
): Json {
  const fields: Json = {};
  for (const [key, value] of Object.entries(wanted)) {
    const pinned = profile?.[key as keyof ConnectorProfileView] ?? null;
    if (enforced && pinned !== null) continue;
    fields[key] = value;
  }
  return fields;
}

/** The main signed ingest probe: applied once (201), answered as a replay the second time (200), session closed. */
export async function ingestProbeCheck(
  ctx: GateContext,
  profiles: ProfileSnapshot | null,
): Promise<CheckOutcome> {
  if (ctx.options.skipIngestProbe) throw new SkipCheck('flag', '--skip-ingest-probe');
  const secret = ctx.options.webhookSecret;
  if (!secret)
    throw new SkipCheck(
      'unavailable',
      'no webhook secret (--webhook-secret / RELEASE_AGENT_GATEWAY_WEBHOOK_SECRET)',
    );
  const connectorId = ctx.options.probeConnectorId;
  const profile = profiles?.profiles.find((p) => p.connectorId === connectorId);
  const body = {
    connectorId,
    eventId: `release-gate-${ctx.runId}`,
    ...probeFields(profile, profiles?.enforced ?? false, {
      channel: 'release_launch_probe',
      fromRole: 'observer',
      type: 'launch_probe',
    }),
    externalSessionId: `release-gate-${ctx.runId}`,
    metadata: { releaseGateRunId: ctx.runId },
    payload: { probe: 'release launch gate', runId: ctx.runId },
  };
  const first = await ctx.http.ingest(body, secret);
  const firstBody = obj(first.body);
  const errors: string[] = [];
  if (first.status !== 201 || firstBody.applied !== true)
    errors.push(`first delivery: ${describeFailure(first, '201 applied')}`);
  let replay: { httpStatus: number | null; deduplicated: unknown; sameSession: boolean } | null = null;
  if (first.status === 201) {
    const second = await ctx.http.ingest(body, secret);
    const secondBody = obj(second.body);
    replay = {
      httpStatus: second.status,
      deduplicated: secondBody.deduplicated ?? null,
      sameSession: secondBody.sessionId === firstBody.sessionId,
    };
    if (second.status !== 200 || secondBody.deduplicated !== true || !replay.sameSession)
      errors.push(`replay: ${describeFailure(second, '200 deduplicated with the same session')}`);
  }
  let sessionClosed: boolean | null = null;
  if (typeof firstBody.sessionId === 'string') {
    const close = await ctx.http.admin(
      'POST',
      `${SESSIONS}/${encodeURIComponent(firstBody.sessionId)}/close`,
    );
    sessionClosed = close.status === 200;
    if (!sessionClosed) errors.push(`closing probe session: ${describeFailure(close, '200')}`);
  }
  return {
    details: {
      connectorId,
      profileConfigured: profile !== undefined,
      httpStatus: first.status,
      attempts: first.attempts,
      applied: firstBody.applied ?? null,
      channel: firstBody.channel ?? null,
      sessionId: firstBody.sessionId ?? null,
      replay,
      sessionClosed,
    },
    errors,
  };
}
