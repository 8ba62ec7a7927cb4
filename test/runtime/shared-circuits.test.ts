import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from '../../src/mock-provider/mock-provider.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

// Two gateway instances sharing one Redis: a failure seen by one opens the circuit for the other.
// Runs whenever REDIS_URL is set; an unreachable Redis makes it fail, never skip.
describe.runIf(Boolean(process.env.REDIS_URL))('circuits shared across replicas through Redis', () => {
  let mock: MockProvider;
  let first: TestGateway;
  let second: TestGateway;
  const id = `shared-${randomBytes(4).toString('hex')}`;
  const envKey = id.toUpperCase().replace(/[^A-Z0-9]/g, '_');

  beforeAll(async () => {
    mock = await startMockProvider();
    const env = {
      REDIS_URL: process.env.REDIS_URL!,
      AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
      AI_RUNTIME_MAX_RETRIES_PER_PROVIDER: '0',
      AI_CRITIC_MODEL_CHAIN: `${id},local-fallback`,
      [`AI_RUNTIME_${envKey}_KIND`]: 'openai',
      [`AI_RUNTIME_${envKey}_ENDPOINT`]: `${mock.url}/v1`,
      [`AI_RUNTIME_${envKey}_API_KEY`]: 'sk-shared',
      [`AI_RUNTIME_${envKey}_MODEL`]: 'mock-status-503',
    };
    first = await startTestGateway({ env });
    second = await startTestGateway({ env });
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await mock?.close();
  });

  it('replica B skips the provider that failed on replica A, without calling it', async () => {
    const a = await first.gateway.runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(a.attempts.map((x) => [x.provider, x.status, x.errorCode])).toEqual([
      [id, 'failed', 'AI_PROVIDER_UNAVAILABLE'],
      ['local-fallback', 'success', null],
    ]);
    const calls = mock.stats.requests;
    const health = (await adminRequest(second, 'GET', '/api/admin/ai-runtime/health')).json();
    expect(health.circuitStore).toBe('redis');
    expect(['live', 'loading']).toContain(health.circuitMirror);
    expect(health.providers.find((p: { provider: string }) => p.provider === id)).toMatchObject({
      coolingDown: true,
      circuit: 'open',
      lastFailureCode: 'AI_PROVIDER_UNAVAILABLE',
    });
    const b = await second.gateway.runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(b.attempts.map((x) => [x.provider, x.status])).toEqual([
      [id, 'skipped_cooldown'],
      ['local-fallback', 'success'],
    ]);
    expect(mock.stats.requests).toBe(calls);
  });
});
