import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from '../../src/mock-provider/mock-provider.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

describe('AI runtime endpoints with network providers (mock provider)', () => {
  let t: TestGateway;
  let mock: MockProvider;
  const key = 'sk-live-secret-never-logged';
  beforeAll(async () => {
    mock = await startMockProvider();
    const provider = (id: string, model: string) => ({
      [`AI_RUNTIME_${id}_KIND`]: 'openai',
      [`AI_RUNTIME_${id}_ENDPOINT`]: `${mock.url}/v1`,
      [`AI_RUNTIME_${id}_API_KEY`]: key,
      [`AI_RUNTIME_${id}_MODEL`]: model,
    });
    t = await startTestGateway({
      env: {
        AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
        AI_RUNTIME_MAX_RETRIES_PER_PROVIDER: '0',
        AI_CRITIC_MODEL_CHAIN: 'down-a,down-b',
        AI_MAKER_MODEL_CHAIN: 'up,local-fallback',
        AI_AUTHOR_MODEL_CHAIN: 'echo,local-fallback',
        ...provider('DOWN_A', 'mock-status-503'),
        ...provider('DOWN_B', 'mock-status-500'),
        ...provider('UP', 'gpt-mock'),
        ...provider('ECHO', 'echo-key'),
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await mock?.close();
  });

  it('dry-run simulates network providers unless live: true', async () => {
    const before = mock.stats.requests;
    const simulated = (
      await adminRequest(t, 'POST', '/api/admin/ai-runtime/dry-run', { role: 'maker', prompt: 'p' })
    ).json();
    expect(mock.stats.requests).toBe(before);
    expect(simulated.result).toMatchObject({
      failed: false,
      mode: 'deterministic',
      selectedProvider: 'up',
      selectedModel: 'deterministic',
      live: false,
    });
    const live = (
      await adminRequest(t, 'POST', '/api/admin/ai-runtime/dry-run', {
        role: 'maker',
        prompt: 'p',
        live: true,
      })
    ).json();
    expect(mock.stats.requests).toBe(before + 1);
    expect(live.result).toMatchObject({
      failed: false,
      mode: 'live',
      selectedProvider: 'up',
      selectedModel: 'gpt-mock',
      live: true,
    });
  });

  it("health is degraded when a role's whole chain is cooling down; dry-run still answers 200", async () => {
    const run = await t.gateway.runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(run.attempts.map((a) => a.errorCode)).toEqual([
      'AI_PROVIDER_UNAVAILABLE',
      'AI_PROVIDER_HTTP_ERROR',
    ]);
    const health = (await adminRequest(t, 'GET', '/api/admin/ai-runtime/health')).json();
    expect(health.summary).toMatchObject({
      health: 'degraded',
      rolesBlocked: 1,
      providersCoolingDown: 2,
      providerCount: 6,
    });
    expect(health.roleStates.find((r: { role: string }) => r.role === 'critic')).toMatchObject({
      hasAvailableProvider: false,
      availableProviders: [],
      blockedProviders: ['down-a', 'down-b'],
    });
    const downB = health.providers.find((p: { provider: string }) => p.provider === 'down-b');
    expect(downB).toMatchObject({
      circuit: 'open',
      coolingDown: true,
      reason: 'http_500',
      lastFailureCode: 'AI_PROVIDER_HTTP_ERROR',
    });
    const dry = await adminRequest(t, 'POST', '/api/admin/ai-runtime/dry-run', {
      role: 'critic',
      prompt: 'p',
      live: true,
    });
    expect(dry.statusCode).toBe(200);
    expect(dry.json().result.attempts.map((a: { status: string }) => a.status)).toEqual([
      'skipped_cooldown',
      'skipped_cooldown',
    ]);
    expect(dry.json().result.failed).toBe(true);
  });

  it('never exposes the API key in payloads or logs', async () => {
    const payloads = await Promise.all([
      adminRequest(t, 'GET', '/api/admin/ai-runtime/health'),
      adminRequest(t, 'GET', '/api/admin/ai-runtime/profiles'),
      adminRequest(t, 'POST', '/api/admin/ai-runtime/dry-run', { role: 'critic', prompt: 'p', live: true }),
    ]);
    mock.setScript({
      models: { 'echo-key': { status: 401, message: 'Incorrect API key provided: {apiKey}' } },
    });
    const echoed = await adminRequest(t, 'POST', '/api/admin/ai-runtime/dry-run', {
      role: 'author',
      prompt: 'p',
      live: true,
    });
    expect(echoed.json().result.attempts[0]).toMatchObject({
      errorCode: 'AI_PROVIDER_AUTH_ERROR',
      httpStatus: 401,
    });
    expect(echoed.json().result.attempts[0].errorMessage).toContain('[redacted]');
    payloads.push(echoed);
    for (const res of payloads) expect(res.body).not.toContain(key);
    expect(t.logs.join('\n')).not.toContain(key);
  });
});
