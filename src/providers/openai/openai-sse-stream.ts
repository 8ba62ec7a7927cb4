import type { ChatChunk, ChatStream } from '../chat-completion.js';
import { badResponse, failureFromStatus, failureFromTransport } from '../failure-classification.js';
import type { CallSignal } from '../provider.js';
import { pick, tokenCount } from '../upstream-client.js';
import { describeOpenAiError } from './openai-adapter.js';

type Body = AsyncIterable<Buffer> & { destroy(error?: Error): unknown; dump?(): Promise<void> };

/** Reads one `chat.completion.chunk` payload; throws the classified failure for an error event or bad JSON. */
export function parseOpenAiChunk(provider: string, data: string, raw: string | null = data): ChatChunk {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw badResponse(provider, `malformed stream chunk: ${data.slice(0, 80)}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw badResponse(provider, 'a stream chunk is not a JSON object');
  const error = pick(json, 'error');
  if (error !== undefined && error !== null) {
    const status = pick(error, 'code');
    const info = describeOpenAiError(json);
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
  const choices = pick(json, 'choices');
  if (choices !== undefined && !Array.isArray(choices))
    throw badResponse(provider, 'chunk choices is not a list');
  const choice = Array.isArray(choices) ? choices[0] : undefined;
  const delta = pick(choice, 'delta');
  const text = pick(delta, 'content');
  const refusal = pick(delta, 'refusal');
  const tools = pick(delta, 'tool_calls');
  const finish = pick(choice, 'finish_reason');
  const input = tokenCount(pick(json, 'usage', 'prompt_tokens'));
  const output = tokenCount(pick(json, 'usage', 'completion_tokens'));
  return {
    json: json as Record<string, unknown>,
    raw,
    content:
      (typeof text === 'string' && text !== '') ||
      (typeof refusal === 'string' && refusal !== '') ||
      (Array.isArray(tools) && tools.length > 0) ||
      pick(delta, 'function_call') !== undefined,
    finishReason: typeof finish === 'string' ? finish : null,
    usage: input !== undefined && output !== undefined ? { inputTokens: input, outputTokens: output } : null,
  };
}

/**
 * An OpenAI SSE body as a pull stream of chunks. Ends (null) at `data: [DONE]` or when the upstream closes the body;
 * a reset, an abort, an `error` event or a chunk that is not JSON throws a classified failure.
 */
export class OpenAiSseStream implements ChatStream {
  sawDone = false;
  private readonly iterator: AsyncIterator<Buffer>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  /** Parsed chunks not yet returned; a failure is queued behind the chunks that came before it. */
  private readonly queue: (ChatChunk | Error)[] = [];
  private ended = false;
  private closedWith: Error | null = null;

  constructor(
    private readonly provider: string,
    private readonly body: Body,
    private readonly signal: CallSignal,
    private readonly onBytes?: () => void,
  ) {
    this.iterator = body[Symbol.asyncIterator]();
  }

  async next(): Promise<ChatChunk | null> {
    for (;;) {
      if (this.closedWith) throw this.closedWith;
      const queued = this.queue.shift();
      if (queued instanceof Error) throw queued;
      if (queued) return queued;
      if (this.ended) return null;
      let step: IteratorResult<Buffer>;
      try {
        step = await this.iterator.next();
      } catch (error) {
        if (this.closedWith) throw this.closedWith;
        throw failureFromTransport(this.provider, error, this.signal);
      }
      if (this.closedWith) throw this.closedWith;
      if (step.done) {
        this.ended = true;
        // A last event without its blank line still counts; a torn one is malformed.
        const rest = this.buffer.trim();
        this.buffer = '';
        if (rest) this.takeEvent(rest);
        continue;
      }
      this.onBytes?.();
      this.buffer += this.decoder.decode(step.value, { stream: true });
      if (this.buffer.includes('\r')) this.buffer = this.buffer.replace(/\r\n?/g, '\n');
      let index = this.buffer.indexOf('\n\n');
      while (index >= 0 && !this.ended) {
        const block = this.buffer.slice(0, index);
        this.buffer = this.buffer.slice(index + 2);
        this.takeEvent(block);
        index = this.buffer.indexOf('\n\n');
      }
    }
  }

  close(reason: Error): void {
    if (this.closedWith || this.ended) return;
    this.closedWith = reason;
    this.body.destroy();
  }

  private takeEvent(block: string): void {
    let data: string | undefined;
    let event: string | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith('data:')) {
        const value = line.slice(line.charCodeAt(5) === 32 ? 6 : 5);
        data = data === undefined ? value : `${data}\n${value}`;
      } else if (line.startsWith('event:')) event = line.slice(6).trim();
    }
    if (data === undefined) return; // comment or keep-alive
    if (data.trim() === '[DONE]') {
      this.sawDone = true;
      this.ended = true;
      // Whatever follows [DONE] is not ours to read: let the connection go back to the pool.
      this.body.dump?.().catch(() => undefined);
      return;
    }
    try {
      const chunk = parseOpenAiChunk(this.provider, data);
      if (event === 'error') throw badResponse(this.provider, `error event: ${data.slice(0, 200)}`);
      this.queue.push(chunk);
    } catch (error) {
      this.queue.push(error as Error);
      this.ended = true;
      this.body.destroy();
    }
  }
}
