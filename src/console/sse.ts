import type { Api } from './api.js';
import { SseParser, type StreamMessage } from './sse-parser.js';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

export interface StreamOptions {
  /** Resume point: events after this seq are delivered. */
  lastEventId: number;
  onMessage(message: StreamMessage): void;
  onState(state: StreamState, detail?: string): void;
  /** True when the stream may end for good (e.g. after `session_closed`); otherwise it reconnects. */
  isFinished(): boolean;
}

/**
 * Follows a Server-Sent Events endpoint with `fetch` (EventSource cannot send `x-admin-token`), resuming with
 * `Last-Event-ID` after a drop until `isFinished()`. Returns a function that stops it.
 */
export function followStream(api: Api, path: string, options: StreamOptions): () => void {
  const controller = new AbortController();
  let lastEventId = options.lastEventId;
  let stopped = false;
  let failures = 0;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      controller.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });

  const run = async () => {
    const parser = new SseParser();
    while (!stopped) {
      options.onState(failures === 0 ? 'connecting' : 'reconnecting');
      try {
        const response = await api.fetch(path, {
          signal: controller.signal,
          headers: { accept: 'text/event-stream', 'last-event-id': String(lastEventId) },
        });
        if (!response.ok || !response.body) {
          const body = (await response.json().catch(() => ({}))) as { message?: string };
          // 4xx will not get better by retrying (unknown session, token revoked).
          if (response.status >= 400 && response.status < 500) {
            options.onState('failed', body.message ?? `stream answered ${response.status}`);
            return;
          }
          throw new Error(body.message ?? `stream answered ${response.status}`);
        }
        options.onState('live');
        failures = 0;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const message of parser.push(value)) {
            if (message.id !== null && /^\d+$/.test(message.id)) lastEventId = Number(message.id);
            options.onMessage(message);
          }
        }
        if (options.isFinished()) {
          options.onState('ended');
          return;
        }
      } catch (error) {
        if (stopped || (error as Error).name === 'AbortError') return;
        failures += 1;
      }
      await wait(Math.min(parser.retryMs ?? 2000, 2000) * Math.min(failures + 1, 5));
    }
  };
  void run();
  return () => {
    stopped = true;
    controller.abort();
  };
}
