import type { ChatCall, ChatCompletion, ChatStream } from '../chat-completion.js';
import { badResponse, contentPolicyFailure, type ErrorBodyInfo } from '../failure-classification.js';
import type { ProviderAdapter, ProviderCall, ProviderReply, ProviderTarget } from '../provider.js';
import { SseChatStream } from '../sse-chat-stream.js';
import { joinEndpoint, pick, replyOf, tokenCount, type UpstreamClient } from '../upstream-client.js';
import { anthropicBodyOf, anthropicCompletionOf } from './anthropic-chat.js';
import { anthropicSseTranslator } from './anthropic-stream.js';

/** Messages API version header the adapter speaks. */
export const anthropicVersion = '2023-06-01';
const defaultMaxTokens = 1024;

/** Reads `{ type: "error", error: { type, message } }`. */
export function describeAnthropicError(json: unknown): ErrorBodyInfo {
  const type = pick(json, 'error', 'type');
  const message = pick(json, 'error', 'message');
  return {
    reason: typeof type === 'string' ? type : null,
    message: typeof message === 'string' ? message : null,
  };
}

/** Extracts the text blocks, model and usage of a Messages API reply. */
export function parseAnthropicMessage(provider: string, json: unknown, fallbackModel: string): ProviderReply {
  const content = pick(json, 'content');
  const output = Array.isArray(content)
    ? content
        .filter((block) => pick(block, 'type') === 'text' && typeof pick(block, 'text') === 'string')
        .map((block) => pick(block, 'text') as string)
        .join('')
    : '';
  if (output.trim() === '') {
    if (pick(json, 'stop_reason') === 'refusal') {
      throw contentPolicyFailure(provider, `refused to answer (stop_reason refusal)`);
    }
    throw badResponse(provider, 'no text content block');
  }
  return replyOf(
    output,
    pick(json, 'model'),
    fallbackModel,
    tokenCount(pick(json, 'usage', 'input_tokens')),
    tokenCount(pick(json, 'usage', 'output_tokens')),
  );
}

/** Anthropic Messages API (`POST /v1/messages`). System messages go to the top-level `system` field. */
export class AnthropicAdapter implements ProviderAdapter {
  readonly kind = 'anthropic' as const;

  constructor(private readonly client: UpstreamClient) {}

  async complete(target: ProviderTarget, call: ProviderCall): Promise<ProviderReply> {
    const system = call.messages.filter((m) => m.role === 'system').map((m) => m.content);
    const body: Record<string, unknown> = {
      model: target.model,
      max_tokens: call.maxOutputTokens ?? defaultMaxTokens,
      messages: call.messages
        .filter((m) => m.role !== 'system')
        .map((m) => ({ role: m.role, content: m.content })),
    };
    if (system.length > 0) body.system = system.join('\n\n');
    const headers: Record<string, string> = { 'anthropic-version': anthropicVersion };
    if (target.apiKey) headers['x-api-key'] = target.apiKey;
    const url = joinEndpoint(target.endpoint ?? '', '/v1/messages');
    const res = await this.client.postJson(
      target.provider,
      url,
      headers,
      body,
      call.signal,
      describeAnthropicError,
    );
    return parseAnthropicMessage(target.provider, res.json, target.model);
  }

  /** `/v1`: the OpenAI request translated to the Messages API and the reply back to `chat.completion`. */
  async chat(target: ProviderTarget, call: ChatCall): Promise<ChatCompletion> {
    const headers: Record<string, string> = { 'anthropic-version': anthropicVersion };
    if (target.apiKey) headers['x-api-key'] = target.apiKey;
    const res = await this.client.postJson(
      target.provider,
      joinEndpoint(target.endpoint ?? '', '/v1/messages'),
      headers,
      anthropicBodyOf(target.model, call.request),
      call.signal,
      describeAnthropicError,
    );
    return { ...anthropicCompletionOf(target.provider, res.json, target.model), raw: null };
  }

  /** `/v1` streaming: the Messages API's SSE translated to OpenAI chunks as it arrives. */
  async chatStream(target: ProviderTarget, call: ChatCall): Promise<ChatStream> {
    const headers: Record<string, string> = { 'anthropic-version': anthropicVersion };
    if (target.apiKey) headers['x-api-key'] = target.apiKey;
    const res = await this.client.postStream(
      target.provider,
      joinEndpoint(target.endpoint ?? '', '/v1/messages'),
      headers,
      { ...anthropicBodyOf(target.model, call.request), stream: true },
      call.signal,
      describeAnthropicError,
    );
    const translate = anthropicSseTranslator(target.provider, target.model);
    return new SseChatStream(target.provider, res.body, call.signal, translate, call.onBytes);
  }
}
