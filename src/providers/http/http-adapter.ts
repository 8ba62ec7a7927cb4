import { badResponse, type ErrorBodyInfo } from '../failure-classification.js';
import type { ProviderAdapter, ProviderCall, ProviderReply, ProviderTarget } from '../provider.js';
import { pick, tokenCount, type UpstreamClient } from '../upstream-client.js';

/** Reads `{ error: "…" }`, `{ error: { code|type, message } }` or `{ message }`. */
export function describeHttpError(json: unknown): ErrorBodyInfo {
  const error = pick(json, 'error');
  if (typeof error === 'string') {
    const message = pick(json, 'message');
    return { reason: error, message: typeof message === 'string' ? message : error };
  }
  const code = pick(error, 'code') ?? pick(error, 'type');
  const message = pick(error, 'message') ?? pick(json, 'message');
  return {
    reason: typeof code === 'string' ? code : null,
    message: typeof message === 'string' ? message : null,
  };
}

function textOf(json: unknown): string {
  const candidates = [pick(json, 'output_text'), pick(json, 'choices', 0, 'message', 'content')];
  for (const value of candidates) if (typeof value === 'string' && value.trim()) return value;
  const parts = pick(json, 'candidates', 0, 'content', 'parts');
  if (Array.isArray(parts)) {
    const text = parts.map((p) => (typeof pick(p, 'text') === 'string' ? pick(p, 'text') : '')).join('');
    if (text.trim()) return text;
  }
  const result = pick(json, 'result');
  return typeof result === 'string' ? result : '';
}

function usageOf(json: unknown): ProviderReply['usage'] {
  const usage = pick(json, 'usage') ?? pick(json, 'usageMetadata');
  const input =
    tokenCount(pick(usage, 'input_tokens')) ??
    tokenCount(pick(usage, 'prompt_tokens')) ??
    tokenCount(pick(usage, 'inputTokens')) ??
    tokenCount(pick(usage, 'promptTokenCount'));
  const output =
    tokenCount(pick(usage, 'output_tokens')) ??
    tokenCount(pick(usage, 'completion_tokens')) ??
    tokenCount(pick(usage, 'outputTokens')) ??
    tokenCount(pick(usage, 'candidatesTokenCount'));
  return input === undefined || output === undefined ? null : { inputTokens: input, outputTokens: output };
}

/** Parses a generic JSON reply: text from output_text | choices[0].message.content | candidates parts | result. */
export function parseHttpReply(provider: string, json: unknown, fallbackModel: string): ProviderReply {
  const output = textOf(json);
  if (output.trim() === '') {
    throw badResponse(provider, 'no output_text, choices[0].message.content, candidates text or result');
  }
  const model = pick(json, 'model');
  return {
    output,
    model: typeof model === 'string' && model ? model : fallbackModel,
    usage: usageOf(json),
  };
}

/** Generic JSON adapter: POSTs `{ model, input, provider, authProfile }` to the endpoint as given. */
export class HttpAdapter implements ProviderAdapter {
  readonly kind = 'http' as const;

  constructor(private readonly client: UpstreamClient) {}

  async complete(target: ProviderTarget, call: ProviderCall): Promise<ProviderReply> {
    const headers: Record<string, string> = {};
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    const input = call.messages.length === 1 ? call.messages[0]!.content : call.messages;
    const body = { model: target.model, input, provider: target.provider, authProfile: target.profile };
    const res = await this.client.postJson(
      target.provider,
      target.endpoint ?? '',
      headers,
      body,
      call.signal,
      describeHttpError,
    );
    return parseHttpReply(target.provider, res.json, target.model);
  }
}
