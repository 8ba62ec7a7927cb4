import { randomBytes, randomInt } from 'node:crypto';
import { platformOfChannel } from '../../channels/session-id-fallback.js';
import { type ChannelObservation, classifyChannel, type FailureMode, routingRow } from './failure-modes.js';
import type { GateContext } from './gate-check.js';
import { describeFailure, errorCode, obj } from './gate-http.js';
import type { ExternalChannel } from './gate-options.js';
import { type ConnectorProfileView, type ProfileSnapshot, probeFields } from './platform-checks.js';

/** A connector to probe, and the platform whose payload shape it is meant to receive. */
export interface ChannelTarget {
  channel: ExternalChannel;
  profile: ConnectorProfileView;
}

/**
 * The external channel a connector serves: the platform its id names (`telegram_main`, `slack-eu`), else the one its
 * profile channel names. The profile channel is what gets validated, so a connector named for one platform whose
 * profile routes it to another is probed as the platform its id names (and fails as a session mismatch).
 */
export function channelTargets(profiles: ProfileSnapshot): ChannelTarget[] {
  const targets: ChannelTarget[] = [];
  for (const profile of profiles.profiles) {
    const channel =
      platformOfChannel(profile.connectorId.toLowerCase()) ?? platformOfChannel(profile.channel ?? '');
    if (channel) targets.push({ channel, profile });
  }
  return targets.sort((a, b) =>
    a.channel + a.profile.connectorId < b.channel + b.profile.connectorId ? -1 : 1,
  );
}

/** A payload shaped like the platform's own webhook, with a fresh chat / channel id, and the id the gateway should derive. */
export function platformProbe(
  channel: ExternalChannel,
  runId: string,
): { payload: Record<string, unknown>; expected: string } {
  const text = `release gate probe ${runId}`;
  if (channel === 'telegram') {
    const chatId = -(1_000_000_000_000 + randomInt(0, 999_999_999_999));
    return {
      payload: {
        update_id: randomInt(1, 2 ** 31 - 1),
        message: {
          message_id: randomInt(1, 1_000_000),
          date: Math.floor(Date.now() / 1000),
          chat: { id: chatId, type: 'supergroup', title: 'release gate probe' },
          from: { id: 1, is_bot: false, first_name: 'release-gate' },
          text,
        },
      },
      expected: `telegram_chat:${chatId}`,
    };
  }
  if (channel === 'slack') {
    const channelId = `C0RG${randomBytes(5).toString('hex').toUpperCase()}`;
    return {
      payload: {
        type: 'event_callback',
        team_id: 'T0RELEASE',
        event_id: `Ev${randomBytes(6).toString('hex').toUpperCase()}`,
        event: { type: 'message', channel: channelId, user: 'U0RELEASE', text, ts: `${Date.now() / 1000}` },
      },
      expected: `slack_channel:${channelId.toLowerCase()}`,
    };
  }
  const channelId = `${(BigInt(Date.now() - 1_420_070_400_000) << 22n) | BigInt(randomInt(0, 4_194_303))}`;
  return {
    payload: {
      id: `${channelId}1`,
      type: 2,
      application_id: '0',
      channel_id: channelId,
      guild_id: '0',
      data: { name: 'release-gate-probe' },
    },
    expected: `discord_channel:${channelId}`,
  };
}

export interface ChannelTrace {
  channel: ExternalChannel;
  connectorId: string;
  profile: ConnectorProfileView;
  pass: boolean;
  failureMode: FailureMode | null;
  routing: ReturnType<typeof routingRow> | null;
  expectedExternalSessionId: string;
  resolvedExternalSessionId: string | null;
  startedAtUtc: string;
  durationMs: number;
  steps: Record<string, unknown>;
  errors: string[];
}

/** Probes one connector end to end: ingest (no externalSessionId) → session lookup → id check → telemetry → close. */
export async function probeChannel(
  ctx: GateContext,
  target: ChannelTarget,
  enforced: boolean,
): Promise<ChannelTrace> {
  const started = Date.now();
  const { connectorId } = target.profile;
  const { payload, expected } = platformProbe(target.channel, ctx.runId);
  const errors: string[] = [];
  const steps: Record<string, unknown> = {};
  const observation: ChannelObservation = {
    ingest: { httpStatus: null, errorCode: null, applied: null },
    sessionLookup: null,
    expectedExternalSessionId: expected,
    resolvedExternalSessionId: null,
    telemetry: null,
    probeError: null,
  };
  const telemetryPath = `/api/admin/agent-gateway/telemetry?hours=1&limit=1000&connector=${encodeURIComponent(connectorId)}`;
  let sessionId: string | null = null;
  try {
    const baseline = await ctx.http.admin('GET', telemetryPath);
    const acceptedBefore = connectorCounts(baseline.body, connectorId)?.accepted ?? 0;
    const body = {
      connectorId,
      eventId: `release-gate-${ctx.runId}-${connectorId}`,
      ...probeFields(target.profile, enforced, { adapter: 'external_webhook', type: 'release_gate_probe' }),
      metadata: { releaseGateRunId: ctx.runId },
      payload,
    };
    const ingest = await ctx.http.ingest(body, ctx.options.webhookSecret ?? '');
    const ingestBody = obj(ingest.body);
    observation.ingest = {
      httpStatus: ingest.status,
      errorCode: errorCode(ingest),
      applied: ingestBody.applied === true,
    };
    steps.ingest = {
      httpStatus: ingest.status,
      attempts: ingest.attempts,
      errorCode: errorCode(ingest),
      message: typeof ingestBody.message === 'string' ? ingestBody.message.slice(0, 300) : null,
      details: ingestBody.details ?? null,
      applied: ingestBody.applied ?? null,
      deduplicated: ingestBody.deduplicated ?? null,
      sessionId: ingestBody.sessionId ?? null,
      channel: ingestBody.channel ?? null,
      externalSessionId: ingestBody.externalSessionId ?? null,
      externalSessionIdSource: ingestBody.externalSessionIdSource ?? null,
    };
    if (ingest.status !== 201 || ingestBody.applied !== true)
      errors.push(`ingest: ${describeFailure(ingest, '201 applied')}`);
    sessionId = typeof ingestBody.sessionId === 'string' ? ingestBody.sessionId : null;
    if (ingestBody.applied === true && sessionId) {
      const lookup = await ctx.http.admin(
        'GET',
        `/api/admin/agent-gateway/sessions/${encodeURIComponent(sessionId)}?limit=1`,
      );
      const session = obj(obj(lookup.body).session);
      observation.sessionLookup = { httpStatus: lookup.status };
      observation.resolvedExternalSessionId =
        typeof session.externalSessionId === 'string' ? session.externalSessionId : null;
      steps.sessionLookup = {
        httpStatus: lookup.status,
        attempts: lookup.attempts,
        errorCode: errorCode(lookup),
        channel: session.channel ?? null,
        externalSessionId: session.externalSessionId ?? null,
      };
      if (lookup.status !== 200) errors.push(`session lookup: ${describeFailure(lookup, '200')}`);
      else if (observation.resolvedExternalSessionId !== expected)
        errors.push(
          `resolved external session ${observation.resolvedExternalSessionId ?? 'none'} (expected ${expected})`,
        );
      else {
        observation.telemetry = await waitForAccepted(
          ctx,
          telemetryPath,
          connectorId,
          acceptedBefore,
          baseline.status,
        );
        steps.telemetry = observation.telemetry;
        if (observation.telemetry.httpStatus !== 200)
          errors.push(`telemetry: HTTP ${observation.telemetry.httpStatus ?? 'no answer'} (expected 200)`);
        else if (observation.telemetry.acceptedAfter <= acceptedBefore)
          errors.push(
            `telemetry: connector accepted count stayed at ${acceptedBefore} (total ${observation.telemetry.total})`,
          );
      }
    }
  } catch (error) {
    observation.probeError = (error as Error).message;
    errors.push(`probe crashed: ${(error as Error).message}`);
  }
  if (sessionId) {
    const close = await ctx.http.admin(
      'POST',
      `/api/admin/agent-gateway/sessions/${encodeURIComponent(sessionId)}/close`,
    );
    steps.cleanup = { sessionId, closed: close.status === 200, httpStatus: close.status };
  }
  const failureMode = classifyChannel(observation);
  return {
    channel: target.channel,
    connectorId,
    profile: target.profile,
    pass: failureMode === null,
    failureMode,
    routing: failureMode ? routingRow(failureMode) : null,
    expectedExternalSessionId: expected,
    resolvedExternalSessionId: observation.resolvedExternalSessionId,
    startedAtUtc: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    steps,
    errors: ctx.limit(errors),
  };
}

function connectorCounts(body: unknown, connectorId: string): { total: number; accepted: number } | null {
  const connectors = obj(obj(body).ingestConnectors).connectors;
  if (!Array.isArray(connectors)) return null;
  const entry = connectors.map(obj).find((c) => c.connectorId === connectorId);
  return entry ? { total: Number(entry.total ?? 0), accepted: Number(entry.accepted ?? 0) } : null;
}

/** Polls telemetry until the connector's accepted count grows past the baseline (counters flush every few seconds). */
async function waitForAccepted(
  ctx: GateContext,
  path: string,
  connectorId: string,
  acceptedBefore: number,
  baselineStatus: number | null,
): Promise<NonNullable<ChannelObservation['telemetry']> & { polls: number }> {
  const deadline = Date.now() + ctx.options.telemetryWaitMs;
  let polls = 0;
  for (;;) {
    polls += 1;
    const res = await ctx.http.admin('GET', path);
    const counts = connectorCounts(res.body, connectorId);
    const view = {
      httpStatus: baselineStatus !== 200 ? baselineStatus : res.status,
      connectorFound: counts !== null,
      total: counts?.total ?? 0,
      acceptedBefore,
      acceptedAfter: counts?.accepted ?? 0,
      polls,
    };
    if (view.httpStatus !== 200 || view.acceptedAfter > acceptedBefore || Date.now() >= deadline) return view;
    await ctx.sleep(500);
  }
}
