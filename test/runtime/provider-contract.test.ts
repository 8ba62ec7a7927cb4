import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from '../../src/mock-provider/mock-provider.js';
import type {
  ProviderAdapter,
  ProviderFailure,
  ProviderKind,
  ProviderTarget,
} from '../../src/providers/provider.js';
import { createProviderRegistry } from '../../src/providers/provider-registry.js';
import { UpstreamClient } from '../../src/providers/upstream-client.js';
import { systemClock } from '../../src/runtime/clock.js';

type NetworkKind = Exclude<ProviderKind, 'deterministic'>;
const SECRET = 'sk-contract-secret-value';

let mock: MockProvider;
let client: UpstreamClient;
let adapters: Record<ProviderKind, ProviderAdapter>;

beforeAll(async () => {
  mock = await startMockProvider({ script: { requireApiKey: SECRET, models: { 'bad-key-model': {} } } });
  client = new UpstreamClient({ httpTimeoutMs: 5000 });
  adapters = createProviderRegistry({ client, sleep: systemClock.sleep });
});
afterAll(async () => {
  await client.close();
  await mock.close();
});

const endpoints: Record<NetworkKind, () => string> = {
  openai: () => `${mock.url}/v1`,
  anthropic: () => mock.url,
  gemini: () => mock.url,
  http: () => `${mock.url}/v1/generic`,
};

function target(kind: NetworkKind, model: string, apiKey = SECRET): ProviderTarget {
  return { provider: `${kind}-test`, profile: 'default', kind, model, endpoint: endpoints[kind](), apiKey };
}

async function call(kind: NetworkKind, model: string, apiKey?: string) {
  return adapters[kind].complete(target(kind, model, apiKey), {
    role: 'critic',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'contract prompt' },
    ],
    signal: AbortSignal.timeout(5000),
  });
}

async function failure(kind: NetworkKind, model: string, apiKey?: string): Promise<ProviderFailure> {
  try {
    await call(kind, model, apiKey);
  } catch (error) {
    return error as ProviderFailure;
  }
  throw new Error(`${kind} ${model} unexpectedly succeeded`);
}

// One contract, every network kind, against the real local mock server.
describe.each(['openai', 'anthropic', 'gemini', 'http'] as const)('provider contract: %s', (kind) => {
  it('returns the text, the model that answered and token usage; sends the key where the vendor expects it', async () => {
    const reply = await call(kind, 'model-a');
    expect(reply.output).toBe('Mock answer from model-a: contract prompt');
    expect(reply.model).toBe('model-a');
    expect(reply.usage).toEqual({ inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
    expect(reply.usage!.outputTokens).toBeGreaterThan(0);
  });

  it.each([
    ['mock-status-500', 'AI_PROVIDER_HTTP_ERROR', 500, true],
    ['mock-status-503', 'AI_PROVIDER_UNAVAILABLE', 503, true],
    ['mock-overloaded', 'AI_PROVIDER_UNAVAILABLE', 529, true],
    ['mock-auth', 'AI_PROVIDER_AUTH_ERROR', 401, false],
    ['mock-status-403', 'AI_PROVIDER_AUTH_ERROR', 403, false],
    ['mock-status-404', 'AI_PROVIDER_BAD_REQUEST', 404, false],
    ['mock-malformed', 'AI_PROVIDER_BAD_RESPONSE', null, false],
    ['mock-empty', 'AI_PROVIDER_BAD_RESPONSE', null, false],
    ['mock-reset', 'AI_PROVIDER_UNAVAILABLE', null, true],
  ] as const)('classifies %s as %s', async (model, code, status, retryable) => {
    const f = await failure(kind, model);
    expect(f).toMatchObject({ code, retryable });
    if (status !== null) expect(f.httpStatus).toBe(status);
  });

  it('keeps Retry-After from a 429', async () => {
    expect(await failure(kind, 'mock-rate-limit-7')).toMatchObject({
      code: 'AI_PROVIDER_RATE_LIMITED',
      httpStatus: 429,
      retryAfterMs: 7000,
      retryable: true,
    });
  });

  it('keeps the provider reason for context length and content policy rejections', async () => {
    expect(await failure(kind, 'mock-context-length')).toMatchObject({
      code: 'AI_PROVIDER_BAD_REQUEST',
      reason: 'context_length_exceeded',
      retryable: false,
    });
    expect(await failure(kind, 'mock-content-policy')).toMatchObject({
      code: 'AI_PROVIDER_BAD_REQUEST',
      reason: 'content_policy',
    });
  });

  it('maps a wrong key to an auth error without echoing the key', async () => {
    const f = await failure(kind, 'bad-key-model', 'sk-wrong-key');
    expect(f.code).toBe('AI_PROVIDER_AUTH_ERROR');
    expect(f.message).not.toContain('sk-wrong-key');
  });

  it('refused connection is unavailable; an aborted signal is a timeout', async () => {
    const refused = await adapters[kind]
      .complete(
        { ...target(kind, 'm'), endpoint: 'http://127.0.0.1:1/v1' },
        {
          role: 'critic',
          messages: [{ role: 'user', content: 'x' }],
          signal: AbortSignal.timeout(5000),
        },
      )
      .catch((e: ProviderFailure) => e);
    expect(refused).toMatchObject({ code: 'AI_PROVIDER_UNAVAILABLE', retryable: true });
    const controller = new AbortController();
    const pending = adapters[kind]
      .complete(target(kind, 'mock-hang'), {
        role: 'critic',
        messages: [{ role: 'user', content: 'x' }],
        signal: controller.signal,
      })
      .catch((e: ProviderFailure) => e);
    await new Promise((resolve) => mock.events.once('request', resolve));
    controller.abort();
    expect(await pending).toMatchObject({ code: 'AI_PROVIDER_TIMEOUT', retryable: false });
  });
});

describe('provider contract: deterministic', () => {
  it('answers from the prompt, with usage, never failing unless scripted', async () => {
    const reply = await adapters.deterministic.complete(
      { provider: 'local', profile: 'default', kind: 'deterministic', model: 'deterministic' },
      {
        role: 'maker',
        messages: [{ role: 'user', content: 'fix  it\nnow' }],
        signal: new AbortController().signal,
      },
    );
    expect(reply).toEqual({
      output: '[local@default] Revision: fix it now',
      model: 'deterministic',
      usage: expect.any(Object),
    });
  });
});

describe('vendor-specific request shapes', () => {
  it('sends the documented auth headers and bodies', async () => {
    await call('anthropic', 'claude-x');
    expect(mock.stats.lastHeaders['x-api-key']).toBe(SECRET);
    expect(mock.stats.lastHeaders['anthropic-version']).toBe('2023-06-01');
    expect(mock.stats.lastBody).toMatchObject({
      system: 'be brief',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'contract prompt' }],
    });
    await call('gemini', 'gemini-x');
    expect(mock.stats.lastHeaders['x-goog-api-key']).toBe(SECRET);
    expect(mock.stats.lastBody).toMatchObject({
      systemInstruction: { parts: [{ text: 'be brief' }] },
      contents: [{ role: 'user', parts: [{ text: 'contract prompt' }] }],
    });
    await call('openai', 'gpt-x');
    expect(mock.stats.lastHeaders.authorization).toBe(`Bearer ${SECRET}`);
    await call('http', 'generic-x');
    expect(mock.stats.lastBody).toMatchObject({
      model: 'generic-x',
      provider: 'http-test',
      authProfile: 'default',
    });
  });
});
