import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from './mock-provider.js';

let mock: MockProvider;
beforeAll(async () => {
  mock = await startMockProvider({
    script: {
      models: {
        'slow-first': { firstTokenDelayMs: 20, text: 'one two three' },
        bad: { malformedChunkAt: 2, text: 'one two three' },
        seq: [{ status: 500 }, { error: 'rate_limit', retryAfter: 3 }, {}],
      },
    },
  });
});
afterAll(async () => mock.close());

function chat(model: string, extra: Record<string, unknown> = {}, signal?: AbortSignal) {
  return fetch(`${mock.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'stream me please' }], ...extra }),
    signal,
  });
}

/** SSE `data:` payloads of a finished stream. */
async function events(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice(6));
}

const contentOf = (data: string[]) =>
  data
    .filter((d) => d !== '[DONE]')
    .map((d) => JSON.parse(d) as { choices: { delta?: { content?: string } }[] })
    .map((c) => c.choices[0]?.delta?.content ?? '')
    .join('');

describe('mock provider: OpenAI SSE streaming', () => {
  it('streams chunks, a finish chunk, usage when asked, then [DONE]', async () => {
    const res = await chat('gpt-stream', { stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const data = await events(res);
    expect(data.at(-1)).toBe('[DONE]');
    expect(contentOf(data)).toBe('Mock answer from gpt-stream: stream me please');
    const usage = JSON.parse(data.at(-2)!) as { usage: { completion_tokens: number } };
    expect(usage.usage.completion_tokens).toBeGreaterThan(0);
  });

  it('delays the first token, and can omit [DONE]', async () => {
    expect(contentOf(await events(await chat('slow-first', { stream: true })))).toBe('one two three');
    const data = await events(await chat('mock-no-done', { stream: true }));
    expect(data).not.toContain('[DONE]');
    expect(contentOf(data)).toContain('Mock answer');
  });

  it('sends a malformed chunk where scripted', async () => {
    const data = await events(await chat('bad', { stream: true }));
    expect(
      data
        .filter((d) => d !== '[DONE]')
        .some((d) => {
          try {
            JSON.parse(d);
            return false;
          } catch {
            return true;
          }
        }),
    ).toBe(true);
  });

  it('cuts the stream (socket destroyed) after two chunks', async () => {
    const res = await chat('mock-stream-cut', { stream: true });
    await expect(res.text()).rejects.toThrow();
  });

  it('stalls after two chunks and keeps the connection open until the client gives up', async () => {
    const controller = new AbortController();
    const res = await chat('mock-stall', { stream: true }, controller.signal);
    const reader = res.body!.getReader();
    let received = '';
    while ((received.match(/"content":"[^"]+"/g) ?? []).length < 2) {
      const { value } = await reader.read();
      received += new TextDecoder().decode(value);
    }
    const aborted = new Promise((resolve) => mock.events.once('client-abort', resolve));
    controller.abort();
    await aborted;
    expect(received).not.toContain('[DONE]');
  });
});

describe('mock provider: scripted by request count', () => {
  it('walks a per-model list, the last entry repeating', async () => {
    expect((await chat('seq')).status).toBe(500);
    const limited = await chat('seq');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect((await chat('seq')).status).toBe(200);
    expect((await chat('seq')).status).toBe(200);
    expect(mock.stats.byModel.seq).toBe(4);
    expect(mock.seen('seq').map((r) => r.outcome)).toEqual(['status 500', 'status 429', 'ok', 'ok']);
    const seen = (await (await fetch(`${mock.url}/__mock/requests`)).json()) as {
      byModel: Record<string, number>;
    };
    expect(seen.byModel.seq).toBe(4);
  });

  it('answers 404 for unknown routes and 400 for malformed JSON', async () => {
    expect((await fetch(`${mock.url}/nope`, { method: 'POST' })).status).toBe(404);
    const res = await fetch(`${mock.url}/v1/messages`, { method: 'POST', body: '{' });
    expect(res.status).toBe(400);
  });
});
