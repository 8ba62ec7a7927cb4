import type { ChatCall, ChatCompletion, ChatStream } from '../chat-completion.js';
import { badResponse, contentPolicyFailure, type ErrorBodyInfo } from '../failure-classification.js';
import type {
  ProviderAdapter,
  ProviderCall,
  ProviderFailure,
  ProviderReply,
  ProviderTarget,
} from '../provider.js';
import { SseChatStream } from '../sse-chat-stream.js';
import { pick, replyOf, tokenCount, type UpstreamClient } from '../upstream-client.js';
import { geminiBodyOf, geminiCompletionOf } from './gemini-chat.js';
import { geminiSseTranslator } from './gemini-stream.js';

/** Reads Google's `{ error: { code, message, status } }`. */
export function describeGeminiError(json: unknown): ErrorBodyInfo {
  const status = pick(json, 'error', 'status');
  const message = pick(json, 'error', 'message');
  return {
    reason: typeof status === 'string' ? status : null,
    message: typeof message === 'string' ? message : null,
  };
}

export const blockedFinishReasons: ReadonlySet<string> = new Set([
  'SAFETY',
  'PROHIBITED_CONTENT',
  'BLOCKLIST',
  'SPII',
  'RECITATION',
]);

function contentPolicy(provider: string, why: string): ProviderFailure {
  return contentPolicyFailure(provider, `blocked the request (${why})`);
}

/** Extracts text parts, model version and usageMetadata; safety blocks become content-policy failures. */
export function parseGeminiResponse(provider: string, json: unknown, fallbackModel: string): ProviderReply {
  const blockReason = pick(json, 'promptFeedback', 'blockReason');
  if (typeof blockReason === 'string')
    throw contentPolicy(provider, `promptFeedback.blockReason ${blockReason}`);
  const candidate = pick(json, 'candidates', 0);
  const parts = pick(candidate, 'content', 'parts');
  const output = Array.isArray(parts)
    ? parts
        .filter((part) => typeof pick(part, 'text') === 'string' && pick(part, 'thought') !== true)
        .map((part) => pick(part, 'text') as string)
        .join('')
    : '';
  if (output.trim() === '') {
    const finish = pick(candidate, 'finishReason');
    if (typeof finish === 'string' && blockedFinishReasons.has(finish)) {
      throw contentPolicy(provider, `finishReason ${finish}`);
    }
    throw badResponse(provider, 'no candidates[0].content.parts text');
  }
  const input = tokenCount(pick(json, 'usageMetadata', 'promptTokenCount'));
  // Gemini omits candidatesTokenCount when the answer is empty of tokens: count it as 0.
  const out =
    input === undefined ? undefined : (tokenCount(pick(json, 'usageMetadata', 'candidatesTokenCount')) ?? 0);
  return replyOf(output, pick(json, 'modelVersion'), fallbackModel, input, out);
}

/** Google Gemini `models/{model}:generateContent`; the endpoint is the API base URL. */
export class GeminiAdapter implements ProviderAdapter {
  readonly kind = 'gemini' as const;

  constructor(private readonly client: UpstreamClient) {}

  async complete(target: ProviderTarget, call: ProviderCall): Promise<ProviderReply> {
    const system = call.messages.filter((m) => m.role === 'system').map((m) => ({ text: m.content }));
    const body: Record<string, unknown> = {
      contents: call.messages
        .filter((m) => m.role !== 'system')
        .map((m) => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: [{ text: m.content }] })),
    };
    if (system.length > 0) body.systemInstruction = { parts: system };
    if (call.maxOutputTokens !== undefined) body.generationConfig = { maxOutputTokens: call.maxOutputTokens };
    const headers: Record<string, string> = {};
    if (target.apiKey) headers['x-goog-api-key'] = target.apiKey;
    const res = await this.client.postJson(
      target.provider,
      generateContentUrl(target),
      headers,
      body,
      call.signal,
      describeGeminiError,
    );
    return parseGeminiResponse(target.provider, res.json, target.model);
  }

  /** `/v1`: the OpenAI request translated to generateContent and the reply back to `chat.completion`. */
  async chat(target: ProviderTarget, call: ChatCall): Promise<ChatCompletion> {
    const headers: Record<string, string> = {};
    if (target.apiKey) headers['x-goog-api-key'] = target.apiKey;
    const res = await this.client.postJson(
      target.provider,
      generateContentUrl(target),
      headers,
      geminiBodyOf(call.request),
      call.signal,
      describeGeminiError,
    );
    return { ...geminiCompletionOf(target.provider, res.json, target.model), raw: null };
  }

  /** `/v1` streaming: `streamGenerateContent?alt=sse` translated to OpenAI chunks as it arrives. */
  async chatStream(target: ProviderTarget, call: ChatCall): Promise<ChatStream> {
    const headers: Record<string, string> = {};
    if (target.apiKey) headers['x-goog-api-key'] = target.apiKey;
    const url = generateContentUrl(target).replace(/:generateContent$/, ':streamGenerateContent?alt=sse');
    const res = await this.client.postStream(
      target.provider,
      url,
      headers,
      geminiBodyOf(call.request),
      call.signal,
      describeGeminiError,
    );
    const translate = geminiSseTranslator(target.provider, target.model);
    return new SseChatStream(target.provider, res.body, call.signal, translate, call.onBytes);
  }
}

/** `<base>/v1beta/models/<model>:generateContent` (a base already ending in a version is kept). */
function generateContentUrl(target: ProviderTarget): string {
  const base = (target.endpoint ?? '').replace(/\/+$/, '');
  const prefix = /\/v1(beta|alpha)?$/.test(base) ? base : `${base}/v1beta`;
  return `${prefix}/models/${encodeURIComponent(target.model)}:generateContent`;
}
