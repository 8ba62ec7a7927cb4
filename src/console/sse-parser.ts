/** One Server-Sent Events message. */
export interface StreamMessage {
  id: string | null;
  event: string;
  data: string;
}

/** Parses SSE text incrementally: feed chunks, get complete messages. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | null = null;
  retryMs: number | null = null;

  push(chunk: string): StreamMessage[] {
    this.buffer += chunk;
    const out: StreamMessage[] = [];
    let index = this.buffer.search(/\r\n|\r|\n/);
    while (index >= 0) {
      const line = this.buffer.slice(0, index);
      const newline = this.buffer.startsWith('\r\n', index) ? 2 : 1;
      this.buffer = this.buffer.slice(index + newline);
      const message = this.line(line);
      if (message) out.push(message);
      index = this.buffer.search(/\r\n|\r|\n/);
    }
    return out;
  }

  private line(line: string): StreamMessage | null {
    if (line === '') {
      if (this.data.length === 0) return null;
      const message = { id: this.id, event: this.event || 'message', data: this.data.join('\n') };
      this.data = [];
      this.event = '';
      return message;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'data') this.data.push(value);
    else if (name === 'event') this.event = value;
    else if (name === 'id') this.id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return null;
  }
}
