import {
  type ChatRequest,
  completionBody,
  functionCallOf,
  functionTools,
  type OpenAiToolCall,
  textOfContent,
  toolCallText,
} from '../chat-completion.js';
import type { TokenUsage } from '../provider.js';
import { pick, tokenCount } from '../upstream-client.js';
import { blockedFinishReasons, parseGeminiResponse } from './gemini-adapter.js';

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return {};
  }
}

/** An OpenAI chat request as a generateContent body: tool calls as functionCall, results as functionResponse. */
export function geminiBodyOf(request: ChatRequest): Record<string, unknown> {
  const p = request.params;
  const toolNames = new Map<string, string>();
  const contents: Record<string, unknown>[] = [];
  const system: { text: string }[] = [];
  for (const m of request.messages) {
    const text = textOfContent(m.content);
    if (m.role === 'system' || m.role === 'developer') system.push({ text });
    else if (m.role === 'function') {
      const name = m.name ?? 'function';
      contents.push({ role: 'user', parts: [{ functionResponse: { name, response: { content: text } } }] });
    } else if (m.role === 'tool') {
      const name = toolNames.get(m.tool_call_id ?? '') ?? 'tool';
      contents.push({ role: 'user', parts: [{ functionResponse: { name, response: { content: text } } }] });
    } else if (m.role === 'assistant') {
      // Function calls become functionCall parts (the legacy function_call too); other tool types go as text.
      const calls = (m.tool_calls ?? []).map((call) => {
        const fn = functionCallOf(call);
        if (!fn) return { text: toolCallText(call) };
        toolNames.set(call.id, fn.name);
        return { functionCall: { name: fn.name, args: parseArguments(fn.arguments) } };
      });
      if (m.function_call)
        calls.push({
          functionCall: { name: m.function_call.name, args: parseArguments(m.function_call.arguments) },
        });
      contents.push({ role: 'model', parts: [...(text ? [{ text }] : []), ...calls] });
    } else contents.push({ role: 'user', parts: [{ text }] });
  }
  const body: Record<string, unknown> = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  const config: Record<string, unknown> = {};
  const maxTokens = p.max_completion_tokens ?? p.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) config.maxOutputTokens = maxTokens;
  if (p.temperature !== undefined && p.temperature !== null) config.temperature = p.temperature;
  if (p.top_p !== undefined && p.top_p !== null) config.topP = p.top_p;
  if (p.stop !== undefined && p.stop !== null)
    config.stopSequences = Array.isArray(p.stop) ? p.stop : [p.stop];
  if (Object.keys(config).length > 0) body.generationConfig = config;
  const tools = functionTools(p);
  if (tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: tools.map((tool) => ({
          name: pick(tool, 'function', 'name'),
          description: pick(tool, 'function', 'description') ?? '',
          parameters: pick(tool, 'function', 'parameters'),
        })),
      },
    ];
    const choice = p.tool_choice;
    const forced = pick(choice, 'function', 'name');
    if (choice === 'none') body.toolConfig = { functionCallingConfig: { mode: 'NONE' } };
    else if (choice === 'required') body.toolConfig = { functionCallingConfig: { mode: 'ANY' } };
    else if (typeof forced === 'string')
      body.toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [forced] } };
  }
  return body;
}

/** Gemini `finishReason` → OpenAI `finish_reason`: a safety or recitation stop is the content filter. */
export function geminiFinishReason(finish: string): string {
  if (finish === 'MAX_TOKENS') return 'length';
  return blockedFinishReasons.has(finish) ? 'content_filter' : 'stop';
}

/** A generateContent reply as `chat.completion`; safety blocks stay the provider's content-policy rejection. */
export function geminiCompletionOf(
  provider: string,
  json: unknown,
  fallbackModel: string,
): { body: Record<string, unknown>; model: string; usage: TokenUsage | null } {
  const parts = pick(json, 'candidates', 0, 'content', 'parts');
  const toolCalls: OpenAiToolCall[] = (Array.isArray(parts) ? parts : [])
    .filter((part) => pick(part, 'functionCall') !== undefined)
    .map((part, index) => ({
      id: `call_${index}`,
      type: 'function',
      function: {
        name: String(pick(part, 'functionCall', 'name') ?? ''),
        arguments: JSON.stringify(pick(part, 'functionCall', 'args') ?? {}),
      },
    }));
  if (toolCalls.length > 0) {
    const model =
      typeof pick(json, 'modelVersion') === 'string' ? (pick(json, 'modelVersion') as string) : fallbackModel;
    const input = tokenCount(pick(json, 'usageMetadata', 'promptTokenCount'));
    const output = tokenCount(pick(json, 'usageMetadata', 'candidatesTokenCount')) ?? 0;
    const usage = input === undefined ? null : { inputTokens: input, outputTokens: output };
    const message = { role: 'assistant', content: null, tool_calls: toolCalls };
    return { body: completionBody(model, message, 'tool_calls', usage), model, usage };
  }
  const reply = parseGeminiResponse(provider, json, fallbackModel);
  const finish = pick(json, 'candidates', 0, 'finishReason');
  const reason = typeof finish === 'string' ? geminiFinishReason(finish) : 'stop';
  return {
    body: completionBody(reply.model, { role: 'assistant', content: reply.output }, reason, reply.usage),
    model: reply.model,
    usage: reply.usage,
  };
}
