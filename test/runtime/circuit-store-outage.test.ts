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

  it('falls back to local circuits: role runs answer, a failing provider opens here, health and a hook say so', async () => {
    const warnings: string[] = [];
    let fallbacks = 0;
    const { runtime } = testRuntime(
      {},
      {
        store: new RedisCircuitStore(redis),
        scripts: { 'local-primary': { failCode: 'AI_PROVIDER_UNAVAILABLE' } },
        extra: {
          logger: { warn: (_o, msg) => warnings.push(msg) },
          onCircuitStoreFallback: () => fallbacks++,
        },
      },
    );
    const first = await runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(first).toMatchObject({ failed: false, selectedProvider: 'local-fallback' });
    expect(first.attempts[0]).toMatchObject({ provider: 'local-primary', status: 'failed' });
    // The failure opened the primary's circuit in this replica: the next run skips it instead of calling it again.
    const second = await runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(second.attempts[0]).toMatchObject({ provider: 'local-primary', status: 'skipped_cooldown' });
    expect(second).toMatchObject({ failed: false, selectedProvider: 'local-fallback' });
    const health = await runtime.health();
    expect(health.circuitStore).toBe('redis');
    // The mirror never loaded: every decision went to the (failing) store and fell back to local circuits.
    expect(health.circuitMirror).toBe('loading');
    expect(health.circuitStoreError).toEqual(expect.any(String));
    expect(health.providers.find((p) => p.provider === 'local-primary')?.circuit).toBe('open');
    expect(fallbacks).toBeGreaterThan(3);
    // Logged once per 10 s, not once per operation.
    expect(warnings).toEqual(["circuit store unavailable; using this replica's local circuits"]);
  });
});
