import type { CallSignal, ChatMessage, TokenUsage } from './provider.js';

/**
 * The OpenAI chat-completions shapes `/v1/chat/completions` speaks. OpenAI-compatible upstreams get the request as
 * is (model replaced); the Anthropic and Gemini folders translate it both ways.
 */

export interface OpenAiToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/**
 * A tool call in a request's history: a function call (`type` `function` or absent), or another tool type, whose
 * fields sit under its type's key (`{ type: 'custom', custom: { name, input } }`).
 */
export interface RequestToolCall {
  id: string;
  type?: string;
  function?: { name: string; arguments: string };
  [other: string]: unknown;
}

/**
 * A message as a client sends it: content is text, parts (`{ type: 'text', text }`, images…) or null. `function`
 * messages and `function_call` are the legacy function-calling API (results and calls without ids).
 */
export interface OpenAiChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';
  content?: string | Record<string, unknown>[] | null;
  name?: string;
  tool_calls?: RequestToolCall[];
  function_call?: { name: string; arguments: string };
  tool_call_id?: string;
}

/** A history tool call's function name and arguments, or null for another tool type (validated on the way in). */
export function functionCallOf(call: RequestToolCall): { name: string; arguments: string } | null {
  return call.type === undefined || call.type === 'function' ? (call.function ?? null) : null;
}

/**
 * A history tool call (or legacy `function_call`) as text, for kinds that have no such block: text-only adapters,
 * and tool types other than function on Anthropic and Gemini.
 */
export function toolCallText(call: RequestToolCall | { name: string; arguments: string }): string {
  if ('id' in call) {
    const fn = functionCallOf(call);
    if (fn) return `[tool call ${fn.name}(${fn.arguments})]`;
    const body = call[call.type as string] as { name?: unknown; input?: unknown } | undefined;
    const input = typeof body?.input === 'string' ? body.input : JSON.stringify(body?.input ?? '');
    return `[tool call ${String(body?.name)}(${input})]`;
  }
  return `[tool call ${call.name}(${call.arguments})]`;
}

/** A legacy `function` message (a result with no call id to pair it with) as text. */
export function functionResultText(m: OpenAiChatMessage): string {
  return `[function result ${m.name ?? ''}] ${textOfContent(m.content)}`;
}

/** The function tools of a request: the only kind Anthropic and Gemini can declare. */
export function functionTools(params: Readonly<Record<string, unknown>>): unknown[] {
  const tools = params.tools;
  return Array.isArray(tools)
    ? tools.filter((tool) => (tool as { type?: unknown } | null)?.type === 'function')
    : [];
}

/** A validated request: the messages and the standard parameters to pass on (temperature, max_tokens, tools…). */
export interface ChatRequest {
  messages: OpenAiChatMessage[];
  params: Readonly<Record<string, unknown>>;
}

export interface ChatCall {
  /** The role named by the caller's model, or `v1` (deterministic prefix, metrics). */
  role: string;
  request: ChatRequest;
  signal: CallSignal;
  /** Streaming: told about every chunk of bytes from the upstream (the idle watchdog). */
  onBytes?: () => void;
}

/** A complete answer in OpenAI's `chat.completion` shape. */
export interface ChatCompletion {
  body: Record<string, unknown>;
  /** The upstream bytes when `body` is exactly what the upstream sent (sent on without re-serialising). */
  raw: string | null;
  model: string;
  usage: TokenUsage | null;
}

/** One `chat.completion.chunk` of a stream. */
export interface ChatChunk {
  json: Record<string, unknown>;
  /** The `data:` payload as received, or null when the chunk was built by the gateway. */
  raw: string | null;
  /** True when the chunk carries answer text, a refusal or a tool call (what "first token" means). */
  content: boolean;
  finishReason: string | null;
  /** Set on the usage chunk (`choices: []`, `usage: {…}`). */
  usage: TokenUsage | null;
}

/** An open upstream stream. `next()` resolves null at its end and throws ProviderFailure when it breaks. */
export interface ChatStream {
  next(): Promise<ChatChunk | null>;
  /** True when the upstream sent `data: [DONE]`. */
  readonly sawDone: boolean;
  /** Closes the upstream socket; a pending or later `next()` throws `reason`. */
  close(reason: Error): void;
}

/** The text of a message's content (parts joined; non-text parts dropped). */
export function textOfContent(content: OpenAiChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
}

/**
 * Flattens a chat to the plain messages text-only adapters (http, deterministic) take: developer → system, tool
 * results and assistant tool calls as text, so nothing the caller said is silently dropped.
 */
export function plainMessages(messages: readonly OpenAiChatMessage[]): ChatMessage[] {
  return messages.map((m) => {
    const text = textOfContent(m.content);
    if (m.role === 'developer' || m.role === 'system') return { role: 'system', content: text };
    if (m.role === 'tool') return { role: 'user', content: `[tool result ${m.tool_call_id ?? ''}] ${text}` };
    if (m.role === 'function') return { role: 'user', content: functionResultText(m) };
    if (m.role === 'assistant') {
      const calls = (m.tool_calls ?? []).map(toolCallText);
      if (m.function_call) calls.push(toolCallText(m.function_call));
      return { role: 'assistant', content: [text, ...calls].filter(Boolean).join('\n') };
    }
    return { role: 'user', content: text };
  });
}

/** `usage` in OpenAI's shape. */
export function openAiUsage(usage: TokenUsage | null): Record<string, number> | undefined {
  if (!usage) return undefined;
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** A `chat.completion` built by the gateway (translated replies, text-only adapters). */
export function completionBody(
  model: string,
  message: Record<string, unknown>,
  finishReason: string,
  usage: TokenUsage | null,
): Record<string, unknown> {
  return {
    id: `chatcmpl-agw${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
    ...(usage ? { usage: openAiUsage(usage) } : {}),
  };
}

/** A `chat.completion.chunk` built by the gateway (translated streams, replayed answers). */
export function chunkOf(
  base: { id: unknown; created: unknown; model: string },
  delta: Record<string, unknown>,
  finishReason: string | null,
  content: boolean,
): ChatChunk {
  return {
    json: {
      id: base.id,
      object: 'chat.completion.chunk',
      created: base.created,
      model: base.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    },
    raw: null,
    content,
    finishReason,
    usage: null,
  };
}

/** The usage chunk (`choices: []`) sent last when the client asked for `stream_options.include_usage`. */
export function usageChunkOf(
  base: { id: unknown; created: unknown; model: string },
  usage: TokenUsage,
): ChatChunk {
  return {
    json: {
      id: base.id,
      object: 'chat.completion.chunk',
      created: base.created,
      model: base.model,
      choices: [],
      usage: openAiUsage(usage),
    },
    raw: null,
    content: false,
    finishReason: null,
    usage,
  };
}
