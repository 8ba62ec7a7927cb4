import { AppError } from '../errors/app-error.js';
import type { ChatRequest, OpenAiChatMessage } from '../providers/chat-completion.js';

/** A `/v1/chat/completions` body, validated: where to route it and what to send. */
export interface ChatInput {
  model: string;
  fallbacks: string[];
  stream: boolean;
  /** `stream_options.include_usage`: the client wants the usage chunk. */
  includeUsage: boolean;
  request: ChatRequest;
}

/**
 * OpenAI chat-completions parameters passed on to OpenAI-compatible upstreams as given (the Anthropic and Gemini
 * folders translate the ones they have). Any other body key is a 400 naming it, as for every gateway endpoint.
 */
const passThrough = new Set([
  'temperature',
  'top_p',
  'n',
  'stop',
  'max_tokens',
  'max_completion_tokens',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'user',
  'seed',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'functions',
  'function_call',
  'service_tier',
  'store',
  'metadata',
  'reasoning_effort',
  'modalities',
  'audio',
  'prediction',
  'web_search_options',
  'verbosity',
  'prompt_cache_key',
  'safety_identifier',
]);
const gatewayKeys = new Set(['model', 'messages', 'stream', 'stream_options', 'fallbacks']);
const messageRoles = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const maxModelLength = 256;

function invalid(param: string, message: string): AppError {
  return new AppError('GATEWAY_INVALID_REQUEST', message, { details: { param } });
}

function modelName(value: unknown, param: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.trim().length > maxModelLength)
    throw invalid(param, `${param} must be a non-empty string of at most ${maxModelLength} characters.`);
  return value.trim();
}

function checkNumber(
  params: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  integer = false,
) {
  const value = params[key];
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw invalid(key, `${key} must be a number from ${min} to ${max}.`);
  if (integer && !Number.isInteger(value)) throw invalid(key, `${key} must be an integer.`);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** `where` must be an object whose `key` is a string (or absent, when optional). */
function checkString(record: Record<string, unknown>, key: string, where: string, optional = false): void {
  const value = record[key];
  if (optional && (value === undefined || value === null)) return;
  if (typeof value !== 'string') throw invalid(`${where}.${key}`, `${where}.${key} must be a string.`);
}

/**
 * Each content part: an object with a `type`; a text part has its `text`, an image part its `image_url.url`. The
 * translators and the text-only adapters read these, so a part without them is the caller's error (400), not a
 * provider failure that would count against every circuit of the chain.
 */
function checkContentPart(part: unknown, where: string): void {
  if (!isObject(part)) throw invalid(where, `${where} must be an object.`);
  checkString(part, 'type', where);
  if (part.type === 'text') checkString(part, 'text', where);
  if (part.type === 'image_url') {
    if (!isObject(part.image_url))
      throw invalid(`${where}.image_url`, `${where}.image_url must be an object.`);
    checkString(part.image_url, 'url', `${where}.image_url`);
  }
}

/** `{ name, arguments }` of a function call (a history tool call's, or the legacy `function_call`). */
function checkFunctionCall(fn: unknown, where: string): void {
  if (!isObject(fn)) throw invalid(where, `${where} must be an object.`);
  checkString(fn, 'name', where);
  checkString(fn, 'arguments', where);
}

/**
 * A history tool call: an id, and for a function call (`type` `function` or absent) its name and arguments; another
 * tool type (`custom`) has an object under its type's key with at least a name.
 */
function checkToolCall(call: unknown, where: string): void {
  if (!isObject(call)) throw invalid(where, `${where} must be an object.`);
  checkString(call, 'id', where);
  if (call.type === undefined || call.type === 'function') {
    checkFunctionCall(call.function, `${where}.function`);
    return;
  }
  checkString(call, 'type', where);
  const body = call[call.type as string];
  if (!isObject(body)) throw invalid(`${where}.${call.type}`, `${where}.${call.type} must be an object.`);
  checkString(body, 'name', `${where}.${call.type}`);
}

function message(value: unknown, index: number): OpenAiChatMessage {
  const where = `messages[${index}]`;
  if (!isObject(value)) throw invalid(where, `${where} must be an object.`);
  const m = value;
  if (typeof m.role !== 'string' || !messageRoles.has(m.role))
    throw invalid(`${where}.role`, `${where}.role must be one of ${[...messageRoles].join(', ')}.`);
  const content = m.content;
  if (!(content === undefined || content === null || typeof content === 'string' || Array.isArray(content)))
    throw invalid(`${where}.content`, `${where}.content must be a string, a list of parts or null.`);
  if (Array.isArray(content))
    for (const [i, part] of content.entries()) checkContentPart(part, `${where}.content[${i}]`);
  checkString(m, 'name', where, true);
  if (m.role === 'tool' && typeof m.tool_call_id !== 'string')
    throw invalid(`${where}.tool_call_id`, `${where}: a tool message needs tool_call_id.`);
  if (m.role === 'function' && typeof m.name !== 'string')
    throw invalid(`${where}.name`, `${where}: a function message needs the function's name.`);
  if (m.function_call !== undefined && m.function_call !== null)
    checkFunctionCall(m.function_call, `${where}.function_call`);
  if (m.tool_calls !== undefined && m.tool_calls !== null) {
    if (!Array.isArray(m.tool_calls))
      throw invalid(`${where}.tool_calls`, `${where}.tool_calls must be a list.`);
    for (const [i, call] of m.tool_calls.entries()) checkToolCall(call, `${where}.tool_calls[${i}]`);
  }
  return m as unknown as OpenAiChatMessage;
}

/**
 * `tools`: each an object with a `type`; a function tool has `function.name` (what every upstream kind requires and
 * the translators read), an optional string description and an object of parameters. Other tool types pass on.
 */
function checkTools(tools: unknown): void {
  if (tools === undefined || tools === null) return;
  if (!Array.isArray(tools)) throw invalid('tools', 'tools must be a list.');
  for (const [i, tool] of tools.entries()) {
    const where = `tools[${i}]`;
    if (!isObject(tool)) throw invalid(where, `${where} must be an object.`);
    checkString(tool, 'type', where);
    if (tool.type !== 'function') continue;
    if (!isObject(tool.function)) throw invalid(`${where}.function`, `${where}.function must be an object.`);
    checkString(tool.function, 'name', `${where}.function`);
    checkString(tool.function, 'description', `${where}.function`, true);
    const parameters = tool.function.parameters;
    if (parameters !== undefined && parameters !== null && !isObject(parameters))
      throw invalid(`${where}.function.parameters`, `${where}.function.parameters must be an object.`);
  }
}

/** `tool_choice`: none, auto, required, or an object (`{ type: 'function', function: { name } }` and newer forms). */
function checkToolChoice(choice: unknown): void {
  if (choice === undefined || choice === null || isObject(choice)) return;
  if (choice === 'none' || choice === 'auto' || choice === 'required') return;
  throw invalid('tool_choice', 'tool_choice must be "none", "auto", "required" or an object.');
}

/** `stop`: a string or a list of strings (the translators copy it into the vendor's stop sequences). */
function checkStop(stop: unknown): void {
  if (stop === undefined || stop === null || typeof stop === 'string') return;
  if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) return;
  throw invalid('stop', 'stop must be a string or a list of strings.');
}

/** Validates a chat-completions body; every problem is a 400 `GATEWAY_INVALID_REQUEST` naming the parameter. */
export function parseChatInput(body: unknown): ChatInput {
  if (body === null || body === undefined || typeof body !== 'object' || Array.isArray(body))
    throw invalid('body', 'The body must be a JSON object.');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((key) => !passThrough.has(key) && !gatewayKeys.has(key));
  if (unknown.length > 0) throw invalid(unknown[0] as string, `Unknown parameter(s): ${unknown.join(', ')}.`);
  const model = modelName(b.model, 'model');
  if (!Array.isArray(b.messages) || b.messages.length === 0)
    throw invalid('messages', 'messages must be a non-empty list.');
  const messages = b.messages.map(message);
  let fallbacks: string[] = [];
  if (b.fallbacks !== undefined && b.fallbacks !== null) {
    if (!Array.isArray(b.fallbacks) || b.fallbacks.length > 10)
      throw invalid('fallbacks', 'fallbacks must be a list of at most 10 model names.');
    fallbacks = b.fallbacks.map((f, i) => modelName(f, `fallbacks[${i}]`));
  }
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean')
    throw invalid('stream', 'stream must be a boolean.');
  const options = b.stream_options;
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object' || Array.isArray(options))
      throw invalid('stream_options', 'stream_options must be an object.');
    const include = (options as Record<string, unknown>).include_usage;
    if (include !== undefined && typeof include !== 'boolean')
      throw invalid('stream_options.include_usage', 'stream_options.include_usage must be a boolean.');
  }
  const params: Record<string, unknown> = {};
  for (const key of Object.keys(b)) if (passThrough.has(key)) params[key] = b[key];
  checkNumber(params, 'temperature', 0, 2);
  checkNumber(params, 'top_p', 0, 1);
  checkNumber(params, 'max_tokens', 1, 10_000_000, true);
  checkNumber(params, 'max_completion_tokens', 1, 10_000_000, true);
  checkNumber(params, 'n', 1, 128, true);
  checkTools(params.tools);
  checkToolChoice(params.tool_choice);
  checkStop(params.stop);
  return {
    model,
    fallbacks,
    stream: b.stream === true,
    includeUsage: (options as { include_usage?: boolean } | undefined)?.include_usage === true,
    request: { messages, params },
  };
}
