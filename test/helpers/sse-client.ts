import { sseEvents } from '../../src/cli/sse-reader.js';

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
    for await (const parsed of sseEvents(response.body)) {
      events.push({ id: parsed.id, event: parsed.type, data: parsed.data });
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
