import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

/** A local OTLP/HTTP receiver: collects every span the gateway exports (JSON encoding). */
async function startReceiver() {
  const spans: OtlpSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.push(String(req.headers['content-type']));
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const rs of body.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    spans,
    contentTypes,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function attr(span: OtlpSpan, key: string): unknown {
  const value = span.attributes.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  return (
    value.stringValue ??
    value.boolValue ??
    (value.intValue === undefined ? value.doubleValue : Number(value.intValue))
  );
}

describe('OpenTelemetry traces (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let t: TestGateway;
  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestGateway({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, GATEWAY_API_KEYS: 'sk-trace-0123456789abcdef' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('a dry-run exports HTTP → invoke_agent → chat spans with gen_ai.* attributes', async () => {
    const res = await adminRequest(t, 'POST', '/api/admin/ai-runtime/dry-run', {
      role: 'critic',
      prompt: 'trace me',
      simulateFailures: [{ provider: 'local-primary', code: 'AI_PROVIDER_RATE_LIMITED', latencyMs: 5 }],
    });
    expect(res.statusCode).toBe(200);
    const attempts = res.json().result.attempts as { provider: string; status: string }[];
    const v1 = await t.gateway.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { authorization: 'Bearer sk-trace-0123456789abcdef' },
      payload: { model: 'maker', messages: [{ role: 'user', content: 'trace the proxy' }] },
    });
    expect(v1.statusCode).toBe(200);
    await t.gateway.close(); // flushes the batch processor
    expect(receiver.contentTypes.every((c) => c.includes('application/json'))).toBe(true);

    const http = receiver.spans.find((s) => s.name === 'POST /api/admin/ai-runtime/dry-run');
    const agent = receiver.spans.find((s) => s.name === 'invoke_agent critic');
    const chats = receiver.spans.filter(
      (s) => s.name.startsWith('chat ') && s.parentSpanId === agent?.spanId,
    );
    expect(http).toBeDefined();
    expect(attr(http!, 'http.response.status_code')).toBe(200);
    expect(agent).toBeDefined();
    expect(agent!.parentSpanId).toBe(http!.spanId);
    expect(agent!.traceId).toBe(http!.traceId);
    expect(attr(agent!, 'gen_ai.operation.name')).toBe('invoke_agent');
    expect(attr(agent!, 'gen_ai.agent.name')).toBe('critic');
    expect(attr(agent!, 'agw.dry_run')).toBe(true);
    expect(typeof attr(agent!, 'gen_ai.response.model')).toBe('string');
    expect(typeof attr(agent!, 'gen_ai.usage.input_tokens')).toBe('number');
    expect(chats).toHaveLength(attempts.length);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    for (const chat of chats) {
      expect(chat.parentSpanId).toBe(agent!.spanId);
      expect(attr(chat, 'gen_ai.operation.name')).toBe('chat');
      expect(typeof attr(chat, 'gen_ai.request.model')).toBe('string');
      expect(typeof attr(chat, 'gen_ai.provider.name')).toBe('string');
    }
    const failed = chats.find((c) => attr(c, 'agw.attempt.status') === 'failed');
    expect(attr(failed!, 'error.type')).toBe('AI_PROVIDER_RATE_LIMITED');

    // A /v1 call: its attempts are chat spans under the HTTP span, named for the role and provider they went to.
    const proxied = receiver.spans.find((s) => s.name === 'POST /v1/chat/completions');
    expect(proxied).toBeDefined();
    const v1Chats = receiver.spans.filter(
      (s) => s.name.startsWith('chat ') && s.parentSpanId === proxied!.spanId,
    );
    expect(v1Chats).toHaveLength(1);
    expect(v1Chats[0]!.traceId).toBe(proxied!.traceId);
    expect(attr(v1Chats[0]!, 'gen_ai.agent.name')).toBe('maker');
    expect(attr(v1Chats[0]!, 'gen_ai.provider.name')).toBe('local-primary');
    expect(attr(v1Chats[0]!, 'agw.attempt.status')).toBe('success');
    expect(typeof attr(v1Chats[0]!, 'gen_ai.response.model')).toBe('string');
  }, 90_000);

  it('without the endpoint nothing is exported (no tracer is created)', async () => {
    const plain = await startTestGateway();
    const before = receiver.spans.length;
    const res = await adminRequest(plain, 'POST', '/api/admin/ai-runtime/dry-run', {
      role: 'maker',
      prompt: 'p',
    });
    expect(res.statusCode).toBe(200);
    await plain.close();
    expect(receiver.spans.length).toBe(before);
  }, 90_000);
});
