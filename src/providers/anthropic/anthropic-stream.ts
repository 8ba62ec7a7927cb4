import { type ChatChunk, chunkOf, usageChunkOf } from '../chat-completion.js';
import { badResponse, failureFromStatus } from '../failure-classification.js';
import type { SseTranslator } from '../sse-chat-stream.js';
import { pick, tokenCount } from '../upstream-client.js';
import { describeAnthropicError } from './anthropic-adapter.js';
import { anthropicFinishReasons } from './anthropic-chat.js';

/** Anthropic's streamed error types as the HTTP status they stand for (classification reads the status). */
const errorStatus: Record<string, number> = {
  overloaded_error: 529,
  rate_limit_error: 429,
  api_error: 500,
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
};

/**
 * Messages API events (`message_start`, `content_block_*`, `message_delta`, `message_stop`) as OpenAI chunks: text
 * deltas as content, tool_use blocks as tool_calls with streamed arguments, the stop reason as finish_reason, and a
 * usage chunk at `message_stop`, which is the end marker.
 */
export function anthropicSseTranslator(provider: string, fallbackModel: string): SseTranslator {
  const base = { id: 'chatcmpl-agw', created: Math.floor(Date.now() / 1000), model: fallbackModel };
  let input: number | undefined;
  let output: number | undefined;
  let tool = -1;
  return (event, data) => {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw badResponse(provider, `malformed stream event: ${data.slice(0, 80)}`);
    }
    const type = event ?? pick(json, 'type');
    const out: ChatChunk[] = [];
    switch (type) {
      case 'message_start': {
        const model = pick(json, 'message', 'model');
        if (typeof model === 'string' && model) base.model = model;
        const id = pick(json, 'message', 'id');
        if (typeof id === 'string') base.id = id;
        input = tokenCount(pick(json, 'message', 'usage', 'input_tokens'));
        out.push(chunkOf(base, { role: 'assistant', content: '' }, null, false));
        break;
      }
      case 'content_block_start': {
        if (pick(json, 'content_block', 'type') === 'tool_use') {
          tool += 1;
          const call = {
            index: tool,
            id: pick(json, 'content_block', 'id'),
            type: 'function',
            function: { name: pick(json, 'content_block', 'name'), arguments: '' },
          };
          out.push(chunkOf(base, { tool_calls: [call] }, null, true));
        }
        break;
      }
      case 'content_block_delta': {
        const text = pick(json, 'delta', 'text');
        const partial = pick(json, 'delta', 'partial_json');
        if (typeof text === 'string' && text !== '') out.push(chunkOf(base, { content: text }, null, true));
        else if (typeof partial === 'string' && partial !== '' && tool >= 0)
          out.push(
            chunkOf(base, { tool_calls: [{ index: tool, function: { arguments: partial } }] }, null, true),
          );
        break;
      }
      case 'message_delta': {
        output = tokenCount(pick(json, 'usage', 'output_tokens')) ?? output;
        const stop = pick(json, 'delta', 'stop_reason');
        if (typeof stop === 'string')
          out.push(chunkOf(base, {}, anthropicFinishReasons[stop] ?? 'stop', false));
        break;
      }
      case 'message_stop': {
        const usage = input !== undefined && output !== undefined;
        return {
          chunks: usage ? [usageChunkOf(base, { inputTokens: input ?? 0, outputTokens: output ?? 0 })] : [],
          done: true,
        };
      }
      case 'error': {
        const info = describeAnthropicError(json);
        throw failureFromStatus(
          provider,
          errorStatus[info.reason ?? ''] ?? 500,
          {},
          {
            reason: info.reason,
            message: `stream error event: ${info.message ?? 'no message'}`,
          },
        );
      }
      default:
        break; // ping, content_block_stop and future event types carry nothing to pass on
    }
    return out;
  };
}
