import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisCircuitStore } from '../../src/runtime/redis-circuit-store.js';
import { testRuntime } from './runtime-fixtures.js';

describe('circuit store outage', () => {
  // Nothing listens on port 1: every Redis command fails at once (no offline queue, no retries).
  const redis = new Redis({
    port: 1,
    host: '127.0.0.1',
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  afterAll(() => redis.disconnect());

  it('fails open: role runs still answer, and health names the store problem', async () => {
    const warnings: string[] = [];
    const { runtime } = testRuntime(
      {},
      { store: new RedisCircuitStore(redis), extra: { logger: { warn: (_o, msg) => warnings.push(msg) } } },
    );
    const result = await runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(result).toMatchObject({ failed: false, selectedProvider: 'local-primary' });
    const health = await runtime.health();
    expect(health.circuitStore).toBe('redis');
    expect(health.circuitStoreError).toEqual(expect.any(String));
    expect(health.summary.health).toBe('ok');
    expect(warnings).toContain('circuit store unavailable; failing open');
  });
});
