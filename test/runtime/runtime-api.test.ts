import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminRequest,
  runRunbookScript,
  startTestGateway,
  TEST_TOKENS,
  type TestGateway,
} from '../helpers/test-gateway.js';

/** Runbook Fast Triage steps 2, 3 and 5, verbatim. */
const runbook = {
  health: `curl -s "$API_BASE_URL/api/admin/ai-runtime/health" \\
  -H "x-admin-token: $ADMIN_API_TOKEN"`,
  profiles: `curl -s "$API_BASE_URL/api/admin/ai-runtime/profiles" \\
  -H "x-admin-token: $ADMIN_API_TOKEN"`,
  dryRun: `curl -s "$API_BASE_URL/api/admin/ai-runtime/dry-run" \\
  -H "x-admin-token: $ADMIN_API_TOKEN" \\
  -H "content-type: application/json" \\
  -d '{
    "role": "critic",
    "prompt": "health probe: summarize fallback readiness",
    "timeoutMs": 12000
  }'`,
};

describe('AI runtime endpoints on a fresh install (deterministic providers)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ listen: true });
  });
  afterAll(async () => t?.close());

  const curl = async (script: string) => JSON.parse(await runRunbookScript(t, script));

  it('runbook step 2: health shows every role with two deterministic providers', async () => {
    const health = await curl(runbook.health);
    expect(health.summary).toEqual({
      roleCount: 4,
      providerCount: 2,
      rolesBlocked: 0,
      providersCoolingDown: 0,
      providersReady: 2,
      coolingDownShare: 0,
      deterministicProviders: 2,
      health: 'ok',
    });
    expect(health.roleStates.map((r: { role: string }) => r.role)).toEqual([
      'author',
      'critic',
      'maker',
      'judge',
    ]);
    expect(health.roleStates[1]).toEqual({
      role: 'critic',
      providers: ['local-primary', 'local-fallback'],
      availableProviders: ['local-primary', 'local-fallback'],
      blockedProviders: [],
      hasAvailableProvider: true,
    });
    expect(health.providers.every((p: { mode: string }) => p.mode === 'deterministic')).toBe(true);
    expect(Number.isNaN(Date.parse(health.generatedAt))).toBe(false);
  });

  it('runbook step 3: profiles in role order with provider states', async () => {
    const profiles = await curl(runbook.profiles);
    expect(profiles.profiles).toEqual([
      { role: 'author', providers: ['local-primary', 'local-fallback'] },
      { role: 'critic', providers: ['local-primary', 'local-fallback'] },
      { role: 'maker', providers: ['local-primary', 'local-fallback'] },
      { role: 'judge', providers: ['local-primary', 'local-fallback'] },
    ]);
    expect(profiles.providers[0]).toMatchObject({
      provider: 'local-primary',
      kind: 'deterministic',
      mode: 'deterministic',
      circuit: 'closed',
      coolingDown: false,
      cooldownUntil: null,
      activeProfile: 'default',
      lastFailureCode: null,
      reason: null,
      profiles: [
        {
          profile: 'default',
          circuit: 'closed',
          coolingDown: false,
          cooldownUntil: null,
          lastFailureCode: null,
          reason: null,
        },
      ],
    });
  });

  it('runbook step 5: the deterministic dry-run probe succeeds', async () => {
    const body = await curl(runbook.dryRun);
    expect(body.correlation).toBeNull();
    expect(body.result).toMatchObject({
      role: 'critic',
      failed: false,
      mode: 'deterministic',
      selectedProvider: 'local-primary',
      selectedAuthProfile: 'default',
      output: '[local-primary@default] Critique: health probe: summarize fallback readiness',
    });
    expect(body.result.attempts).toEqual([
      expect.objectContaining({
        provider: 'local-primary',
        authProfile: 'default',
        status: 'success',
        errorCode: null,
        httpStatus: null,
      }),
    ]);
    expect(body.providers.map((p: { provider: string }) => p.provider)).toEqual([
      'local-primary',
      'local-fallback',
    ]);
  });

  it('simulateFailures forces the fallback, echoes correlation, and never changes circuits', async () => {
    const res = await adminRequest(t, 'POST', '/api/admin/ai-runtime/dry-run', {
      role: 'author',
      prompt: 'p',
      simulateFailures: [{ provider: 'local-primary', code: 'AI_PROVIDER_AUTH_ERROR', latencyMs: 5 }],
      correlationId: 'rel-42',
      releaseRunId: 'run-7',
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.correlation).toEqual({
      correlationId: 'rel-42',
      releaseRunId: 'run-7',
      auditSessionId: null,
    });
    expect(
      body.result.attempts.map((a: { provider: string; status: string; errorCode: string | null }) => [
        a.provider,
        a.status,
        a.errorCode,
      ]),
    ).toEqual([
      ['local-primary', 'failed', 'AI_PROVIDER_AUTH_ERROR'],
      ['local-fallback', 'success', null],
    ]);
    expect(body.result.selectedProvider).toBe('local-fallback');
    const both = await adminRequest(t, 'POST', '/api/admin/ai-runtime/dry-run', {
      role: 'judge',
      prompt: 'p',
      simulateFailures: ['local-primary@default', 'local-fallback'],
    });
    expect(both.statusCode).toBe(200);
    expect(both.json().result).toMatchObject({ failed: true, output: null, selectedProvider: null });
    const profiles = (await adminRequest(t, 'GET', '/api/admin/ai-runtime/profiles')).json();
    expect(
      profiles.providers.map((p: { circuit: string; lastFailureCode: string | null }) => [
        p.circuit,
        p.lastFailureCode,
      ]),
    ).toEqual([
      ['closed', null],
      ['closed', null],
    ]);
  });

  it('providersOverride replaces the chain', async () => {
    const res = await adminRequest(t, 'POST', '/api/admin/ai-runtime/dry-run', {
      role: 'maker',
      prompt: 'p',
      providersOverride: ['local-fallback'],
    });
    expect(res.json().result.attempts.map((a: { provider: string }) => a.provider)).toEqual([
      'local-fallback',
    ]);
  });

  it.each([
    [{ prompt: 'p' }, 'AI_RUNTIME_INVALID_ROLE'],
    [{ role: 'Critic', prompt: 'p' }, 'AI_RUNTIME_INVALID_ROLE'],
    [{ role: 'observer', prompt: 'p' }, 'AI_RUNTIME_INVALID_ROLE'],
    [{ role: 'critic' }, 'AI_RUNTIME_INVALID_PROMPT'],
    [{ role: 'critic', prompt: '   ' }, 'AI_RUNTIME_INVALID_PROMPT'],
    [{ role: 'critic', prompt: 'x'.repeat(4001) }, 'AI_RUNTIME_INVALID_PROMPT'],
    [{ role: 'critic', prompt: 42 }, 'AI_RUNTIME_INVALID_PROMPT'],
    [{ role: 'critic', prompt: 'p', timeoutMs: 0 }, 'AI_RUNTIME_INVALID_TIMEOUT'],
    [{ role: 'critic', prompt: 'p', timeoutMs: 120001 }, 'AI_RUNTIME_INVALID_TIMEOUT'],
    [{ role: 'critic', prompt: 'p', timeoutMs: 1.5 }, 'AI_RUNTIME_INVALID_TIMEOUT'],
    [{ role: 'critic', prompt: 'p', timeoutMs: '12000' }, 'AI_RUNTIME_INVALID_TIMEOUT'],
    [{ role: 'critic', prompt: 'p', providersOverride: ['nope'] }, 'AI_RUNTIME_INVALID_INPUT'],
    [
      { role: 'critic', prompt: 'p', providersOverride: Array(11).fill('local-primary') },
      'AI_RUNTIME_INVALID_INPUT',
    ],
    [{ role: 'critic', prompt: 'p', simulateFailures: ['local-primary@ghost'] }, 'AI_RUNTIME_INVALID_INPUT'],
    [
      { role: 'critic', prompt: 'p', simulateFailures: [{ provider: 'local-primary', code: 'BOOM' }] },
      'AI_RUNTIME_INVALID_INPUT',
    ],
    [
      { role: 'critic', prompt: 'p', simulateFailures: Array(11).fill('local-primary') },
      'AI_RUNTIME_INVALID_INPUT',
    ],
    [{ role: 'critic', prompt: 'p', correlationId: '' }, 'AI_RUNTIME_INVALID_INPUT'],
    [{ role: 'critic', prompt: 'p', live: 'yes' }, 'AI_RUNTIME_INVALID_INPUT'],
    [{ role: 'critic', prompt: 'p', temperature: 0.2 }, 'AI_RUNTIME_DRY_RUN_INVALID_FIELDS'],
    [['critic'], 'AI_RUNTIME_DRY_RUN_INVALID_FIELDS'],
  ])('dry-run %j → 400 %s', async (body, code) => {
    const res = await adminRequest(t, 'POST', '/api/admin/ai-runtime/dry-run', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: code, requestId: expect.any(String) });
  });

  it('an empty body is a 400, malformed JSON is INVALID_JSON, unknown query keys are rejected', async () => {
    const empty = await t.gateway.app.inject({
      method: 'POST',
      url: '/api/admin/ai-runtime/dry-run',
      headers: { 'x-admin-token': TEST_TOKENS.admin },
    });
    expect(empty.json().error).toBe('AI_RUNTIME_DRY_RUN_INVALID_FIELDS');
    const broken = await t.gateway.app.inject({
      method: 'POST',
      url: '/api/admin/ai-runtime/dry-run',
      headers: { 'x-admin-token': TEST_TOKENS.admin, 'content-type': 'application/json' },
      payload: '{"role":',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error).toBe('INVALID_JSON');
    expect((await adminRequest(t, 'GET', '/api/admin/ai-runtime/health?verbose=1')).json().error).toBe(
      'ADMIN_INVALID_QUERY',
    );
  });

  it('GETs need read, dry-run needs operate', async () => {
    expect(
      (await adminRequest(t, 'GET', '/api/admin/ai-runtime/health', undefined, TEST_TOKENS.read)).statusCode,
    ).toBe(200);
    expect(
      (await adminRequest(t, 'GET', '/api/admin/ai-runtime/profiles', undefined, TEST_TOKENS.read))
        .statusCode,
    ).toBe(200);
    const denied = await adminRequest(
      t,
      'POST',
      '/api/admin/ai-runtime/dry-run',
      { role: 'critic', prompt: 'p' },
      TEST_TOKENS.read,
    );
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toBe('ADMIN_TOKEN_SCOPE_DENIED');
    const allowed = await adminRequest(
      t,
      'POST',
      '/api/admin/ai-runtime/dry-run',
      { role: 'critic', prompt: 'p' },
      TEST_TOKENS.operate,
    );
    expect(allowed.statusCode).toBe(200);
    expect(
      (await t.gateway.app.inject({ method: 'GET', url: '/api/admin/ai-runtime/health' })).statusCode,
    ).toBe(401);
  });
});
