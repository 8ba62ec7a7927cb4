import { badResponse, type ErrorBodyInfo } from '../failure-classification.js';
import type { ProviderAdapter, ProviderCall, ProviderReply, ProviderTarget } from '../provider.js';
import { joinEndpoint, pick, replyOf, tokenCount, type UpstreamClient } from '../upstream-client.js';

/** Reads `{ error: { message, type, code } }` (OpenAI and compatible servers). */
export function describeOpenAiError(json: unknown): ErrorBodyInfo {
  const error = pick(json, 'error');
  if (typeof error === 'string') return { reason: null, message: error };
  const code = pick(error, 'code');
  const type = pick(error, 'type');
  const message = pick(error, 'message');
  return {
    reason: typeof code === 'string' ? code : typeof type === 'string' ? type : null,
    message: typeof message === 'string' ? message : null,
  };
}

/** Extracts text, model and usage from a chat.completion body; throws BAD_RESPONSE when there is no text. */
export function parseOpenAiCompletion(provider: string, json: unknown, fallbackModel: string): ProviderReply {
  const choice = pick(json, 'choices', 0);
  const content = pick(choice, 'message', 'content');
  const output =
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content.map((part) => (typeof pick(part, 'text') === 'string' ? pick(part, 'text') : '')).join('')
        : '';
  if (output.trim() === '') {
    if (pick(choice, 'finish_reason') === 'content_filter') {
      throw badResponse(provider, 'the answer was withheld by the content filter (content_policy)');
    }
    throw badResponse(provider, 'no choices[0].message.content text');
  }
  return replyOf(
    output,
    pick(json, 'model'),
    fallbackModel,
    tokenCount(pick(json, 'usage', 'prompt_tokens')),
    tokenCount(pick(json, 'usage', 'completion_tokens')),
  );
}

/** OpenAI-compatible chat completions (OpenAI, vLLM, Ollama, Groq, OpenRouter…). */
export class OpenAiAdapter implements ProviderAdapter {
  readonly kind = 'openai' as const;

  constructor(private readonly client: UpstreamClient) {}

  async complete(target: ProviderTarget, call: ProviderCall): Promise<ProviderReply> {
    const headers: Record<string, string> = {};
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    const body: Record<string, unknown> = { model: target.model, messages: call.messages };
    if (call.maxOutputTokens !== undefined) body.max_tokens = call.maxOutputTokens;
    const url = joinEndpoint(target.endpoint ?? '', '/chat/completions');
    const res = await this.client.postJson(
      target.provider,
      url,
      headers,
      body,
      call.signal,
      describeOpenAiError,
    );
    return parseOpenAiCompletion(target.provider, res.json, target.model);
  }
}
