import type { ChatChunk, ChatStream } from './chat-completion.js';
import { failureFromTransport } from './failure-classification.js';
import type { CallSignal } from './provider.js';

type Body = AsyncIterable<Buffer> & { destroy(error?: Error): unknown; dump?(): Promise<void> };

/**
 * Turns one SSE event (its `event:` name and `data:`) into OpenAI chunks; `{ chunks, done: true }` for the vendor's
 * end-of-stream marker. Throws a classified failure for an error event or a payload it cannot read. May keep state.
 */
export type SseTranslator = (
  event: string | undefined,
  data: string,
) => ChatChunk[] | { chunks: ChatChunk[]; done: true };

/**
 * An SSE body as a pull stream of OpenAI chunks, whatever the vendor (the translator speaks its events). Ends (null)
 * at the end marker or when the upstream closes the body; a reset, an abort, an error event or a payload that is
 * not JSON throws a classified failure, queued behind the chunks that came before it.
 */
export class SseChatStream implements ChatStream {
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
    private readonly translate: SseTranslator,
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
    try {
      const out = this.translate(event, data);
      const chunks = Array.isArray(out) ? out : out.chunks;
      for (const chunk of chunks) this.queue.push(chunk);
      if (!Array.isArray(out)) {
        this.sawDone = true;
        this.ended = true;
        // Whatever follows the end marker is not ours to read: let the connection go back to the pool.
        this.body.dump?.().catch(() => undefined);
      }
    } catch (error) {
      this.queue.push(error as Error);
      this.ended = true;
      this.body.destroy();
    }
  }
}
