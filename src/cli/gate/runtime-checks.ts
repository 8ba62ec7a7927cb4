import { type CheckOutcome, type GateContext, SkipCheck } from './gate-check.js';
import { describeFailure, errorCode, type GateResponse, obj } from './gate-http.js';

const ROLES = ['author', 'critic', 'maker', 'judge'] as const;
const CYCLE_STEPS = ['critic', 'maker', 'judge'];

type Json = Record<string, unknown>;

/** A 404 from an admin endpoint means this deployment does not have the feature yet: skipped, with the reason. */
function unavailableIf404(res: GateResponse, what: string): void {
  if (res.status === 404 && errorCode(res) !== 'AGENT_GATEWAY_SESSION_NOT_FOUND')
    throw new SkipCheck('unavailable', `${what} is not available on this gateway (HTTP 404)`);
}

/** `GET /health` answers 200 `status: "ok"`. */
export async function healthCheck(ctx: GateContext): Promise<CheckOutcome> {
  const res = await ctx.http.open('/health');
  const body = obj(res.body);
  const errors: string[] = [];
  if (res.status !== 200 || body.status !== 'ok') errors.push(describeFailure(res, '200 status ok'));
  return {
    details: {
      httpStatus: res.status,
      attempts: res.attempts,
      version: body.version ?? null,
      uptimeSec: body.uptimeSec ?? null,
    },
    errors,
  };
}

/** `GET /ready` answers 200 with every part ok. */
export async function readyCheck(ctx: GateContext): Promise<CheckOutcome> {
  const res = await ctx.http.open('/ready');
  const body = obj(res.body);
  const errors: string[] = [];
  if (res.status !== 200 || body.status !== 'ok') {
    const parts = ['db', 'redis', 'migrations'].map((k) => `${k} ${String(body[k] ?? '?')}`).join(', ');
    errors.push(`${describeFailure(res, '200 status ok')} (${parts})`);
  }
  return {
    details: {
      httpStatus: res.status,
      attempts: res.attempts,
      status: body.status ?? null,
      db: body.db ?? null,
      redis: body.redis ?? null,
      migrations: body.migrations ?? null,
    },
    errors,
  };
}

/** Runtime health: no blocked role; with `--require-live-providers` no deterministic provider in any chain. */
export async function runtimeHealthCheck(ctx: GateContext): Promise<CheckOutcome> {
  const res = await ctx.http.admin('GET', '/api/admin/ai-runtime/health');
  unavailableIf404(res, 'the runtime health snapshot');
  if (res.status !== 200)
    return { details: { httpStatus: res.status }, errors: [describeFailure(res, '200')] };
  const body = obj(res.body);
  const summary = obj(body.summary);
  const roleStates = Array.isArray(body.roleStates) ? body.roleStates.map(obj) : [];
  const providers = Array.isArray(body.providers) ? body.providers.map(obj) : [];
  const blockedRoles = roleStates.filter((r) => r.hasAvailableProvider !== true).map((r) => String(r.role));
  const chained = new Set(
    roleStates.flatMap((r) => (Array.isArray(r.providers) ? r.providers.map(String) : [])),
  );
  const deterministicInChains = providers
    .filter((p) => chained.has(String(p.provider)) && p.mode === 'deterministic')
    .map((p) => String(p.provider));
  const errors: string[] = [];
  if (blockedRoles.length > 0 || Number(summary.rolesBlocked ?? 0) > 0)
    errors.push(
      `blocked roles (no available provider): ${ctx.limit(blockedRoles).join(', ') || summary.rolesBlocked}`,
    );
  if (ctx.options.requireLiveProviders && deterministicInChains.length > 0)
    errors.push(
      `--require-live-providers: deterministic provider(s) in role chains: ${ctx.limit(deterministicInChains).join(', ')}`,
    );
  return {
    details: {
      httpStatus: 200,
      health: summary.health ?? null,
      rolesBlocked: summary.rolesBlocked ?? null,
      blockedRoles: ctx.limit(blockedRoles),
      providersCoolingDown: summary.providersCoolingDown ?? null,
      providersReady: summary.providersReady ?? null,
      providerCount: summary.providerCount ?? null,
      deterministicProviders: ctx.limit(deterministicInChains),
    },
    errors,
  };
}

/** A dry-run per role: each must answer (directly or after a clean fallback); never touches circuits. */
export async function dryRunCheck(ctx: GateContext): Promise<CheckOutcome> {
  if (ctx.options.skipRuntimeProbes) throw new SkipCheck('flag', '--skip-runtime-probes');
  const timeoutMs = Math.min(12_000, ctx.options.httpTimeoutMs);
  const roles: Json[] = [];
  const errors: string[] = [];
  for (const role of ROLES) {
    const res = await ctx.http.admin(
      'POST',
      '/api/admin/ai-runtime/dry-run',
      {
        role,
        prompt: 'release gate probe: summarize fallback readiness',
        timeoutMs,
        correlationId: ctx.runId,
        releaseRunId: ctx.runId,
        ...(ctx.options.requireLiveProviders ? { live: true } : {}),
      },
      Math.max(ctx.options.httpTimeoutMs, timeoutMs + 5_000),
    );
    if (res.status === 404) unavailableIf404(res, 'the dry-run endpoint');
    if (res.status !== 200) {
      roles.push({ role, httpStatus: res.status, failed: null });
      errors.push(`${role}: ${describeFailure(res, '200')}`);
      continue;
    }
    const result = obj(obj(res.body).result);
    const attempts = Array.isArray(result.attempts) ? result.attempts.map(obj) : [];
    const fellBack = attempts.some((a) => a.status !== 'success');
    roles.push({
      role,
      httpStatus: 200,
      failed: result.failed === true,
      selectedProvider: result.selectedProvider ?? null,
      mode: result.mode ?? null,
      fellBack,
      latencyMs: result.latencyMs ?? null,
      attempts: ctx.limit(
        attempts.map((a) => ({ provider: a.provider, status: a.status, errorCode: a.errorCode ?? null })),
      ),
    });
    if (result.failed === true) {
      const codes = attempts.map((a) => `${String(a.provider)}:${String(a.errorCode ?? a.status)}`);
      errors.push(`${role}: every provider failed (${ctx.limit(codes).join(', ')})`);
    } else if (ctx.options.requireLiveProviders && result.mode === 'deterministic') {
      errors.push(`${role}: answered by a deterministic provider (${String(result.selectedProvider)})`);
    }
  }
  return { details: { roles }, errors };
}

/** Finds or makes the draft the orchestration probe runs on. */
async function probeDraftId(ctx: GateContext): Promise<{ draftId: string | null; error: string | null }> {
  if (ctx.options.runtimeDraftId) return { draftId: ctx.options.runtimeDraftId, error: null };
  const res = await ctx.http.admin('POST', '/api/admin/drafts', {
    title: `Release gate probe ${ctx.runId}`,
    body: 'Release gate probe draft: the critic, maker and judge each answer once; nothing here is published.',
  });
  const draft = obj(obj(res.body).draft);
  if (res.status !== 201 || typeof draft.id !== 'string')
    return { draftId: null, error: `probe draft: ${describeFailure(res, '201')}` };
  return { draftId: draft.id, error: null };
}

/** Orchestration probe: 201, completed, steps critic → maker → judge; the probe session is closed afterwards. */
export async function orchestrationCheck(ctx: GateContext): Promise<CheckOutcome> {
  if (ctx.options.skipRuntimeProbes) throw new SkipCheck('flag', '--skip-runtime-probes');
  const { draftId, error } = await probeDraftId(ctx);
  if (!draftId) return { details: { draftId: null }, errors: [error ?? 'no probe draft'] };
  const waitMs = Math.min(300_000, Math.max(30_000, ctx.options.httpTimeoutMs * 3));
  const res = await ctx.http.admin(
    'POST',
    '/api/admin/agent-gateway/orchestrate',
    {
      draftId,
      channel: ctx.options.runtimeChannel,
      externalSessionId: `release-gate-${ctx.runId}`,
      metadata: { releaseGateRunId: ctx.runId },
      waitMs,
    },
    waitMs + ctx.options.httpTimeoutMs,
  );
  const body = obj(res.body);
  const steps = Array.isArray(body.steps) ? body.steps.map((s) => String(obj(s).role)) : [];
  const errors: string[] = [];
  if (res.status !== 201) errors.push(describeFailure(res, '201 (completed within the wait)'));
  else {
    if (body.completed !== true) errors.push(`cycle not completed: status ${String(body.status)}`);
    if (steps.join(',') !== CYCLE_STEPS.join(','))
      errors.push(`steps ${steps.join(',') || '(none)'} (expected ${CYCLE_STEPS.join(',')})`);
  }
  let sessionClosed: boolean | null = null;
  if (typeof body.sessionId === 'string') {
    const close = await ctx.http.admin(
      'POST',
      `/api/admin/agent-gateway/sessions/${encodeURIComponent(body.sessionId)}/close`,
    );
    sessionClosed = close.status === 200;
    if (!sessionClosed) errors.push(`closing probe session: ${describeFailure(close, '200')}`);
  }
  return {
    details: {
      httpStatus: res.status,
      attempts: res.attempts,
      draftId,
      draftCreated: ctx.options.runtimeDraftId === null,
      sessionId: body.sessionId ?? null,
      runId: body.runId ?? null,
      status: body.status ?? null,
      completed: body.completed ?? null,
      steps,
      verdict: body.verdict ?? null,
      sessionClosed,
    },
    errors,
  };
}
