import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedIngest } from '../helpers/ingest-client.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const SECRET = 'redis-down-webhook-secret-0123456789';

describe('Redis unreachable', () => {
  let t: TestGateway;
  beforeAll(async () => {
    // Nothing listens on port 1: the gateway starts degraded rather than failing.
    t = await startTestGateway({
      env: {
        REDIS_URL: 'redis://127.0.0.1:1',
        AGENT_GATEWAY_WEBHOOK_SECRET: SECRET,
        AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES: JSON.stringify({ limited: { rateLimitMax: 2 } }),
      },
    });
  });
  afterAll(async () => t?.close());

  it('ingest keeps working on local rate-limit windows, with a throttled warning, a metric and /ready 200', async () => {
    const send = (i: number) =>
      signedIngest(t, { connectorId: 'limited', eventId: `e-${i}`, channel: 'web-chat' }, { secret: SECRET });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(i)).statusCode);
    // The limit still holds, from this replica's own window.
    expect(statuses).toEqual([201, 201, 429, 429]);
    const metrics = await t.gateway.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('agw_shared_state_fallbacks_total{store="rate_limits"} 4');
    const warnings = t.logs.filter((l) => l.includes('ingest rate limit store unavailable'));
    expect(warnings).toHaveLength(1);
    const ready = await t.gateway.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', redis: 'down' });
  });
});
