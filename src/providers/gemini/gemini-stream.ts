import { type ChatChunk, chunkOf, usageChunkOf } from '../chat-completion.js';
import { badResponse, contentPolicyFailure, failureFromStatus } from '../failure-classification.js';
import type { SseTranslator } from '../sse-chat-stream.js';
import { pick, tokenCount } from '../upstream-client.js';
import { describeGeminiError } from './gemini-adapter.js';
import { geminiFinishReason } from './gemini-chat.js';

/**
 * `streamGenerateContent?alt=sse` events (each a partial GenerateContentResponse) as OpenAI chunks: text parts as
 * content, functionCall parts as tool_calls, finishReason as finish_reason, usageMetadata as the usage chunk.
 * Gemini has no end marker: the stream ends when the body does (after the event with the finishReason).
 */
export function geminiSseTranslator(provider: string, fallbackModel: string): SseTranslator {
  const base = { id: 'chatcmpl-agw', created: Math.floor(Date.now() / 1000), model: fallbackModel };
  let started = false;
  let tool = -1;
  return (_event, data) => {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw badResponse(provider, `malformed stream event: ${data.slice(0, 80)}`);
    }
    if (pick(json, 'error') !== undefined) {
      const status = pick(json, 'error', 'code');
      const info = describeGeminiError(json);
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
    const blockReason = pick(json, 'promptFeedback', 'blockReason');
    if (typeof blockReason === 'string') {
      throw contentPolicyFailure(provider, `blocked the request (promptFeedback.blockReason ${blockReason})`);
    }
    const version = pick(json, 'modelVersion');
    if (typeof version === 'string' && version) base.model = version;
    const out: ChatChunk[] = [];
    if (!started) {
      started = true;
      out.push(chunkOf(base, { role: 'assistant', content: '' }, null, false));
    }
    const candidate = pick(json, 'candidates', 0);
    const parts = pick(candidate, 'content', 'parts');
    for (const part of Array.isArray(parts) ? parts : []) {
      const text = pick(part, 'text');
      const call = pick(part, 'functionCall');
      if (typeof text === 'string' && text !== '' && pick(part, 'thought') !== true) {
        out.push(chunkOf(base, { content: text }, null, true));
      } else if (call !== undefined) {
        tool += 1;
        const delta = {
          tool_calls: [
            {
              index: tool,
              id: `call_${tool}`,
              type: 'function',
              function: { name: pick(call, 'name'), arguments: JSON.stringify(pick(call, 'args') ?? {}) },
            },
          ],
        };
        out.push(chunkOf(base, delta, null, true));
      }
    }
    const finish = pick(candidate, 'finishReason');
    if (typeof finish === 'string') {
      const reason = tool >= 0 ? 'tool_calls' : geminiFinishReason(finish);
      out.push(chunkOf(base, {}, reason, false));
      const input = tokenCount(pick(json, 'usageMetadata', 'promptTokenCount'));
      const output = tokenCount(pick(json, 'usageMetadata', 'candidatesTokenCount')) ?? 0;
      if (input !== undefined) out.push(usageChunkOf(base, { inputTokens: input, outputTokens: output }));
    }
    return out;
  };
}
