import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from '../../src/mock-provider/mock-provider.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * Two replicas on one database and one Redis: a circuit one of them opens is honoured by the other, which does not
 * call the failing provider again (its circuit mirror hears the change; a healthy circuit costs it no Redis call).
 */
const API_KEY = 'sk-agw-shared-0123456789abcdef';
// Circuit keys are global in Redis and other test files share it: provider ids of this run only.
const suffix = randomBytes(4).toString('hex');
const primary = `down${suffix}`;
const secondary = `up${suffix}`;

// Runs whenever REDIS_URL is set (CI's real-PostgreSQL pass); an unreachable Redis fails, never skips.
describe.runIf(Boolean(process.env.REDIS_URL))('circuits shared by two replicas through Redis', () => {
  let mock: MockProvider;
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    mock = await startMockProvider({ script: { models: { failing: { status: 503 } } } });
    const provider = (id: string, model: string) => ({
      [`AI_RUNTIME_${id.toUpperCase()}_KIND`]: 'openai',
      [`AI_RUNTIME_${id.toUpperCase()}_ENDPOINT`]: `${mock.url}/v1`,
      [`AI_RUNTIME_${id.toUpperCase()}_API_KEY`]: 'sk-upstream',
      [`AI_RUNTIME_${id.toUpperCase()}_MODEL`]: model,
    });
    const env = {
      GATEWAY_API_KEYS: API_KEY,
      AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
      AI_RUNTIME_MAX_RETRIES_PER_PROVIDER: '0',
      AI_PROVIDER_COOLDOWN_MS: '60000',
      AI_CRITIC_MODEL_CHAIN: `${primary},${secondary}`,
      ...provider(primary, 'failing'),
      ...provider(secondary, 'steady'),
    };
    a = await startTestGateway({ listen: true, redis: true, env });
    b = await startTestGateway({ listen: true, redis: true, env, db: a.db });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await mock?.close();
  });

  const ask = async (t: TestGateway) => {
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
    const { response } = await client.chat.completions
      .create({ model: 'critic', messages: [{ role: 'user', content: 'status?' }] })
      .withResponse();
    return response.headers.get('x-agw-provider');
  };
  const circuitSeenBy = async (t: TestGateway) => {
    const profiles = (await adminRequest(t, 'GET', '/api/admin/ai-runtime/profiles')).json();
    return profiles.providers.find((p: { provider: string }) => p.provider === primary).circuit;
  };

  it('the second replica skips a provider the first found failing, without calling it', async () => {
    expect(await circuitSeenBy(b)).toBe('closed');
    expect(await ask(a)).toBe(secondary);
    expect(mock.seen('failing')).toHaveLength(1);
    expect(await circuitSeenBy(b)).toBe('open');
    for (let i = 0; i < 5; i++) expect(await ask(b)).toBe(secondary);
    expect(mock.seen('failing')).toHaveLength(1);
    expect(mock.seen('steady')).toHaveLength(6);
  });
});
