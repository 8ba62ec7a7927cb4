import {
  type ChatRequest,
  completionBody,
  functionCallOf,
  functionResultText,
  functionTools,
  type OpenAiChatMessage,
  type OpenAiToolCall,
  textOfContent,
  toolCallText,
} from '../chat-completion.js';
import { badResponse, contentPolicyFailure } from '../failure-classification.js';
import type { TokenUsage } from '../provider.js';
import { pick, tokenCount } from '../upstream-client.js';

const defaultMaxTokens = 1024;

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return {};
  }
}

function messageOf(m: OpenAiChatMessage): Record<string, unknown> {
  // Legacy function results carry no call id to pair with a tool_use block: they go as text.
  if (m.role === 'function') return { role: 'user', content: functionResultText(m) };
  if (m.role === 'tool') {
    return {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: m.tool_call_id ?? '', content: textOfContent(m.content) },
      ],
    };
  }
  if (m.role === 'assistant' && (m.tool_calls?.length || m.function_call)) {
    const text = textOfContent(m.content);
    return {
      role: 'assistant',
      content: [
        ...(text ? [{ type: 'text', text }] : []),
        // Function calls become tool_use blocks; other tool types and the legacy function_call have none: text.
        ...(m.tool_calls ?? []).map((call) => {
          const fn = functionCallOf(call);
          return fn
            ? { type: 'tool_use', id: call.id, name: fn.name, input: parseArguments(fn.arguments) }
            : { type: 'text', text: toolCallText(call) };
        }),
        ...(m.function_call ? [{ type: 'text', text: toolCallText(m.function_call) }] : []),
      ],
    };
  }
  return { role: m.role === 'assistant' ? 'assistant' : 'user', content: textOfContent(m.content) };
}

function toolChoiceOf(choice: unknown): unknown {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  const name = pick(choice, 'function', 'name');
  return typeof name === 'string' ? { type: 'tool', name } : undefined;
}

/** An OpenAI chat request as a Messages API body: system prompt apart, tool calls and results as blocks. */
export function anthropicBodyOf(model: string, request: ChatRequest): Record<string, unknown> {
  const p = request.params;
  const system = request.messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => textOfContent(m.content));
  const body: Record<string, unknown> = {
    model,
    max_tokens: p.max_completion_tokens ?? p.max_tokens ?? defaultMaxTokens,
    messages: request.messages.filter((m) => m.role !== 'system' && m.role !== 'developer').map(messageOf),
  };
  if (system.length > 0) body.system = system.join('\n\n');
  if (p.temperature !== undefined && p.temperature !== null) body.temperature = p.temperature;
  if (p.top_p !== undefined && p.top_p !== null) body.top_p = p.top_p;
  if (p.stop !== undefined && p.stop !== null)
    body.stop_sequences = Array.isArray(p.stop) ? p.stop : [p.stop];
  const tools = functionTools(p);
  if (tools.length > 0) {
    body.tools = tools.map((tool) => ({
      name: pick(tool, 'function', 'name'),
      description: pick(tool, 'function', 'description') ?? '',
      input_schema: pick(tool, 'function', 'parameters') ?? { type: 'object', properties: {} },
    }));
    const choice = toolChoiceOf(p.tool_choice);
    if (choice) body.tool_choice = choice;
  }
  return body;
}

/** Anthropic `stop_reason` → OpenAI `finish_reason` (streamed and whole answers alike). */
export const anthropicFinishReasons: Readonly<Record<string, string>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  pause_turn: 'stop',
  // Text that was cut off by a refusal: the answer is not complete.
  refusal: 'content_filter',
};

/** A Messages API reply as `chat.completion`; a refusal is the provider's content-policy rejection. */
export function anthropicCompletionOf(
  provider: string,
  json: unknown,
  fallbackModel: string,
): { body: Record<string, unknown>; model: string; usage: TokenUsage | null } {
  const blocks = pick(json, 'content');
  const list = Array.isArray(blocks) ? blocks : [];
  const text = list
    .filter((b) => pick(b, 'type') === 'text' && typeof pick(b, 'text') === 'string')
    .map((b) => pick(b, 'text') as string)
    .join('');
  const toolCalls: OpenAiToolCall[] = list
    .filter((b) => pick(b, 'type') === 'tool_use')
    .map((b) => ({
      id: String(pick(b, 'id') ?? ''),
      type: 'function',
      function: { name: String(pick(b, 'name') ?? ''), arguments: JSON.stringify(pick(b, 'input') ?? {}) },
    }));
  const stop = pick(json, 'stop_reason');
  if (text.trim() === '' && toolCalls.length === 0) {
    if (stop === 'refusal') {
      throw contentPolicyFailure(provider, `refused to answer (stop_reason refusal)`);
    }
    throw badResponse(provider, 'no text or tool_use content block');
  }
  const model = typeof pick(json, 'model') === 'string' ? (pick(json, 'model') as string) : fallbackModel;
  const input = tokenCount(pick(json, 'usage', 'input_tokens'));
  const output = tokenCount(pick(json, 'usage', 'output_tokens'));
  const usage =
    input !== undefined && output !== undefined ? { inputTokens: input, outputTokens: output } : null;
  const message: Record<string, unknown> = { role: 'assistant', content: text || null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const finish = typeof stop === 'string' ? (anthropicFinishReasons[stop] ?? 'stop') : 'stop';
  return { body: completionBody(model, message, finish, usage), model, usage };
}
