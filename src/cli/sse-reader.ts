/** Server-Sent Events parsing shared by `agw orchestrate --follow` and the tests' stream client. */

export interface StreamEvent {
  id: string | undefined;
  type: string | undefined;
  data: string;
}

/** One SSE block (the lines between blank lines) → its id, event type and data. */
export function parseSseBlock(block: string): StreamEvent {
  const event: StreamEvent = { id: undefined, type: undefined, data: '' };
  for (const line of block.split('\n')) {
    if (line.startsWith('id: ')) event.id = line.slice(4);
    else if (line.startsWith('event: ')) event.type = line.slice(7);
    else if (line.startsWith('data: ')) event.data += line.slice(6);
  }
  return event;
}

/** The events (blocks with data; comments and heartbeats skipped) of an SSE response body, in order. */
export async function* sseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<StreamEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let index = buffer.indexOf('\n\n');
    while (index >= 0) {
      const event = parseSseBlock(buffer.slice(0, index));
      buffer = buffer.slice(index + 2);
      if (event.data) yield event;
      index = buffer.indexOf('\n\n');
    }
  }
}
