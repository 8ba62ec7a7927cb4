import { badResponse, type ErrorBodyInfo } from '../failure-classification.js';
import type { ProviderAdapter, ProviderCall, ProviderReply, ProviderTarget } from '../provider.js';
import { pick, replyOf, tokenCount, type UpstreamClient } from '../upstream-client.js';

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

/** The first count found under any of the vendors' usage field names. */
function countOf(usage: unknown, names: string[]): number | undefined {
  for (const name of names) {
    const count = tokenCount(pick(usage, name));
    if (count !== undefined) return count;
  }
  return undefined;
}

/** Parses a generic JSON reply: text from output_text | choices[0].message.content | candidates parts | result. */
export function parseHttpReply(provider: string, json: unknown, fallbackModel: string): ProviderReply {
  const output = textOf(json);
  if (output.trim() === '') {
    throw badResponse(provider, 'no output_text, choices[0].message.content, candidates text or result');
  }
  const usage = pick(json, 'usage') ?? pick(json, 'usageMetadata');
  return replyOf(
    output,
    pick(json, 'model'),
    fallbackModel,
    countOf(usage, ['input_tokens', 'prompt_tokens', 'inputTokens', 'promptTokenCount']),
    countOf(usage, ['output_tokens', 'completion_tokens', 'outputTokens', 'candidatesTokenCount']),
  );
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
