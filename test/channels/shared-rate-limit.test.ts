import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedIngest } from '../helpers/ingest-client.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const SECRET = 'shared-rate-secret-0123456789abcdef';

// Two gateway replicas sharing one Redis and one database: the connector's budget is counted once for both.
// Runs whenever REDIS_URL is set; an unreachable Redis makes it fail, never skip.
describe.runIf(Boolean(process.env.REDIS_URL))(
  'per-connector rate limit shared across replicas through Redis',
  () => {
    let first: TestGateway;
    let second: TestGateway;
    // A connector id no other test file uses: Redis state is shared by concurrent test files.
    const connectorId = `rl-${randomBytes(4).toString('hex')}`;

    beforeAll(async () => {
      const env = {
        AGENT_GATEWAY_WEBHOOK_SECRET: SECRET,
        AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_MAX: '4',
        AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_WINDOW_SEC: '3600',
      };
      first = await startTestGateway({ env, redis: true });
      second = await startTestGateway({ env, redis: true, db: first.db });
    });
    afterAll(async () => {
      await second?.close();
      await first?.close();
    });

    it('four requests split over two replicas use up the budget; the fifth on either gets 429 + Retry-After', async () => {
      const send = (t: TestGateway, i: number) =>
        signedIngest(t, { connectorId, eventId: `e-${i}`, channel: 'web-chat' }, { secret: SECRET });
      const statuses = [
        (await send(first, 1)).statusCode,
        (await send(second, 2)).statusCode,
        (await send(first, 3)).statusCode,
        (await send(second, 4)).statusCode,
      ];
      expect(statuses).toEqual([201, 201, 201, 201]);
      const limited = await send(first, 5);
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error).toBe('AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect((await send(second, 6)).statusCode).toBe(429);
    });

    it('a signature bound to its header ids on one replica is refused with other ids on the other', async () => {
      const env = { AGENT_GATEWAY_WEBHOOK_SECRET: SECRET };
      const a = await startTestGateway({ env, redis: true, db: first.db });
      const b = await startTestGateway({ env, redis: true, db: first.db });
      try {
        const body = { channel: 'web-chat', payload: { text: 'captured once' } };
        const timestamp = Math.floor(Date.now() / 1000);
        const key = `sig-${randomBytes(4).toString('hex')}`;
        const send = (t: TestGateway, idempotencyKey: string) =>
          signedIngest(t, body, {
            secret: SECRET,
            timestamp,
            headers: { 'x-gateway-connector-id': `sb-${key}`, 'x-idempotency-key': idempotencyKey },
          });
        expect((await send(a, key)).statusCode).toBe(201);
        expect((await send(b, key)).json()).toMatchObject({ deduplicated: true });
        const forged = await send(b, `${key}-2`);
        expect(forged.statusCode).toBe(401);
        expect(forged.json().error).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');
      } finally {
        await b.close();
        await a.close();
      }
    });
  },
);
