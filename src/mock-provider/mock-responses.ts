import type { MockError } from './mock-script.js';

/** The API dialect of a request, from its path. */
export type Dialect = 'openai' | 'anthropic' | 'gemini' | 'generic';

export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** A successful non-streaming body in the dialect's documented shape. */
export function successBody(dialect: Dialect, model: string, text: string, promptTokens: number): unknown {
  const completion = text === '' ? 0 : estimateTokens(text);
  switch (dialect) {
    case 'openai':
      return {
        id: `chatcmpl-mock${Date.now().toString(36)}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [
          { index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: 'stop' },
        ],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completion,
          total_tokens: promptTokens + completion,
        },
      };
    case 'anthropic':
      return {
        id: `msg_mock${Date.now().toString(36)}`,
        type: 'message',
        role: 'assistant',
        model,
        content: text === '' ? [] : [{ type: 'text', text }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: promptTokens, output_tokens: completion },
      };
    case 'gemini':
      return {
        candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: {
          promptTokenCount: promptTokens,
          candidatesTokenCount: completion,
          totalTokenCount: promptTokens + completion,
        },
        modelVersion: model,
      };
    case 'generic':
      return { output_text: text, model, usage: { input_tokens: promptTokens, output_tokens: completion } };
  }
}

const wording: Record<
  MockError,
  { message: string; openai: [string, string]; anthropic: string; gemini: string }
> = {
  context_length_exceeded: {
    message:
      "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
    openai: ['invalid_request_error', 'context_length_exceeded'],
    anthropic: 'invalid_request_error',
    gemini: 'INVALID_ARGUMENT',
  },
  content_policy: {
    message: 'Your request was rejected as a result of our safety system (content policy).',
    openai: ['invalid_request_error', 'content_policy_violation'],
    anthropic: 'invalid_request_error',
    gemini: 'INVALID_ARGUMENT',
  },
  rate_limit: {
    message: 'Rate limit reached for requests. Please try again later.',
    openai: ['requests', 'rate_limit_exceeded'],
    anthropic: 'rate_limit_error',
    gemini: 'RESOURCE_EXHAUSTED',
  },
  auth: {
    message: 'Incorrect API key provided.',
    openai: ['invalid_request_error', 'invalid_api_key'],
    anthropic: 'authentication_error',
    gemini: 'UNAUTHENTICATED',
  },
  overloaded: {
    message: 'The server is overloaded. Please try again later.',
    openai: ['server_error', 'overloaded'],
    anthropic: 'overloaded_error',
    gemini: 'UNAVAILABLE',
  },
  server: {
    message: 'The server had an error while processing your request.',
    openai: ['server_error', 'server_error'],
    anthropic: 'api_error',
    gemini: 'INTERNAL',
  },
};

/** An error body in the dialect's documented shape. */
export function errorBody(
  dialect: Dialect,
  status: number,
  error: MockError | undefined,
  override?: string,
): unknown {
  const w = error ? wording[error] : undefined;
  const message = override ?? w?.message ?? `Mock upstream error ${status}`;
  switch (dialect) {
    case 'openai':
      return {
        error: { message, type: w?.openai[0] ?? 'server_error', param: null, code: w?.openai[1] ?? null },
      };
    case 'anthropic':
      return { type: 'error', error: { type: w?.anthropic ?? 'api_error', message } };
    case 'gemini':
      return { error: { code: status, message, status: w?.gemini ?? 'INTERNAL' } };
    case 'generic':
      return { error: { code: error ?? `http_${status}`, message } };
  }
}

/** Gemini reports a blocked prompt as a 200 with `promptFeedback.blockReason`. */
export function geminiBlockedBody(): unknown {
  return {
    promptFeedback: {
      blockReason: 'SAFETY',
      safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH' }],
    },
    usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 },
  };
}

/** One OpenAI `chat.completion.chunk` SSE event. */
export function openAiChunk(
  id: string,
  model: string,
  delta: Record<string, unknown>,
  finish: string | null,
): string {
  const chunk = {
    id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** The SSE events of one streamed answer in a dialect: opening, one per piece of text, the finish, the end. */
export interface StreamEncoder {
  start(): string;
  piece(text: string): string;
  /** The finish (and usage when the dialect carries it there); `completionTokens` counts the pieces sent. */
  finish(reason: string, completionTokens: number): string;
  end(omitDone: boolean): string;
}

const sse = (data: unknown, event?: string) =>
  `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

const anthropicStops: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  content_filter: 'refusal',
};
const geminiFinishes: Record<string, string> = {
  stop: 'STOP',
  length: 'MAX_TOKENS',
  content_filter: 'SAFETY',
};

/** OpenAI chunks + `[DONE]`; Anthropic message/content_block events; Gemini partial responses (no end marker). */
export function streamEncoder(
  dialect: Dialect,
  model: string,
  promptTokens: number,
  includeUsage: boolean,
): StreamEncoder {
  const id = `mock${Date.now().toString(36)}`;
  if (dialect === 'anthropic') {
    return {
      start: () =>
        sse(
          {
            type: 'message_start',
            message: {
              id: `msg_${id}`,
              type: 'message',
              role: 'assistant',
              model,
              content: [],
              usage: { input_tokens: promptTokens, output_tokens: 0 },
            },
          },
          'message_start',
        ) +
        sse(
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
          'content_block_start',
        ),
      piece: (text) =>
        sse(
          { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
          'content_block_delta',
        ),
      finish: (reason, completionTokens) =>
        sse({ type: 'content_block_stop', index: 0 }, 'content_block_stop') +
        sse(
          {
            type: 'message_delta',
            delta: { stop_reason: anthropicStops[reason] ?? reason },
            usage: { output_tokens: completionTokens },
          },
          'message_delta',
        ),
      end: (omitDone) => (omitDone ? '' : sse({ type: 'message_stop' }, 'message_stop')),
    };
  }
  if (dialect === 'gemini') {
    const event = (parts: unknown[], extra: Record<string, unknown> = {}) =>
      sse({ candidates: [{ content: { parts, role: 'model' }, index: 0, ...extra }], modelVersion: model });
    return {
      start: () => '',
      piece: (text) => event([{ text }]),
      finish: (reason, completionTokens) =>
        sse({
          candidates: [
            {
              content: { parts: [], role: 'model' },
              finishReason: geminiFinishes[reason] ?? 'STOP',
              index: 0,
            },
          ],
          usageMetadata: {
            promptTokenCount: promptTokens,
            candidatesTokenCount: completionTokens,
            totalTokenCount: promptTokens + completionTokens,
          },
          modelVersion: model,
        }),
      end: () => '',
    };
  }
  const chunkId = `chatcmpl-${id}`;
  return {
    start: () => openAiChunk(chunkId, model, { role: 'assistant', content: '' }, null),
    piece: (text) => openAiChunk(chunkId, model, { content: text }, null),
    finish: (reason, completionTokens) => {
      const finish = openAiChunk(chunkId, model, {}, reason);
      if (!includeUsage) return finish;
      const usage = {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      };
      return finish + sse({ id: chunkId, object: 'chat.completion.chunk', model, choices: [], usage });
    },
    end: (omitDone) => (omitDone ? '' : sse('[DONE]')),
  };
}

/** A success body with another finish_reason (e.g. `content_filter`), in the dialect's own terms. */
export function withFinish(dialect: Exclude<Dialect, 'generic'>, body: unknown, finish: string): unknown {
  if (dialect === 'anthropic')
    (body as { stop_reason: string }).stop_reason = anthropicStops[finish] ?? finish;
  else if (dialect === 'gemini') {
    const candidate = (body as { candidates: { finishReason: string }[] }).candidates[0];
    if (candidate) candidate.finishReason = geminiFinishes[finish] ?? finish;
  } else {
    const choice = (body as { choices: { finish_reason: string }[] }).choices[0];
    if (choice) choice.finish_reason = finish;
  }
  return body;
}
