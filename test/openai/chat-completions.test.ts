import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from '../../src/mock-provider/mock-provider.js';
import { estimateTokens } from '../../src/mock-provider/mock-responses.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * The real `openai` SDK against the gateway, with `agw mock-provider` as the upstream: each fault asserts what the
 * caller sees and what the upstream saw. Non-role model names go to the default upstream (one circuit per model),
 * so every scenario uses its own model names.
 */
const API_KEY = 'sk-agw-test-0123456789abcdef';
let t: TestGateway;
let mock: MockProvider;
let client: OpenAI;

beforeAll(async () => {
  mock = await startMockProvider({
    script: {
      models: {
        'rl-once': [{ error: 'rate_limit', retryAfter: 1 }, {}],
        // The second answer's Retry-After (30 s) opens the circuit for 30 s: the follow-up calls are deterministic.
        'rl-always': [
          { error: 'rate_limit', retryAfter: 1 },
          { error: 'rate_limit', retryAfter: 30 },
        ],
        'err-once': [{ status: 500 }, {}],
        'down-503': { status: 503 },
        'down-503-b': { status: 503 },
        'down-503-c': { status: 503 },
        'reset-model': { fault: 'reset' },
        'reset-stream': { fault: 'reset' },
        'hang-model': { fault: 'hang' },
        'hang-stream': { fault: 'hang' },
        'slow-first': { firstTokenDelayMs: 10_000 },
        'cut-model': { streamCutAfter: 2, text: 'one two three four five six' },
        'stall-model': { stallAfter: 2, text: 'one two three four five six' },
        'bad-chunk': { malformedChunkAt: 3, text: 'one two three four five six' },
        'bad-first': { malformedChunkAt: 1 },
        'no-done': { omitDone: true, text: 'complete answer' },
        'no-finish': { omitFinish: true, text: 'cut short here' },
        'hold-after-finish': { holdAfterFinish: true, text: 'complete answer' },
        'down-503-d': { status: 503 },
        'metrics-down': { status: 503 },
        'snap-down': [
          { error: 'rate_limit', retryAfter: 1 },
          { error: 'rate_limit', retryAfter: 30 },
        ],
        'ctx-model': { error: 'context_length_exceeded' },
        'policy-model': { error: 'content_policy' },
        'filtered-stream': { text: '', finishReason: 'content_filter' },
        'multi-line': { multiLineData: true, text: 'one two three' },
        'filtered-json': { text: '', finishReason: 'content_filter' },
        'deadline-a': { fault: 'hang' },
        'deadline-b': { fault: 'hang' },
        'deadline-c': {},
        'left-model': { fault: 'hang' },
        'metrics-cut': { streamCutAfter: 1, text: 'one two three' },
        'no-end': { omitFinish: true, omitDone: true, text: 'cut short here' },
      },
    },
  });
  t = await startTestGateway({
    listen: true,
    env: {
      GATEWAY_API_KEYS: API_KEY,
      AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
      AI_RUNTIME_DEFAULT_UPSTREAM: `${mock.url}/v1`,
      // Generous for a loaded CI machine; the faults below exceed them by far.
      AI_RUNTIME_ATTEMPT_TIMEOUT_MS: '2000',
      AI_RUNTIME_TTFT_TIMEOUT_MS: '1000',
      // Longer than the TTFT limit, so the slow-first-token test can tell which of the two fired.
      AI_RUNTIME_STREAM_IDLE_TIMEOUT_MS: '3000',
      AI_MAKER_MODEL_CHAIN: 'local-primary',
    },
  });
  client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await t?.close();
  await mock?.close();
});

const ask = (content = 'hello gateway') => [{ role: 'user' as const, content }];

async function chat(model: string, fallbacks?: string[]) {
  const { data, response } = await client.chat.completions
    .create({ model, messages: ask(), ...(fallbacks ? { fallbacks } : {}) } as never)
    .withResponse();
  return {
    body: data as OpenAI.Chat.ChatCompletion,
    provider: response.headers.get('x-agw-provider'),
    attempts: Number(response.headers.get('x-agw-attempts')),
  };
}

/** Streams with the SDK; returns the text, finish reasons, usage, and the error that ended the stream if any. */
async function stream(model: string, extra: Record<string, unknown> = {}) {
  const { data, response } = await client.chat.completions
    .create({ model, messages: ask(), stream: true, ...extra } as never)
    .withResponse();
  let text = '';
  const finishes: string[] = [];
  let usage: OpenAI.CompletionUsage | undefined;
  const models = new Set<string>();
  let error: (Error & { code?: string; error?: Record<string, unknown> }) | undefined;
  try {
    for await (const chunk of data as unknown as AsyncIterable<OpenAI.Chat.ChatCompletionChunk>) {
      models.add(chunk.model);
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
  } catch (e) {
    error = e as typeof error;
  }
  return {
    text,
    finishes,
    usage,
    models: [...models],
    error,
    provider: response.headers.get('x-agw-provider'),
    attempts: Number(response.headers.get('x-agw-attempts')),
  };
}

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as InstanceType<typeof OpenAI.APIError>;
  }
  throw new Error('expected the call to fail');
}

const gaps = (model: string) =>
  mock
    .seen(model)
    .map((r) => r.at)
    .map((at, i, all) => (i === 0 ? 0 : at - (all[i - 1] as number)))
    .slice(1);

describe('/v1 non-streaming: chain-runner semantics through the OpenAI SDK', () => {
  it('429 with Retry-After then success: waits the Retry-After, retries the same route, answers', async () => {
    const res = await chat('rl-once');
    expect(res.body.choices[0]?.message.content).toBe('Mock answer from rl-once: hello gateway');
    expect(res.body.model).toBe('rl-once');
    expect(res).toMatchObject({ provider: 'default-upstream', attempts: 2 });
    expect(mock.seen('rl-once').map((r) => r.outcome)).toEqual(['status 429', 'ok']);
    expect(gaps('rl-once')[0]).toBeGreaterThanOrEqual(950);
  });

  it('persistent 429: one retry after Retry-After, then a RateLimitError; the open circuit spares the upstream', async () => {
    const error = await failure(chat('rl-always'));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'AI_PROVIDER_RATE_LIMITED', type: 'rate_limit_error' });
    expect(mock.seen('rl-always')).toHaveLength(2);
    expect(gaps('rl-always')[0]).toBeGreaterThanOrEqual(950); // the first Retry-After (1 s) was waited out
    const again = await failure(chat('rl-always'));
    expect(again).toMatchObject({ status: 503, code: 'AI_PROVIDER_UNAVAILABLE' });
    expect(mock.seen('rl-always')).toHaveLength(2);
    // With a fallback the caller is served while the circuit is open.
    const served = await chat('rl-always', ['backup-rl']);
    expect(served.body.model).toBe('backup-rl');
    expect(mock.seen('rl-always')).toHaveLength(2);
  });

  it('500 once: retried on the same route after a short backoff', async () => {
    const res = await chat('err-once');
    expect(res).toMatchObject({ provider: 'default-upstream', attempts: 2 });
    expect(res.body.model).toBe('err-once');
    expect(mock.seen('err-once').map((r) => r.outcome)).toEqual(['status 500', 'ok']);
    expect(gaps('err-once')[0]).toBeGreaterThanOrEqual(90);
  });

  it('persistent 503 with a fallback: the fallback answers, with its own model and usage', async () => {
    const res = await chat('down-503', ['backup-a']);
    expect(res.attempts).toBe(3);
    expect(res.body.model).toBe('backup-a');
    const text = 'Mock answer from backup-a: hello gateway';
    expect(res.body.choices[0]?.message.content).toBe(text);
    expect(res.body.usage).toMatchObject({
      prompt_tokens: estimateTokens('hello gateway'),
      completion_tokens: estimateTokens(text),
    });
    expect(mock.seen('down-503').map((r) => r.outcome)).toEqual(['status 503', 'status 503']);
    expect(gaps('down-503')[0]).toBeGreaterThanOrEqual(90); // backoff before the retry
    expect(mock.seen('backup-a')).toHaveLength(1);
    // The fallback is asked once the primary's retry has failed, not in parallel with it.
    expect(mock.seen('backup-a')[0]!.at).toBeGreaterThanOrEqual(mock.seen('down-503')[1]!.at);
  });

  it('TCP reset before headers: retried once, then the fallback answers', async () => {
    const res = await chat('reset-model', ['backup-b']);
    expect(res.body.model).toBe('backup-b');
    expect(res.attempts).toBe(3);
    expect(mock.seen('reset-model')).toHaveLength(2);
    expect(gaps('reset-model')[0]).toBeGreaterThanOrEqual(90); // backoff before the retry
  });

  it('no response at all: the attempt times out (socket closed, not retried) and the fallback answers', async () => {
    const res = await chat('hang-model', ['backup-c']);
    expect(res.body.model).toBe('backup-c');
    expect(res.attempts).toBe(2);
    expect(mock.seen('hang-model')).toHaveLength(1);
    await expect.poll(() => mock.seen('hang-model')[0]?.clientAborted).toBe(true);
  });

  it("context length exceeded: the caller gets the provider's reason, not the fallback's outage", async () => {
    const error = await failure(chat('ctx-model', ['down-503-b']));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({
      status: 400,
      code: 'AI_PROVIDER_BAD_REQUEST',
      type: 'invalid_request_error',
    });
    expect(error.error).toMatchObject({ reason: 'context_length_exceeded' });
    expect(error.message).toContain('maximum context length');
    expect(mock.seen('ctx-model')).toHaveLength(1);
    expect(mock.seen('down-503-b')).toHaveLength(2);
  });

  it("content filter: a 400 with the content-policy reason, not masked by the fallback's outage", async () => {
    const error = await failure(chat('policy-model', ['down-503-d']));
    expect(error).toMatchObject({ status: 400, code: 'AI_PROVIDER_BAD_REQUEST' });
    expect(error.error).toMatchObject({ reason: 'content_policy' });
    // A rejected request is not retried; the fallback was tried (and retried) and its 503 did not win.
    expect(mock.seen('policy-model')).toHaveLength(1);
    expect(mock.seen('down-503-d')).toHaveLength(2);
  });

  it('a 200 whose answer was withheld (empty, finish_reason content_filter) is the content-policy 400, not a success', async () => {
    const error = await failure(chat('filtered-json'));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, code: 'AI_PROVIDER_BAD_REQUEST' });
    expect(error.error).toMatchObject({ reason: 'content_policy' });
    expect(error.message).toContain('withheld the answer');
    expect(mock.seen('filtered-json')).toHaveLength(1); // a refusal is not retried
  });

  it('passes messages, temperature, max_tokens and tools to an OpenAI-compatible upstream', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: { name: 'lookup', description: 'Look up', parameters: { type: 'object', properties: {} } },
      },
    ];
    await client.chat.completions.create({
      model: 'pass-through',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
      temperature: 0.2,
      max_tokens: 64,
      tools,
    });
    expect(mock.stats.lastBody).toMatchObject({
      model: 'pass-through',
      temperature: 0.2,
      max_tokens: 64,
      tools,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(mock.stats.lastBody).not.toHaveProperty('fallbacks');
  });

  it('passes a custom tool call and the legacy function API on to an OpenAI-compatible upstream as sent', async () => {
    const messages = [
      { role: 'user', content: 'list files' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_c', type: 'custom', custom: { name: 'shell', input: 'ls' } }],
      },
      { role: 'tool', tool_call_id: 'call_c', content: 'a.txt' },
      { role: 'assistant', content: null, function_call: { name: 'weather', arguments: '{}' } },
      { role: 'function', name: 'weather', content: 'rain' },
    ];
    const tools = [{ type: 'custom', custom: { name: 'shell' } }];
    const res = await client.chat.completions.create({ model: 'pass-through-2', messages, tools } as never);
    expect((res as OpenAI.Chat.ChatCompletion).model).toBe('pass-through-2');
    expect(mock.stats.lastBody).toMatchObject({ model: 'pass-through-2', messages, tools });
  });
});

describe('/v1 streaming: failover until the first token, honest endings after it', () => {
  it('streams a healthy answer with usage when include_usage is set, ending with finish_reason stop', async () => {
    const res = await stream('stream-ok', { stream_options: { include_usage: true } });
    expect(res.error).toBeUndefined();
    expect(res.text).toBe('Mock answer from stream-ok: hello gateway');
    expect(res.finishes).toEqual(['stop']);
    expect(res.usage).toMatchObject({ prompt_tokens: estimateTokens('hello gateway') });
    const plain = await stream('stream-ok');
    expect(plain.usage).toBeUndefined();
  });

  it('slow first token: the TTFT limit aborts the stream and the fallback answers', async () => {
    const res = await stream('slow-first', {
      fallbacks: ['backup-d'],
      stream_options: { include_usage: true },
    });
    expect(res.error).toBeUndefined();
    expect(res.models).toEqual(['backup-d']);
    expect(res.attempts).toBe(2);
    const text = 'Mock answer from backup-d: hello gateway';
    expect(res.text).toBe(text);
    // The usage is the fallback's answer (the abandoned primary's role chunk counts for nothing).
    expect(res.usage).toMatchObject({
      prompt_tokens: estimateTokens('hello gateway'),
      completion_tokens: text.match(/\S+\s*/g)?.length,
    });
    expect(mock.seen('slow-first')).toHaveLength(1);
    await expect.poll(() => mock.seen('slow-first')[0]?.clientAborted).toBe(true);
    // The primary sent its role chunk at once and then nothing: the TTFT limit (1 s) moved on to the fallback,
    // not the idle limit (3 s).
    const gap = (mock.seen('backup-d')[0]?.at ?? 0) - (mock.seen('slow-first')[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(2900);
  });

  it('no response at all while streaming: fails over within the TTFT limit', async () => {
    const res = await stream('hang-stream', { fallbacks: ['backup-e'] });
    expect(res.models).toEqual(['backup-e']);
    expect(res.attempts).toBe(2);
    expect(mock.seen('hang-stream')).toHaveLength(1);
    await expect.poll(() => mock.seen('hang-stream')[0]?.clientAborted).toBe(true);
  });

  it('TCP reset before headers while streaming: retried, then the fallback streams', async () => {
    // Its own model name: reset-model's circuit is open after the non-streaming test, so it would be skipped.
    const res = await stream('reset-stream', { fallbacks: ['backup-f'] });
    expect(res.error).toBeUndefined();
    expect(res.models).toEqual(['backup-f']);
    expect(res.attempts).toBe(3);
    expect(mock.seen('reset-stream').map((r) => r.stream)).toEqual([true, true]);
  });

  it('a malformed first chunk fails over before anything is sent', async () => {
    const res = await stream('bad-first', { fallbacks: ['backup-g'] });
    expect(res.error).toBeUndefined();
    expect(res.models).toEqual(['backup-g']);
    expect(mock.seen('bad-first')).toHaveLength(1);
  });

  it('stream cut mid-answer: the client gets an error event, never finish_reason stop, and no fallback', async () => {
    const res = await stream('cut-model', { fallbacks: ['backup-h'] });
    expect(res.text).toBe('one two ');
    expect(res.finishes).toEqual([]);
    expect(res.error).toBeInstanceOf(OpenAI.APIError);
    expect(res.error?.error).toMatchObject({ code: 'AI_PROVIDER_UNAVAILABLE', provider: 'default-upstream' });
    expect(mock.seen('cut-model')).toHaveLength(1);
    expect(mock.seen('backup-h')).toHaveLength(0);
  });

  it('stream stall after content: an error event after the idle limit, and the upstream socket is closed', async () => {
    const res = await stream('stall-model');
    expect(res.text).toBe('one two ');
    expect(res.finishes).toEqual([]);
    expect(res.error?.error).toMatchObject({ code: 'AI_PROVIDER_TIMEOUT' });
    await expect.poll(() => mock.seen('stall-model')[0]?.clientAborted).toBe(true);
  });

  it('a malformed chunk after content ends the stream with an error', async () => {
    const res = await stream('bad-chunk');
    expect(res.text).toBe('one two ');
    expect(res.finishes).toEqual([]);
    expect(res.error?.error).toMatchObject({ code: 'AI_PROVIDER_BAD_RESPONSE' });
    expect(mock.seen('bad-chunk')).toHaveLength(1);
  });

  it('events whose JSON spans several data: lines reach the client as valid chunks', async () => {
    const res = await stream('multi-line', { stream_options: { include_usage: true } });
    expect(res.error).toBeUndefined();
    expect(res.text).toBe('one two three');
    expect(res.finishes).toEqual(['stop']);
    expect(res.usage).toMatchObject({ completion_tokens: 3 });
    expect(mock.seen('multi-line')).toHaveLength(1);
  });

  it('no [DONE]: finalised as soon as the upstream closes, as a complete answer', async () => {
    // Waiting for a [DONE] that never comes would end in the idle limit's timeout error instead.
    const res = await stream('no-done');
    expect(res.error).toBeUndefined();
    expect(res.text).toBe('complete answer');
    expect(res.finishes).toEqual(['stop']);
    expect(mock.seen('no-done')).toHaveLength(1);
  });

  /** A stream that ended without its finish: the text so far, then an error event, never a finish_reason. */
  const expectTruncated = (res: Awaited<ReturnType<typeof stream>>) => {
    expect(res.text).toBe('cut short here');
    expect(res.finishes).toEqual([]);
    expect(res.error).toBeInstanceOf(OpenAI.APIError);
    expect(res.error?.error).toMatchObject({
      code: 'AI_PROVIDER_BAD_RESPONSE',
      provider: 'default-upstream',
    });
  };

  it('an upstream that closes with neither a finish_reason nor [DONE]: a truncated answer, so an error event', async () => {
    expectTruncated(await stream('no-end'));
    expect(mock.seen('no-end')).toHaveLength(1);
  });

  it('[DONE] before any finish_reason: a truncated answer, so an error event, never a clean end', async () => {
    const res = await stream('no-finish', { fallbacks: ['backup-i'] });
    expectTruncated(res);
    expect(res.error?.message).toContain('[DONE] before a finish_reason');
    expect(mock.seen('no-finish')).toHaveLength(1);
    expect(mock.seen('backup-i')).toHaveLength(0);
  });

  it('an upstream that holds the stream open after its finish: the complete answer ends cleanly, with its usage', async () => {
    // Waiting out the idle limit would turn a complete answer into a timeout error (and a circuit failure).
    const res = await stream('hold-after-finish', { stream_options: { include_usage: true } });
    expect(res.error).toBeUndefined();
    expect(res.text).toBe('complete answer');
    expect(res.finishes).toEqual(['stop']);
    expect(res.usage).toMatchObject({ prompt_tokens: estimateTokens('hello gateway') });
    // The gateway, not the upstream, closed the connection.
    await expect.poll(() => mock.seen('hold-after-finish')[0]?.clientAborted).toBe(true);
  });

  it('content filter before any content: a 400 with the content-policy reason, not an empty success', async () => {
    const error = await failure(stream('filtered-stream'));
    expect(error).toMatchObject({ status: 400, code: 'AI_PROVIDER_BAD_REQUEST' });
    expect(error.error).toMatchObject({ reason: 'content_policy' });
    expect(mock.seen('filtered-stream')).toHaveLength(1);
  });

  it('every route failing before the first token is a plain JSON error with the classified status', async () => {
    const error = await failure(stream('rl-always'));
    expect(error).toMatchObject({ status: 503, code: 'AI_PROVIDER_UNAVAILABLE' }); // its circuit is still open
    const down = await failure(stream('down-503-c'));
    expect(down).toMatchObject({ status: 503, code: 'AI_PROVIDER_UNAVAILABLE' });
    expect(mock.seen('down-503-c').map((r) => r.stream)).toEqual([true, true]);
  });

  it('context length while streaming: the error is a plain 400 (nothing was sent yet)', async () => {
    const error = await failure(stream('ctx-model'));
    expect(error).toMatchObject({ status: 400 });
    expect(error.error).toMatchObject({ reason: 'context_length_exceeded' });
    expect(mock.seen('ctx-model').filter((r) => r.stream)).toHaveLength(1);
  });
});

describe('/v1 calls in the metrics', () => {
  it('every attempt of a /v1 call is counted like a role run (provider, role none, status, code)', async () => {
    const counts = async () => {
      const text = (await t.gateway.app.inject({ method: 'GET', url: '/metrics' })).body;
      const value = (pattern: string) => Number(new RegExp(`^${pattern} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      const attempts = (status: string, code: string) =>
        value(
          `agw_provider_attempts_total\\{provider="default-upstream",role="none",status="${status}",code="${code}"\\}`,
        );
      return {
        success: attempts('success', 'none'),
        unavailable: attempts('failed', 'AI_PROVIDER_UNAVAILABLE'),
        latency: value('agw_provider_latency_seconds_count\\{provider="default-upstream",role="none"\\}'),
      };
    };
    const before = await counts();
    await chat('metrics-ok');
    // The 503 is retried once, then the fallback answers: two failed attempts and one more success.
    expect((await chat('metrics-down', ['metrics-ok'])).attempts).toBe(3);
    // A streamed answer counts once it ends: one success, and a stream cut after content one failure (the broken
    // connection: unavailable).
    expect((await stream('metrics-stream')).finishes).toEqual(['stop']);
    expect((await stream('metrics-cut')).error).toBeDefined();
    const after = await counts();
    expect(after.success - before.success).toBe(3);
    expect(after.unavailable - before.unavailable).toBe(3);
    expect(after.latency - before.latency).toBe(6);
  });
});

describe('/v1 calls the client abandons', () => {
  it('an attempt cut short by the client leaving counts as cancelled, not as a provider error, and opens nothing', async () => {
    const counts = async () => {
      const text = (await t.gateway.app.inject({ method: 'GET', url: '/metrics' })).body;
      const value = (status: string, code: string) =>
        Number(
          new RegExp(
            `^agw_provider_attempts_total\\{provider="default-upstream",role="none",status="${status}",code="${code}"\\} (\\d+)$`,
            'm',
          ).exec(text)?.[1] ?? 0,
        );
      return { cancelled: value('cancelled', 'none'), errors: value('failed', 'AI_PROVIDER_ERROR') };
    };
    const before = await counts();
    const controller = new AbortController();
    const call = client.chat.completions.create(
      { model: 'left-model', messages: ask() },
      { signal: controller.signal },
    );
    await expect.poll(() => mock.seen('left-model').length).toBe(1);
    controller.abort();
    await expect(call).rejects.toThrow();
    // The gateway closed its upstream request when the client went away.
    await expect.poll(() => mock.seen('left-model')[0]?.clientAborted).toBe(true);
    await expect.poll(async () => (await counts()).cancelled - before.cancelled).toBe(1);
    expect((await counts()).errors - before.errors).toBe(0);
    const health = (await adminRequest(t, 'GET', '/api/admin/ai-runtime/health')).json() as {
      upstreamModels: { model: string; circuit: string; failureCount: number }[];
    };
    expect(health.upstreamModels.find((m) => m.model === 'left-model')).toMatchObject({
      circuit: 'closed',
      failureCount: 0,
    });
  });
});

describe('/v1 circuits in the runtime snapshots', () => {
  it('profiles and health show the circuit of each default-upstream model used, most recent first', async () => {
    // snap-down's second 429 asks for 30 s: its circuit opens, and the fallback answers.
    expect((await chat('snap-down', ['metrics-ok'])).provider).toBe('default-upstream');
    for (const path of ['/api/admin/ai-runtime/profiles', '/api/admin/ai-runtime/health']) {
      const body = (await adminRequest(t, 'GET', path)).json();
      const models = body.upstreamModels as {
        model: string;
        provider: string;
        circuit: string;
        coolingDown: boolean;
      }[];
      expect(models[0], path).toMatchObject({
        model: 'metrics-ok',
        provider: 'default-upstream',
        circuit: 'closed',
      });
      expect(
        models.find((m) => m.model === 'snap-down'),
        path,
      ).toMatchObject({
        circuit: 'open',
        coolingDown: true,
        lastFailureCode: 'AI_PROVIDER_RATE_LIMITED',
      });
    }
  });
});

describe('/v1 run deadline (AI_RUNTIME_RUN_DEADLINE_MS)', () => {
  it('the deadline cuts the attempt in flight and stops the chain: 504 AI_PROVIDER_TIMEOUT, later routes untried', async () => {
    const short = await startTestGateway({
      listen: true,
      env: {
        GATEWAY_API_KEYS: API_KEY,
        AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
        AI_RUNTIME_DEFAULT_UPSTREAM: `${mock.url}/v1`,
        // b gets 1 s after a's 2 s timeout (room for a loaded machine to send it), less than its own attempt timeout.
        AI_RUNTIME_ATTEMPT_TIMEOUT_MS: '2000',
        AI_RUNTIME_RUN_DEADLINE_MS: '3000',
      },
    });
    try {
      const sdk = new OpenAI({ baseURL: `${short.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
      const error = await failure(
        sdk.chat.completions.create({
          model: 'deadline-a',
          messages: ask(),
          fallbacks: ['deadline-b', 'deadline-c'],
        } as never),
      );
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error).toMatchObject({ status: 504, code: 'AI_PROVIDER_TIMEOUT' });
      expect(error.headers?.get('x-agw-attempts')).toBe('2');
      // a: its attempt timeout (2 s, a silent provider is not retried); b: cut by the deadline 1 s in; c: no time.
      expect(mock.seen('deadline-a')).toHaveLength(1);
      expect(mock.seen('deadline-b')).toHaveLength(1);
      expect(mock.seen('deadline-c')).toHaveLength(0);
      const gap = (mock.seen('deadline-b')[0]!.at as number) - (mock.seen('deadline-a')[0]!.at as number);
      expect(gap).toBeGreaterThanOrEqual(1950);
      await expect.poll(() => mock.seen('deadline-b')[0]?.clientAborted).toBe(true);
    } finally {
      await short.close();
    }
  });
});

describe('/v1 malformed messages and tools', () => {
  it('a malformed part, tool call, tool, stop or tool_choice is a 400 naming it, and touches no circuit', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ messages: [{ role: 'user', content: [null] }] }, 'messages[0].content[0]'],
      [{ messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text'],
      [
        { messages: [{ role: 'user', content: [{ type: 'image_url' }] }] },
        'messages[0].content[0].image_url',
      ],
      [
        { messages: [{ role: 'assistant', content: null, tool_calls: [{}] }] },
        'messages[0].tool_calls[0].id',
      ],
      [
        { messages: [{ role: 'assistant', tool_calls: [{ id: 'c1', function: { name: 'f' } }] }] },
        'messages[0].tool_calls[0].function.arguments',
      ],
      [{ messages: ask(), tools: [{ type: 'function' }] }, 'tools[0].function'],
      [{ messages: ask(), tools: [{ type: 'function', function: { name: 3 } }] }, 'tools[0].function.name'],
      [{ messages: ask(), stop: [1] }, 'stop'],
      [{ messages: ask(), tool_choice: 5 }, 'tool_choice'],
    ];
    // A role chain (the deterministic providers) and a default-upstream model: neither may count the caller's error.
    for (const model of ['maker', 'shape-model'])
      for (const [body, param] of cases) {
        const error = await failure(client.chat.completions.create({ model, ...body } as never));
        expect(error, `${model} ${param}`).toMatchObject({
          status: 400,
          code: 'GATEWAY_INVALID_REQUEST',
          param,
        });
      }
    expect(mock.seen('shape-model')).toHaveLength(0);
    const health = (await adminRequest(t, 'GET', '/api/admin/ai-runtime/health')).json() as {
      providers: { provider: string; circuit: string; lastFailureCode: string | null }[];
      upstreamModels: { model: string }[];
    };
    expect(health.providers.find((p) => p.provider === 'local-primary')).toMatchObject({
      circuit: 'closed',
      lastFailureCode: null,
    });
    expect(health.upstreamModels.map((m) => m.model)).not.toContain('shape-model');
    // Well-formed parts and tool calls still pass.
    const ok = await client.chat.completions.create({
      model: 'maker',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hello parts' }] },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'done' },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
    });
    expect(ok.choices[0]?.message.content).toContain('[local-primary@default]');
  });
});

describe('/v1 auth, models and routing', () => {
  it('rejects a missing or wrong key with 401 GATEWAY_API_KEY_INVALID', async () => {
    const wrong = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'sk-wrong-0123456789abcdef', maxRetries: 0 });
    const error = await failure(wrong.models.list());
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'GATEWAY_API_KEY_INVALID' });
    const res = await fetch(`${t.url}/v1/models`);
    expect(res.status).toBe(401);
  });

  it('never logs the API key', () => {
    expect(t.logs.length).toBeGreaterThan(0);
    expect(t.logs.join('\n')).not.toContain(API_KEY);
  });

  it('lists roles and provider ids as models', async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(['author', 'critic', 'maker', 'judge', 'local-primary']));
  });

  it('a role name runs its chain (deterministic here, and says so in the model)', async () => {
    const res = await chat('role:maker');
    expect(res.provider).toBe('local-primary');
    expect(res.body.model).toBe('deterministic');
    expect(res.body.choices[0]?.message.content).toBe('[local-primary@default] Revision: hello gateway');
    const streamed = await stream('maker');
    expect(streamed.text).toBe('[local-primary@default] Revision: hello gateway');
    expect(streamed.finishes).toEqual(['stop']);
  });

  it('unknown parameters and bad roles are 400/404 in OpenAI error shape', async () => {
    const bad = await failure(
      client.chat.completions.create({ model: 'x', messages: ask(), bogus: 1 } as never),
    );
    expect(bad).toMatchObject({ status: 400, code: 'GATEWAY_INVALID_REQUEST', param: 'bogus' });
    const role = await failure(client.chat.completions.create({ model: 'role:nobody', messages: ask() }));
    expect(role).toMatchObject({ status: 404, code: 'GATEWAY_MODEL_NOT_FOUND' });
  });
});
