import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definitionFrom } from '../../test/runtime/runtime-fixtures.js';
import { type MockProvider, startMockProvider } from '../mock-provider/mock-provider.js';
import type { MockScript } from '../mock-provider/mock-script.js';
import { anthropicBodyOf, anthropicCompletionOf } from '../providers/anthropic/anthropic-chat.js';
import { anthropicSseTranslator } from '../providers/anthropic/anthropic-stream.js';
import { type ChatChunk, plainMessages } from '../providers/chat-completion.js';
import { geminiBodyOf, geminiCompletionOf } from '../providers/gemini/gemini-chat.js';
import { geminiSseTranslator } from '../providers/gemini/gemini-stream.js';
import { AiRuntime } from '../runtime/ai-runtime.js';
import type { RunAttempt } from '../runtime/chain-runner.js';
import { ChatCompletions } from './chat-completions.js';
import { parseChatInput } from './chat-request.js';
import type { StreamSink } from './stream-relay.js';

const input = (model: string, extra: Record<string, unknown> = {}) =>
  parseChatInput({ model, messages: [{ role: 'user', content: 'translate me' }], ...extra });

/**
 * A mock provider scripted with `models`, and a runtime over it: `providers` as [env id, kind, model], plus `env`,
 * with HTTP adapters and no retries.
 */
async function kindRuntime(
  models: NonNullable<MockScript['models']>,
  providers: [string, string, string][],
  env: Record<string, string>,
  onAttempt: (role: string | null, attempt: RunAttempt) => void,
) {
  const mock = await startMockProvider({ script: { models } });
  const providerEnv = providers.map(([id, kind, model]) => ({
    [`AI_RUNTIME_${id}_KIND`]: kind,
    [`AI_RUNTIME_${id}_ENDPOINT`]: kind === 'anthropic' ? mock.url : `${mock.url}/v1`,
    [`AI_RUNTIME_${id}_API_KEY`]: 'sk-upstream',
    [`AI_RUNTIME_${id}_MODEL`]: model,
  }));
  const runtime = new AiRuntime({
    definition: definitionFrom(
      Object.assign(
        { AI_RUNTIME_USE_HTTP_ADAPTERS: 'true', AI_RUNTIME_MAX_RETRIES_PER_PROVIDER: '0' },
        env,
        ...providerEnv,
      ),
    ),
    onAttempt,
  });
  return { mock, runtime, chat: new ChatCompletions(runtime) };
}

/** Collects what a stream sends. */
function collector() {
  const chunks: ChatChunk[] = [];
  let ending = '';
  const sink: StreamSink = {
    closed: false,
    write: (chunk) => void chunks.push(chunk),
    fail: (failure) => {
      ending = failure.code;
    },
    end: () => {
      ending = 'done';
    },
  };
  const text = () =>
    chunks
      .map((c) => (c.json.choices as { delta?: { content?: string } }[])[0]?.delta?.content ?? '')
      .join('');
  return { sink, chunks, text, ending: () => ending };
}

describe('/v1 over Anthropic and Gemini kinds (mock provider)', () => {
  let mock: MockProvider;
  let runtime: AiRuntime;
  let chat: ChatCompletions;
  const seen: string[] = [];
  beforeAll(async () => {
    ({ mock, runtime, chat } = await kindRuntime(
      {
        'claude-down': { status: 529 },
        'claude-cut': { streamCutAfter: 2, text: 'one two three four' },
        'gemini-slow': { firstTokenDelayMs: 5000 },
      },
      [
        ['CLAUDE_DOWN', 'anthropic', 'claude-down'],
        ['CLAUDE_CUT', 'anthropic', 'claude-cut'],
        ['GEMINI_SLOW', 'gemini', 'gemini-slow'],
        ['CLAUDE', 'anthropic', 'claude-mock'],
        ['GEMINI', 'gemini', 'gemini-mock'],
      ],
      // The slow model's first token is 5 s away; healthy ones must not trip the limit on a loaded machine.
      { AI_JUDGE_MODEL_CHAIN: 'claude-down,claude,gemini', AI_RUNTIME_TTFT_TIMEOUT_MS: '2000' },
      (role, a) => seen.push(`${role}:${a.provider}:${a.status}`),
    ));
  });
  afterAll(async () => {
    await runtime?.close();
    await mock?.close();
  });

  it('translates to the Messages API and back, failing over like a role run and reporting every attempt', async () => {
    seen.length = 0;
    const answer = await chat.complete(input('judge', { max_tokens: 50, temperature: 0.1 }));
    expect(answer.provider).toBe('claude');
    expect(answer.completion.body).toMatchObject({
      object: 'chat.completion',
      model: 'claude-mock',
      choices: [{ message: { role: 'assistant', content: 'Mock answer from claude-mock: translate me' } }],
    });
    expect(answer.completion.usage?.outputTokens).toBeGreaterThan(0);
    expect(mock.stats.lastBody).toMatchObject({ max_tokens: 50, temperature: 0.1 });
    expect(seen).toEqual(['judge:claude-down:failed', 'judge:claude:success']);
  });

  it('streams Gemini SSE as OpenAI chunks, failing over from a slow first token, with usage last', async () => {
    const stream = await chat.openStream(
      input('gemini_slow', { stream: true, fallbacks: ['gemini'], stream_options: { include_usage: true } }),
    );
    const out = collector();
    await stream.relay(out.sink);
    expect(stream.provider).toBe('gemini');
    expect(out.text()).toBe('Mock answer from gemini-mock: translate me');
    expect(out.chunks.map((c) => c.finishReason).filter(Boolean)).toEqual(['stop']);
    expect(out.chunks.at(-1)?.usage?.outputTokens).toBeGreaterThan(0);
    expect(out.ending()).toBe('done');
    expect(seen.slice(-2)).toEqual(['null:gemini_slow:failed', 'null:gemini:success']);
  });

  it('streams Anthropic SSE as it arrives; a cut after content ends with an error and counts as a failure', async () => {
    const ok = await chat.openStream(input('claude', { stream: true }));
    const whole = collector();
    await ok.relay(whole.sink);
    expect(whole.text()).toBe('Mock answer from claude-mock: translate me');
    expect(whole.chunks[0]?.json.model).toBe('claude-mock');
    expect(whole.ending()).toBe('done');
    const cut = await chat.openStream(input('claude_cut', { stream: true }));
    const partial = collector();
    await cut.relay(partial.sink);
    expect(partial.text()).toBe('one two ');
    expect(partial.chunks.some((c) => c.finishReason)).toBe(false);
    expect(partial.ending()).toBe('AI_PROVIDER_UNAVAILABLE');
    expect(seen.at(-1)).toBe('null:claude_cut:failed');
    const states = await runtime.profiles();
    expect(states.providers.find((p) => p.provider === 'claude_cut')?.circuit).toBe('open');
  });
});

describe('how answers end', () => {
  let mock: MockProvider;
  let runtime: AiRuntime;
  let chat: ChatCompletions;
  const seen: string[] = [];
  const latencies: number[] = [];
  beforeAll(async () => {
    ({ mock, runtime, chat } = await kindRuntime(
      {
        'claude-refusal': { text: 'I can start, but', finishReason: 'content_filter' },
        'gemini-safety': { text: 'Partial text', finishReason: 'content_filter' },
        'oai-no-finish': { omitFinish: true, text: 'cut short' },
        'oai-hold': { holdAfterFinish: true, text: 'all of it' },
        'gemini-hold': { holdAfterFinish: true, text: 'all of it' },
        'oai-slow-stream': { chunkDelayMs: 150, text: 'one two three four five six' },
      },
      [
        ['CLAUDE_REFUSAL', 'anthropic', 'claude-refusal'],
        ['GEMINI_SAFETY', 'gemini', 'gemini-safety'],
        ['OAI_NO_FINISH', 'openai', 'oai-no-finish'],
        ['OAI_HOLD', 'openai', 'oai-hold'],
        ['GEMINI_HOLD', 'gemini', 'gemini-hold'],
        ['OAI_SLOW_STREAM', 'openai', 'oai-slow-stream'],
      ],
      { AI_RUNTIME_STREAM_IDLE_TIMEOUT_MS: '10000' },
      (_role, a) => {
        seen.push(`${a.provider}:${a.status}`);
        latencies.push(a.latencyMs ?? -1);
      },
    ));
  });
  afterAll(async () => {
    await runtime?.close();
    await mock?.close();
  });

  it('a whole answer cut short by a refusal or a safety stop says content_filter, not stop', async () => {
    for (const model of ['claude_refusal', 'gemini_safety']) {
      const answer = await chat.complete(input(model));
      const choice = (
        answer.completion.body.choices as { finish_reason: string; message: { content: string } }[]
      )[0];
      expect(choice?.finish_reason, model).toBe('content_filter');
      expect(choice?.message.content, model).not.toBe('');
    }
  });

  it('[DONE] before any finish_reason: an error at the end, and the attempt counts as failed', async () => {
    const stream = await chat.openStream(input('oai_no_finish', { stream: true }));
    const out = collector();
    await stream.relay(out.sink);
    expect(out.text()).toBe('cut short');
    expect(out.ending()).toBe('AI_PROVIDER_BAD_RESPONSE');
    expect(seen.at(-1)).toBe('oai_no_finish:failed');
  });

  it('after every finish_reason, an upstream that stays open is finished at once as a success (not at the idle limit)', async () => {
    for (const model of ['oai_hold', 'gemini_hold']) {
      const started = Date.now();
      const stream = await chat.openStream(
        input(model, { stream: true, stream_options: { include_usage: true } }),
      );
      const out = collector();
      await stream.relay(out.sink);
      expect(out.text(), model).toBe('all of it');
      expect(out.ending(), model).toBe('done');
      expect(
        out.chunks.some((c) => c.usage),
        model,
      ).toBe(true);
      expect(seen.at(-1), model).toBe(`${model}:success`);
      // Well before the 10 s idle limit: the grace after a finish is short.
      expect(Date.now() - started, model).toBeLessThan(6000);
    }
  });

  it("a streamed attempt's latency is its time to the first token, not the stream's length", async () => {
    const opened = Date.now();
    const stream = await chat.openStream(input('oai_slow_stream', { stream: true }));
    const out = collector();
    const started = Date.now();
    await stream.relay(out.sink);
    const total = Date.now() - opened;
    expect(out.ending()).toBe('done');
    // Six words 150 ms apart: the relay took ~750 ms after the first one arrived.
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(seen.at(-1)).toBe('oai_slow_stream:success');
    expect(latencies.at(-1)).toBeGreaterThanOrEqual(0);
    // The five gaps after the first token are not in it, however slow the machine is.
    expect(latencies.at(-1)).toBeLessThanOrEqual(total - 600);
  });
});

describe('tool calls across kinds', () => {
  const tools = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }];
  const request = parseChatInput({
    model: 'x',
    tools,
    tool_choice: 'required',
    messages: [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'weather in Oslo?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'rain' },
    ],
  }).request;

  it('Anthropic: tools, tool_use and tool_result blocks, and tool_use back as tool_calls', () => {
    expect(anthropicBodyOf('claude', request)).toMatchObject({
      system: 'sys',
      tools: [{ name: 'weather', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' },
      messages: [
        { role: 'user', content: 'weather in Oslo?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'rain' }] },
      ],
    });
    const reply = anthropicCompletionOf(
      'claude',
      {
        model: 'claude-x',
        stop_reason: 'tool_use',
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Bergen' } }],
        usage: { input_tokens: 5, output_tokens: 7 },
      },
      'claude',
    );
    expect(reply.body).toMatchObject({
      choices: [
        {
          finish_reason: 'tool_calls',
          message: {
            tool_calls: [{ id: 'toolu_1', function: { name: 'weather', arguments: '{"city":"Bergen"}' } }],
          },
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 7 },
    });
  });

  it('Gemini: functionDeclarations, functionCall and functionResponse, and functionCall back as tool_calls', () => {
    expect(geminiBodyOf(request)).toMatchObject({
      systemInstruction: { parts: [{ text: 'sys' }] },
      tools: [{ functionDeclarations: [{ name: 'weather' }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
      contents: [
        { role: 'user', parts: [{ text: 'weather in Oslo?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Oslo' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { content: 'rain' } } }] },
      ],
    });
    const reply = geminiCompletionOf(
      'gemini',
      {
        candidates: [
          { content: { parts: [{ functionCall: { name: 'weather', args: { city: 'Bergen' } } }] } },
        ],
      },
      'gemini-x',
    );
    expect(reply.body).toMatchObject({
      model: 'gemini-x',
      choices: [
        { finish_reason: 'tool_calls', message: { tool_calls: [{ function: { name: 'weather' } }] } },
      ],
    });
  });
  it('custom tool calls and the legacy function API: accepted, and text where a kind has no such block', () => {
    const mixed = parseChatInput({
      model: 'x',
      tools: [...tools, { type: 'custom', custom: { name: 'shell' } }],
      messages: [
        { role: 'user', content: 'list files, then the weather' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_2', type: 'custom', custom: { name: 'shell', input: 'ls' } },
            { id: 'call_3', type: 'function', function: { name: 'weather', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_2', content: 'a.txt' },
        {
          role: 'assistant',
          content: null,
          function_call: { name: 'weather', arguments: '{"city":"Oslo"}' },
        },
        { role: 'function', name: 'weather', content: 'rain' },
      ],
    }).request;
    const anthropic = anthropicBodyOf('claude', mixed);
    expect(anthropic.tools).toEqual([{ name: 'weather', description: '', input_schema: { type: 'object' } }]);
    expect(anthropic.messages).toEqual([
      { role: 'user', content: 'list files, then the weather' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: '[tool call shell(ls)]' },
          { type: 'tool_use', id: 'call_3', name: 'weather', input: {} },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_2', content: 'a.txt' }] },
      { role: 'assistant', content: [{ type: 'text', text: '[tool call weather({"city":"Oslo"})]' }] },
      { role: 'user', content: '[function result weather] rain' },
    ]);
    const gemini = geminiBodyOf(mixed);
    expect(gemini.tools).toEqual([
      { functionDeclarations: [{ name: 'weather', description: '', parameters: { type: 'object' } }] },
    ]);
    expect(gemini.contents).toEqual([
      { role: 'user', parts: [{ text: 'list files, then the weather' }] },
      {
        role: 'model',
        parts: [{ text: '[tool call shell(ls)]' }, { functionCall: { name: 'weather', args: {} } }],
      },
      { role: 'user', parts: [{ functionResponse: { name: 'tool', response: { content: 'a.txt' } } }] },
      { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Oslo' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { content: 'rain' } } }] },
    ]);
    expect(plainMessages(mixed.messages).map((m) => m.content)).toEqual([
      'list files, then the weather',
      '[tool call shell(ls)]\n[tool call weather({})]',
      '[tool result call_2] a.txt',
      '[tool call weather({"city":"Oslo"})]',
      '[function result weather] rain',
    ]);
    // A custom call needs its name; a function message the function's.
    const bad = (message: Record<string, unknown>) => () =>
      parseChatInput({ model: 'x', messages: [message] });
    expect(bad({ role: 'assistant', tool_calls: [{ id: 'c', type: 'custom', custom: {} }] })).toThrow(
      'messages[0].tool_calls[0].custom.name must be a string',
    );
    expect(bad({ role: 'function', content: 'x' })).toThrow("needs the function's name");
    expect(bad({ role: 'assistant', function_call: { name: 'f' } })).toThrow(
      'messages[0].function_call.arguments must be a string',
    );
  });

  it('Gemini: temperature, max_tokens, top_p and stop become generationConfig', () => {
    const body = geminiBodyOf(
      parseChatInput({
        model: 'x',
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 0.2,
        max_tokens: 64,
        top_p: 0.9,
        stop: 'END',
      }).request,
    );
    expect(body.generationConfig).toEqual({
      temperature: 0.2,
      maxOutputTokens: 64,
      topP: 0.9,
      stopSequences: ['END'],
    });
  });

  it('Anthropic stream: a tool_use block becomes a streamed tool call, its partial JSON the arguments', () => {
    const translate = anthropicSseTranslator('claude', 'claude');
    const events: [string, unknown][] = [
      [
        'message_start',
        { type: 'message_start', message: { id: 'msg_1', model: 'claude-x', usage: { input_tokens: 11 } } },
      ],
      [
        'content_block_start',
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 'toolu_9', name: 'weather', input: {} },
        },
      ],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: '{"city":' },
        },
      ],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: '"Oslo"}' },
        },
      ],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      [
        'message_delta',
        { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } },
      ],
      ['message_stop', { type: 'message_stop' }],
    ];
    const chunks: ChatChunk[] = [];
    let done = false;
    for (const [event, data] of events) {
      const out = translate(event, JSON.stringify(data));
      if (Array.isArray(out)) chunks.push(...out);
      else {
        chunks.push(...out.chunks);
        done = out.done;
      }
    }
    expect(done).toBe(true);
    const deltas = chunks.map((c) => (c.json.choices as { delta?: Record<string, unknown> }[])[0]?.delta);
    expect(deltas[1]).toEqual({
      tool_calls: [
        { index: 0, id: 'toolu_9', type: 'function', function: { name: 'weather', arguments: '' } },
      ],
    });
    const args = deltas
      .flatMap((d) => (d?.tool_calls as { function: { arguments?: string } }[] | undefined) ?? [])
      .map((call) => call.function.arguments ?? '')
      .join('');
    expect(JSON.parse(args)).toEqual({ city: 'Oslo' });
    expect(chunks[1]?.content).toBe(true); // a tool call counts as content: failover stops there
    expect(chunks.map((c) => c.finishReason).filter(Boolean)).toEqual(['tool_calls']);
    expect(chunks.at(-1)?.usage).toEqual({ inputTokens: 11, outputTokens: 9 });
    expect(chunks.every((c) => c.json.model === 'claude-x')).toBe(true);
  });

  it('Gemini stream: functionCall parts become tool calls and the finish says tool_calls', () => {
    const translate = geminiSseTranslator('gemini', 'gemini');
    const out = translate(
      undefined,
      JSON.stringify({
        candidates: [
          {
            content: {
              role: 'model',
              parts: [{ functionCall: { name: 'weather', args: { city: 'Oslo' } } }],
            },
            finishReason: 'STOP',
          },
        ],
        usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 6 },
        modelVersion: 'gemini-x',
      }),
    ) as ChatChunk[];
    const deltas = out.map((c) => (c.json.choices as { delta?: Record<string, unknown> }[])[0]?.delta);
    expect(deltas[1]).toEqual({
      tool_calls: [
        {
          index: 0,
          id: 'call_0',
          type: 'function',
          function: { name: 'weather', arguments: '{"city":"Oslo"}' },
        },
      ],
    });
    expect(out.map((c) => c.finishReason).filter(Boolean)).toEqual(['tool_calls']);
    expect(out.at(-1)?.usage).toEqual({ inputTokens: 4, outputTokens: 6 });
  });
});
