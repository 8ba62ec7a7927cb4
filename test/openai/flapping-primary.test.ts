import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from '../../src/mock-provider/mock-provider.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { FakeClock } from '../runtime/fake-clock.js';

/**
 * A primary that is down for 60 s and then healthy, on virtual time shared by the gateway's runtime and the mock:
 * requests are served by the fallback while the circuit is open, one half-open probe at a time tests the primary,
 * and the first probe after recovery puts traffic back on it.
 */
const API_KEY = 'sk-agw-flap-0123456789abcdef';
const clock = new FakeClock();
let t: TestGateway;
let mock: MockProvider;
let client: OpenAI;

beforeAll(async () => {
  mock = await startMockProvider({
    now: () => clock.now(),
    script: { phases: { flappy: [{ forMs: 60_000, behaviour: { status: 503 } }, { behaviour: {} }] } },
  });
  const provider = (id: string, model: string) => ({
    [`AI_RUNTIME_${id}_KIND`]: 'openai',
    [`AI_RUNTIME_${id}_ENDPOINT`]: `${mock.url}/v1`,
    [`AI_RUNTIME_${id}_API_KEY`]: 'sk-upstream',
    [`AI_RUNTIME_${id}_MODEL`]: model,
  });
  t = await startTestGateway({
    listen: true,
    clock,
    env: {
      GATEWAY_API_KEYS: API_KEY,
      AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
      AI_RUNTIME_MAX_RETRIES_PER_PROVIDER: '0',
      AI_PROVIDER_COOLDOWN_MS: '30000',
      AI_CRITIC_MODEL_CHAIN: 'primary,secondary',
      ...provider('PRIMARY', 'flappy'),
      ...provider('SECONDARY', 'steady'),
    },
  });
  client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await t?.close();
  await mock?.close();
});

async function ask() {
  const { data, response } = await client.chat.completions
    .create({ model: 'critic', messages: [{ role: 'user', content: 'status?' }] })
    .withResponse();
  return { provider: response.headers.get('x-agw-provider'), model: data.model };
}

const primaryCalls = () => mock.seen('flappy').length;

async function primaryCircuit() {
  const profiles = (await adminRequest(t, 'GET', '/api/admin/ai-runtime/profiles')).json();
  return profiles.providers.find((p: { provider: string }) => p.provider === 'primary').circuit;
}

describe('primary flapping down for 60 s, then healthy', () => {
  it('serves from the fallback while down and returns to the primary after a half-open probe', async () => {
    expect(await ask()).toEqual({ provider: 'secondary', model: 'steady' });
    expect(primaryCalls()).toBe(1);
    expect(await primaryCircuit()).toBe('open');

    clock.advance(10_000); // still cooling down: the primary is not called at all
    expect(await ask()).toMatchObject({ provider: 'secondary' });
    expect(primaryCalls()).toBe(1);

    clock.advance(21_000); // t = 31 s: the cooldown lapsed; one probe, still down, reopens with backoff (60 s)
    expect(await ask()).toMatchObject({ provider: 'secondary' });
    expect(primaryCalls()).toBe(2);
    expect(mock.seen('flappy').map((r) => r.outcome)).toEqual(['status 503', 'status 503']);

    clock.advance(30_000); // t = 61 s: the primary has recovered, but its circuit is open until t = 91 s
    expect(await ask()).toMatchObject({ provider: 'secondary' });
    expect(primaryCalls()).toBe(2);

    clock.advance(31_000); // t = 92 s: the probe succeeds and closes the circuit
    expect(await ask()).toEqual({ provider: 'primary', model: 'flappy' });
    expect(await primaryCircuit()).toBe('closed');
    expect(await ask()).toMatchObject({ provider: 'primary' });
    expect(primaryCalls()).toBe(4);
    expect(mock.seen('steady')).toHaveLength(4);
    const seenAt = mock.seen('flappy').map((r) => r.at - (mock.seen('flappy')[0]?.at ?? 0));
    expect(seenAt).toEqual([0, 31_000, 92_000, 92_000]);
  });
});
