import type { ChatChunk } from '../chat-completion.js';
import { badResponse, failureFromStatus } from '../failure-classification.js';
import type { SseTranslator } from '../sse-chat-stream.js';
import { pick, tokenCount } from '../upstream-client.js';
import { describeOpenAiError } from './openai-adapter.js';

/**
 * Reads one `chat.completion.chunk` payload; throws the classified failure for an error event or bad JSON. `raw` is
 * what may be relayed as is: not a payload that came over several `data:` lines (joined by `\n`, it would break the
 * client's framing as one line), which is re-serialised instead.
 */
export function parseOpenAiChunk(
  provider: string,
  data: string,
  raw: string | null = data.includes('\n') ? null : data,
): ChatChunk {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw badResponse(provider, `malformed stream chunk: ${data.slice(0, 80)}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw badResponse(provider, 'a stream chunk is not a JSON object');
  const error = pick(json, 'error');
  if (error !== undefined && error !== null) {
    const status = pick(error, 'code');
    const info = describeOpenAiError(json);
    throw failureFromStatus(
      provider,
      typeof status === 'number' ? status : 500,
      {},
      {
        reason: info.reason,
        message: `stream error event: ${info.message ?? 'no message'}`,
      },
    );
  }
  const choices = pick(json, 'choices');
  if (choices !== undefined && !Array.isArray(choices))
    throw badResponse(provider, 'chunk choices is not a list');
  const choice = Array.isArray(choices) ? choices[0] : undefined;
  const delta = pick(choice, 'delta');
  const text = pick(delta, 'content');
  const refusal = pick(delta, 'refusal');
  const tools = pick(delta, 'tool_calls');
  const finish = pick(choice, 'finish_reason');
  const input = tokenCount(pick(json, 'usage', 'prompt_tokens'));
  const output = tokenCount(pick(json, 'usage', 'completion_tokens'));
  return {
    json: json as Record<string, unknown>,
    raw,
    content:
      (typeof text === 'string' && text !== '') ||
      (typeof refusal === 'string' && refusal !== '') ||
      (Array.isArray(tools) && tools.length > 0) ||
      pick(delta, 'function_call') !== undefined,
    finishReason: typeof finish === 'string' ? finish : null,
    usage: input !== undefined && output !== undefined ? { inputTokens: input, outputTokens: output } : null,
  };
}

/** OpenAI's SSE: one chunk per event, `[DONE]` at the end; an `error` event is a failure. */
export function openAiSseTranslator(provider: string): SseTranslator {
  return (event, data) => {
    if (data.trim() === '[DONE]') return { chunks: [], done: true };
    const chunk = parseOpenAiChunk(provider, data);
    if (event === 'error') throw badResponse(provider, `error event: ${data.slice(0, 200)}`);
    return [chunk];
  };
}
