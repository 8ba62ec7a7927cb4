import { parseSseBlock } from '../../src/cli/cli-context.js';

export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** A minimal SSE reader over fetch: collects events until `until` says stop, the stream ends, or the timeout. */
export async function readSse(
  url: string,
  headers: Record<string, string>,
  until: (events: SseEvent[]) => boolean,
  timeoutMs = 20_000,
): Promise<{ events: SseEvent[]; ended: boolean; status: number }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const events: SseEvent[] = [];
  let ended = false;
  let status = 0;
  try {
    const response = await fetch(url, { headers, signal: controller.signal });
    status = response.status;
    if (!response.body) return { events, ended: true, status };
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let index = buffer.indexOf('\n\n');
      while (index >= 0) {
        const parsed = parseSseBlock(buffer.slice(0, index));
        buffer = buffer.slice(index + 2);
        if (parsed.data) events.push({ id: parsed.id, event: parsed.type, data: parsed.data });
        index = buffer.indexOf('\n\n');
      }
      if (until(events)) {
        controller.abort();
        return { events, ended: false, status };
      }
    }
    ended = true;
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
  } finally {
    clearTimeout(timer);
  }
  return { events, ended, status };
}
